package main

import (
	"context"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// checkFiles emits results in file order as each becomes ready (not at
// the end), and while an early file is slow only a window of later files
// is started: memory does not grow with the number of files.
func TestCheckFilesStreamsWithinAWindow(t *testing.T) {
	const n = 60
	window := int64(checkWindow * min(runtime.GOMAXPROCS(0), n))
	release := make(chan struct{})
	var started atomic.Int64
	var firstEmitted atomic.Bool
	emitted := make(chan int, n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		checkFiles(context.Background(), n, func(i int) fileResult {
			started.Add(1)
			switch i {
			case 0:
				<-release
			case n - 1:
				if !firstEmitted.Load() {
					t.Error("the last file started before the first was emitted")
				}
			}
			return fileResult{}
		}, func(i int, r fileResult) {
			if i == 0 {
				firstEmitted.Store(true)
			}
			emitted <- i
		})
	}()
	deadline := time.Now().Add(time.Minute)
	for started.Load() < window && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(20 * time.Millisecond) // a chance to overrun the window, if it could
	if got := started.Load(); got != window {
		t.Errorf("%d files started while the first was running, want the window, %d", got, window)
	}
	select {
	case i := <-emitted:
		t.Fatalf("file %d emitted before file 0", i)
	default:
	}
	close(release)
	for want := range n {
		if got := <-emitted; got != want {
			t.Fatalf("emitted file %d, want %d", got, want)
		}
	}
	<-done
}

// A directory argument takes the files a compile database in or above it
// names with a BPF target, whatever their names (progs/*.c, as the kernel
// selftests build them), and not the user-space files it names.
func TestCheckDirectoryTakesCompileDatabaseFiles(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile("../../testdata/demo/queue.bpf.c")
	hdr, _ := os.ReadFile("../../testdata/include/bpf_lsp.h")
	os.MkdirAll(filepath.Join(dir, "progs"), 0o755)
	os.WriteFile(filepath.Join(dir, "bpf_lsp.h"), hdr, 0o644)
	os.WriteFile(filepath.Join(dir, "progs", "queue.c"), src, 0o644)
	os.WriteFile(filepath.Join(dir, "progs", "loader.c"), src, 0o644) // named without a BPF target: user space
	progs := filepath.Join(dir, "progs")
	// Without a database both read as programs (their SEC marks).
	if code, out, errs := runCmd("check", progs); code != 1 || !strings.Contains(out, "loader.c:") {
		t.Fatalf("without a compile database: exit %d, %s%s; want findings in both files", code, out, errs)
	}
	os.WriteFile(filepath.Join(dir, "compile_commands.json"), []byte(`[
 {"directory": "`+dir+`", "file": "progs/queue.c", "arguments": ["clang", "-g", "-O2", "--target=bpf", "-I.", "-c", "progs/queue.c"]},
 {"directory": "`+dir+`", "file": "progs/loader.c", "arguments": ["cc", "-I.", "-c", "progs/loader.c"]}]`), 0o644)
	code, out, errs := runCmd("check", progs)
	if code != 1 {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if got := findingFiles(out); got != "queue.c" {
		t.Errorf("findings in %v, want queue.c only (with the database's -I):\n%s%s", got, out, errs)
	}
}

// findingFiles lists the base names of the files with findings in check's
// text output, sorted and joined by commas.
func findingFiles(out string) string {
	files := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		files[filepath.Base(strings.SplitN(line, ":", 2)[0])] = true
	}
	var got []string
	for f := range files {
		got = append(got, f)
	}
	sort.Strings(got)
	return strings.Join(got, ",")
}

// A directory argument with -compile-commands takes the files that
// database builds for BPF, though it lies outside the tree and they have
// no BPF mark of their own, and leaves out those it builds as user space,
// though they have one.
func TestCheckDirectoryTakesGivenCompileDatabaseFiles(t *testing.T) {
	dir := t.TempDir()
	src, _ := os.ReadFile("../../testdata/demo/queue.bpf.c")
	hdr, _ := os.ReadFile("../../testdata/include/bpf_lsp.h")
	var unmarked []string // queue.bpf.c without its lines with SEC("...")
	for _, line := range strings.SplitAfter(string(src), "\n") {
		if !strings.Contains(line, "SEC(") {
			unmarked = append(unmarked, line)
		}
	}
	for name, text := range map[string]string{"inc/bpf_lsp.h": string(hdr), "src/foo.c": strings.Join(unmarked, ""), "src/loader.c": string(src),
		"out/compile_commands.json": `[
 {"directory": "` + dir + `/src", "file": "foo.c", "arguments": ["clang", "-target", "bpf", "-I../inc", "-c", "foo.c"]},
 {"directory": "` + dir + `/src", "file": "loader.c", "arguments": ["cc", "-I../inc", "-c", "loader.c"]}]`} {
		os.MkdirAll(filepath.Join(dir, filepath.Dir(name)), 0o755)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	srcDir, db := filepath.Join(dir, "src"), filepath.Join(dir, "out", "compile_commands.json")
	code, out, errs := runCmd("check", srcDir)
	if got := findingFiles(out); code != 1 || got != "loader.c" {
		t.Fatalf("without the database: exit %d, findings in %v; want loader.c only (its SEC marks):\n%s%s", code, got, out, errs)
	}
	code, out, errs = runCmd("check", "-compile-commands", db, srcDir)
	if got := findingFiles(out); code != 1 || got != "foo.c" {
		t.Errorf("with -compile-commands: exit %d, findings in %v; want foo.c only:\n%s%s", code, got, out, errs)
	}
}

// A directory argument finds the programs whose BPF marks are in a project
// header that only the command line's include flags (or the compile
// database it names) reach.
func TestCheckDirectoryFindsHeadersWithCommandLineFlags(t *testing.T) {
	dir := t.TempDir()
	progs, inc := filepath.Join(dir, "progs"), filepath.Join(dir, "inc")
	for _, d := range []string{progs, inc} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	write := func(name, text string) {
		if err := os.WriteFile(name, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(inc, "common.h"), "#define SEC(name) __attribute__((section(name), used))\nchar _license[] SEC(\"license\") = \"GPL\";\n")
	write(filepath.Join(progs, "prog.c"), "#include \"common.h\"\nint add(int x) { return x + 1; }\n")
	flagsFile := filepath.Join(dir, "db", "compile_flags.txt")
	if err := os.Mkdir(filepath.Dir(flagsFile), 0o755); err != nil {
		t.Fatal(err)
	}
	write(flagsFile, "-I"+inc+"\n")

	if code, _, errs := runCmd("check", progs); code != 2 || !strings.Contains(errs, "no BPF programs") {
		t.Fatalf("without the flags: exit %d, %s; want no BPF programs", code, errs)
	}
	for _, flags := range [][]string{{"-I", inc}, {"-iquote", inc}, {"-isystem", inc}, {"-compile-commands", flagsFile}} {
		code, out, errs := runCmd(append(append([]string{"check"}, flags...), progs)...)
		if code != 0 {
			t.Errorf("%v: exit %d, want 0 (prog.c checked, no findings): %s%s", flags, code, out, errs)
		}
	}
}
