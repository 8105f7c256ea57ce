package realworld

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

// Clang is the compiler the corpus is built with.
const Clang = "clang-19"

// compileTimeout bounds one clang run; the largest selftest takes seconds.
const compileTimeout = 5 * time.Minute

// Build is the outcome of compiling one source.
type Build struct {
	Object string // the .o; "" when clang failed
	Error  string // clang's first error line when it failed
}

// compile builds s into objDir like make would: it reuses the object when
// the command line is unchanged and no dependency (clang's -MD list) is
// newer than it.
func compile(ctx context.Context, s Source, objDir string) Build {
	obj := filepath.Join(objDir, strings.TrimSuffix(filepath.FromSlash(s.Name), ".c")+".o")
	args := append(append([]string(nil), s.Flags...), "-c", s.Path, "-o", obj, "-MD", "-MF", obj+".d")
	stamp := strings.Join(args, "\n")
	if upToDate(obj, stamp, s.Dir) {
		return Build{Object: obj}
	}
	if err := os.MkdirAll(filepath.Dir(obj), 0o755); err != nil {
		return Build{Error: err.Error()}
	}
	os.Remove(obj + ".cmd")
	ctx, cancel := context.WithTimeout(ctx, compileTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, Clang, args...)
	cmd.Dir = s.Dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		os.Remove(obj)
		return Build{Error: firstError(string(out), err)}
	}
	if err := os.WriteFile(obj+".cmd", []byte(stamp), 0o644); err != nil {
		return Build{Error: err.Error()}
	}
	return Build{Object: obj}
}

// upToDate reports whether obj was built by the same command and is newer
// than every file its dependency list names (relative to dir, where clang
// ran).
func upToDate(obj, stamp, dir string) bool {
	old, err := os.ReadFile(obj + ".cmd")
	if err != nil || string(old) != stamp {
		return false
	}
	st, err := os.Stat(obj)
	if err != nil {
		return false
	}
	deps, err := os.ReadFile(obj + ".d")
	if err != nil {
		return false
	}
	for _, dep := range parseDeps(string(deps)) {
		if !filepath.IsAbs(dep) {
			dep = filepath.Join(dir, dep)
		}
		ds, err := os.Stat(dep)
		if err != nil || ds.ModTime().After(st.ModTime()) {
			return false
		}
	}
	return true
}

// parseDeps returns the prerequisites of a make dependency file
// ("obj.o: a.c b.h \" continued lines).
func parseDeps(d string) []string {
	d = strings.ReplaceAll(d, "\\\n", " ")
	_, rest, ok := strings.Cut(d, ": ")
	if !ok {
		return nil
	}
	return strings.Fields(rest)
}

// firstError returns clang's first error line, or the process error.
func firstError(out string, err error) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, "error:") {
			return strings.TrimSpace(l)
		}
	}
	if s := strings.TrimSpace(out); s != "" {
		return strings.SplitN(s, "\n", 2)[0]
	}
	return err.Error()
}

// parallel runs fn(i) for i in [0, n) on at most jobs goroutines.
func parallel(jobs, n int, fn func(i int)) {
	work := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(jobs, n)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				fn(i)
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
}
