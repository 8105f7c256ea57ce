char _license[] __attribute__((section("license"), used)) = "GPL";
