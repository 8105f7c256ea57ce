package lsp

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.lsp.dev/jsonrpc2"
	"go.lsp.dev/protocol"
	"go.lsp.dev/uri"
)

// BenchmarkEditLatency measures edit -> publishDiagnostics latency (cold:
// the first analysis after didOpen; warm: the median over edits) and the
// server's peak RSS, for bpf-lsp and for clangd-19 on the same file and
// flags in the same run. Run with: go test ./lsp -run XXX -bench EditLatency -benchtime 1x
func BenchmarkEditLatency(b *testing.B) {
	bin := filepath.Join(b.TempDir(), "bpf-lsp")
	if out, err := exec.Command("go", "build", "-o", bin, "../cmd/bpf-lsp").CombinedOutput(); err != nil {
		b.Fatalf("build: %v\n%s", err, out)
	}
	inc, _ := filepath.Abs("../testdata/include")
	cases := map[string]func(b *testing.B) (string, string){
		"vmlinux": func(b *testing.B) (string, string) {
			if _, err := exec.LookPath("bpftool"); err != nil {
				b.Skip("bpftool not installed: needed to generate vmlinux.h")
			}
			dir := b.TempDir()
			out, err := exec.Command("bpftool", "btf", "dump", "file", "/sys/kernel/btf/vmlinux", "format", "c").Output()
			if err != nil {
				b.Skipf("bpftool btf dump: %v", err)
			}
			os.WriteFile(filepath.Join(dir, "vmlinux.h"), out, 0o644)
			os.WriteFile(filepath.Join(dir, "compile_flags.txt"), []byte("-target\nbpf\n-I"+inc+"\n"), 0o644)
			src, err := os.ReadFile("testdata/vmlinux.bpf.c")
			if err != nil {
				b.Fatal(err)
			}
			return filepath.Join(dir, "prog.bpf.c"), string(src)
		},
		"2000-lines": func(b *testing.B) (string, string) {
			dir := b.TempDir()
			os.WriteFile(filepath.Join(dir, "compile_flags.txt"), []byte("-target\nbpf\n-I"+inc+"\n"), 0o644)
			return filepath.Join(dir, "big.bpf.c"), bigProgram(2000)
		},
	}
	servers := map[string][]string{"bpf-lsp": {bin, "serve"}, "clangd-19": {"clangd-19", "--log=error", "--background-index=false"}}
	for _, file := range []string{"vmlinux", "2000-lines"} {
		for _, server := range []string{"bpf-lsp", "clangd-19"} {
			b.Run(file+"/"+server, func(b *testing.B) {
				if _, err := exec.LookPath(servers[server][0]); err != nil {
					b.Skipf("%s not installed (apt-get install clangd-19)", servers[server][0])
				}
				path, src := cases[file](b)
				if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
					b.Fatal(err)
				}
				for range b.N {
					cold, warm, rss := measure(b, servers[server], path, src, 15)
					b.ReportMetric(float64(cold.Microseconds())/1000, "cold-ms")
					b.ReportMetric(float64(warm.Microseconds())/1000, "warm-median-ms")
					b.ReportMetric(float64(rss)/1024, "peak-rss-MB")
				}
			})
		}
	}
}

// measure runs one server process, opens the file, then makes edits that
// each change the diagnostics' version, timing didOpen/didChange until the
// matching publishDiagnostics.
func measure(b *testing.B, argv []string, path, src string, edits int) (cold, warmMedian time.Duration, rssKB int) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Dir = filepath.Dir(path)
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = io.Discard
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() {
		cmd.Process.Kill()
		cmd.Wait()
	}()
	published := make(chan int32, 100)
	var mu sync.Mutex
	conn := jsonrpc2.NewConn(jsonrpc2.NewStream(pipe{stdout, stdin}), jsonrpc2.WithCodec(codec{}))
	conn.Go(context.Background(), func(ctx context.Context, req *jsonrpc2.Request) (any, error) {
		if req.Method() == "textDocument/publishDiagnostics" {
			var p protocol.PublishDiagnosticsParams
			if protocol.Unmarshal(req.Params(), &p) == nil {
				if v, ok := p.Version.Get(); ok {
					mu.Lock()
					published <- v
					mu.Unlock()
				}
			}
		}
		return nil, nil
	})
	defer conn.Close()
	ctx := context.Background()
	var init any
	if _, err := conn.Call(ctx, "initialize", map[string]any{"processId": nil, "rootUri": uri.File(filepath.Dir(path)), "capabilities": map[string]any{}}, &init); err != nil {
		b.Fatal(err)
	}
	conn.Notify(ctx, "initialized", map[string]any{})
	u := uri.File(path)
	wait := func(version int32) time.Duration {
		start := time.Now()
		for {
			select {
			case v := <-published:
				if v == version {
					return time.Since(start)
				}
			case <-time.After(120 * time.Second):
				b.Fatalf("%s: no diagnostics for version %d", argv[0], version)
			}
		}
	}
	start := time.Now()
	conn.Notify(ctx, "textDocument/didOpen", map[string]any{"textDocument": map[string]any{"uri": u, "languageId": "c", "version": 1, "text": src}})
	wait(1)
	cold = time.Since(start)
	var warm []time.Duration
	for i := 2; i <= edits+1; i++ {
		text := src + "\n// edit " + strconv.Itoa(i) + "\n"
		t0 := time.Now()
		conn.Notify(ctx, "textDocument/didChange", map[string]any{"textDocument": map[string]any{"uri": u, "version": i},
			"contentChanges": []map[string]any{{"text": text}}})
		wait(int32(i))
		warm = append(warm, time.Since(t0))
	}
	sort.Slice(warm, func(i, j int) bool { return warm[i] < warm[j] })
	status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	for _, l := range strings.Split(string(status), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			rssKB, _ = strconv.Atoi(f[1])
		}
	}
	return cold, warm[len(warm)/2], rssKB
}

type pipe struct {
	io.Reader
	io.WriteCloser
}

// bigProgram generates an n-line program on the project's test header:
// many functions taking and releasing locks around graph operations.
func bigProgram(lines int) string {
	var b strings.Builder
	b.WriteString("#include \"bpf_lsp.h\"\n\nstruct item {\n\tstruct bpf_list_node link;\n\t__u64 value;\n};\n\n")
	b.WriteString("private(L) struct bpf_spin_lock lock;\nprivate(L) struct bpf_list_head head __contains(item, link);\nprivate(L) __u64 count __guarded_by(lock);\n\n")
	for i := 0; strings.Count(b.String(), "\n") < lines-20; i++ {
		fmt.Fprintf(&b, `SEC("tc")
int push_%d(struct __sk_buff *ctx)
{
	struct item *it = bpf_obj_new(typeof(*it));

	if (!it)
		return 0;
	it->value = ctx->len + %d;
	bpf_spin_lock(&lock);
	bpf_list_push_back(&head, &it->link);
	count++;
	bpf_spin_unlock(&lock);
	return 0;
}

`, i, i)
	}
	b.WriteString("char _license[] SEC(\"license\") = \"GPL\";\n")
	return b.String()
}
