// Package testenv holds what the tests of several packages share. It
// decides, in one place, what a test does when a capability
// it needs (clang, root, the kernel's BPF syscall, qemu) is absent: it skips
// with the reason, unless BPF_LSP_REQUIRE_KERNEL=1 is set (CI sets it), in
// which case the missing capability is a failure, so CI cannot go green by
// skipping.
package testenv

import (
	"fmt"
	"os"
	"testing"
)

// RequireEnv is the environment variable that turns capability skips into
// failures.
const RequireEnv = "BPF_LSP_REQUIRE_KERNEL"

// Required reports whether missing capabilities must fail tests.
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Skip skips the test because a capability is absent, or fails it when
// capabilities are required.
func Skip(t testing.TB, format string, args ...any) {
	t.Helper()
	reason := fmt.Sprintf(format, args...)
	if Required() {
		t.Fatalf("capability missing (%s=1): %s", RequireEnv, reason)
	}
	t.Skip(reason)
}
