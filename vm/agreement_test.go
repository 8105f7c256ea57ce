package vm

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
	"github.com/bpf-lsp/bpf-lsp/internal/testenv"
	"github.com/bpf-lsp/bpf-lsp/kernels"
	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// TestCheckAgreesWithVM: `check --kernel 6.12` and the 6.12 kernel give
// every testdata program the same verdict (one boot for all objects).
// BPF_LSP_AGREE_KERNELS=5.10,6.1,... checks other versions the same way.
// testdata/known-gaps holds the programs the static analysis gets wrong on
// every kernel; they are not part of the claim.
func TestCheckAgreesWithVM(t *testing.T) {
	if _, err := exec.LookPath("qemu-system-x86_64"); err != nil {
		testenv.Skip(t, "qemu-system-x86_64 not installed (apt-get install qemu-system-x86)")
	}
	list := os.Getenv("BPF_LSP_AGREE_KERNELS")
	if list == "" {
		list = "6.12"
	}
	ks, err := kernels.ParseList(list)
	if err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "*.bpf.c"))
	demo, _ := filepath.Glob(filepath.Join("..", "testdata", "demo", "*.bpf.c"))
	files = append(files, demo...)
	for i := range files {
		files[i], _ = filepath.Abs(files[i])
	}
	inc, _ := filepath.Abs(filepath.Join("..", "testdata", "include"))
	parser := cparse.NewParser(cparse.Options{IncludeDirs: []string{inc}})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	if _, _, err := verifier.CompileFile(ctx, verifier.Options{Parser: parser}, files[0]); err != nil {
		if _, ok := err.(*verifier.CapabilityError); ok {
			testenv.Skip(t, "%v", err)
		}
	}
	m, err := BuildMatrix(ctx, Options{}, verifier.Options{Parser: parser}, ks, files)
	if err != nil {
		t.Fatal(err)
	}
	for i, run := range m.Kernels {
		if run.Err != nil {
			t.Fatal(run.Err)
		}
		target, err := kernels.OpenTarget(run.Kernel.Version)
		if err != nil {
			t.Fatal(err)
		}
		agree(ctx, t, parser, m, i, target)
	}
}

// agree compares the static verdict for target with kernel column k.
func agree(ctx context.Context, t *testing.T, parser *cparse.Parser, m *Matrix, k int, target *kernels.Target) {
	version := target.Name
	checked, disagree := 0, 0
	for _, row := range m.Rows {
		cell := row.Cells[k]
		if row.Program == "" || cell.Verdict == verifier.Failed {
			t.Errorf("%s: %s", filepath.Base(row.File), cell.Message)
			continue
		}
		f, err := parser.Parse(ctx, row.File, nil)
		if err != nil {
			t.Fatal(err)
		}
		all := append(analysis.FrontendFindings(f), analysis.ForKernels(f, analysis.Run(f), []*kernels.Target{target})...)
		var firstErr *analysis.Finding
		for _, fd := range verifier.ProgramFindings(f, row.Program, all) {
			if fd.Severity == analysis.SevError {
				firstErr = &fd
				break
			}
		}
		static := verifier.Accept
		if firstErr != nil {
			static = verifier.Reject
		}
		if static != cell.Verdict {
			why := cell.Message
			if firstErr != nil {
				why = firstErr.Code + " " + firstErr.Message
			}
			disagree++
			t.Errorf("%s:%s: check --kernel %s says %s, the %s kernel says %s (%s)", filepath.Base(row.File), row.Program, version, static, version, cell.Verdict, why)
		}
		checked++
	}
	t.Logf("%d programs: check --kernel %s and kernel %s (%s) agree on %d", checked, version, version, m.Kernels[k].Release, checked-disagree)
}
