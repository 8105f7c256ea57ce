package vm

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"

	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/kernels"
	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// Matrix is the verdict of every program on every kernel.
type Matrix struct {
	Kernels []KernelRun // one per kernel, in the order asked; Results moved into Rows
	Rows    []Row
}

// Row is one program (or one file that did not compile).
type Row struct {
	File    string // the source (absolute) or object path
	Program string // "" when the file did not compile
	Section string
	// Cells holds one result per kernel of Matrix.Kernels; Verdict is ""
	// when that kernel could not run (KernelRun.Err says why).
	Cells []verifier.Result
}

// matrixSource is one file of a matrix run.
type matrixSource struct {
	path   string
	parsed *cparse.File // nil for a prebuilt object
	obj    int          // index into the run's objects, -1 when it did not compile
	err    string       // the compile error
}

// BuildMatrix compiles each file (a .bpf.c, or takes a prebuilt .o) and
// verifies it on every kernel in one boot per kernel.
func BuildMatrix(ctx context.Context, opts Options, vopts verifier.Options, ks []kernels.Kernel, files []string) (*Matrix, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if err := qemuCheck(opts.Qemu); err != nil {
		return nil, err // before compiling anything
	}
	// Compile in parallel (clang dominates a run whose verdicts are cached).
	datas := make([][]byte, len(files))
	errs := make([]error, len(files))
	sources := make([]matrixSource, len(files))
	work := make(chan int)
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), len(files)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				sources[i] = matrixSource{path: files[i], obj: -1}
				if strings.HasSuffix(files[i], ".o") {
					datas[i], errs[i] = os.ReadFile(files[i])
				} else {
					datas[i], sources[i].parsed, errs[i] = verifier.CompileFile(ctx, vopts, files[i])
				}
			}
		}()
	}
	for i := range files {
		work <- i
	}
	close(work)
	wg.Wait()
	var objs []Object
	for i, err := range errs {
		var capErr *verifier.CapabilityError
		switch {
		case errors.As(err, &capErr):
			return nil, err
		case err != nil:
			sources[i].err = err.Error()
		default:
			sources[i].obj = len(objs)
			objs = append(objs, Object{Name: filepath.Base(files[i]), Data: datas[i]})
		}
	}
	runs, err := Run(ctx, opts, ks, objs)
	if err != nil {
		return nil, err
	}
	m := &Matrix{Kernels: runs}
	for _, s := range sources {
		m.Rows = append(m.Rows, s.rows(runs)...)
	}
	for i := range m.Kernels {
		m.Kernels[i].Results = nil
	}
	return m, nil
}

// rows turns one source's per-kernel results into one row per program,
// in program order. Programs absent on a kernel (it could not run) get an
// empty cell.
func (s matrixSource) rows(runs []KernelRun) []Row {
	if s.obj < 0 {
		cells := make([]verifier.Result, len(runs))
		for k := range cells {
			cells[k] = verifier.Result{File: s.path, Verdict: verifier.Failed, Message: s.err, Insn: -1}
		}
		return []Row{{File: s.path, Cells: cells}}
	}
	var rows []Row
	index := map[string]int{}
	for k, run := range runs {
		for _, r := range run.Results[s.obj] {
			i, ok := index[r.Program]
			if !ok {
				i = len(rows)
				index[r.Program] = i
				rows = append(rows, Row{File: s.path, Program: r.Program, Section: r.Section, Cells: make([]verifier.Result, len(runs))})
			}
			r.File = s.path
			if r.Code == CodeUnavailable && r.Line == 0 && s.parsed != nil {
				s.locateCall(&r)
			}
			rows[i].Cells[k] = r
		}
	}
	slices.SortStableFunc(rows, func(a, b Row) int { return strings.Compare(a.Program, b.Program) })
	return rows
}

// locateCall points a missing-kfunc rejection at the first call of that
// kfunc in the program or the static functions it calls (the loader stops
// before the kernel could name an instruction).
func (s matrixSource) locateCall(r *verifier.Result) {
	name := strings.TrimPrefix(r.Message, "kfunc ")
	name, _, _ = strings.Cut(name, " ")
	seen := map[string]bool{}
	var visit func(fn string) bool
	visit = func(fn string) bool {
		f := s.parsed.Func(fn)
		if f == nil || seen[fn] {
			return false
		}
		seen[fn] = true
		for _, c := range f.Calls {
			if c.Name == name {
				r.SourceFile, r.Line, r.Column = c.Span.File, c.Span.Start.Line, c.Span.Start.Col
				return true
			}
		}
		for _, c := range f.Calls {
			if visit(c.Name) {
				return true
			}
		}
		return false
	}
	visit(r.Program)
}
