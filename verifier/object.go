package verifier

import (
	"context"
	"os"
	"path/filepath"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/cparse"
)

// Entry points for verifying on other kernels (package vm): the host
// compiles, a guest kernel loads.

// VerifyObject loads every program of an ELF object into the running
// kernel's verifier, without static findings (the caller may have none:
// it can run inside a VM guest). name labels the results.
func VerifyObject(obj []byte, name string) ([]Result, error) {
	return verifyObject(obj, "", name, nil)
}

// CompileFile compiles one BPF C file with its own flags (the nearest
// compile database, the parser's -I/-D) and returns the object and the
// parsed file. A compile error is a *CompileError; a missing compiler is a
// *CapabilityError.
func CompileFile(ctx context.Context, opts Options, path string) ([]byte, *cparse.File, error) {
	clang, err := clangPath(opts.Clang)
	if err != nil {
		return nil, nil, err
	}
	if opts.Parser == nil {
		opts.Parser = cparse.NewParser(cparse.Options{})
	}
	return compileFile(ctx, opts, clang, path)
}

// compileFile parses path for its flags and compiles it in a temporary
// directory, removed before returning.
func compileFile(ctx context.Context, opts Options, clang, path string) ([]byte, *cparse.File, error) {
	f, err := opts.Parser.Parse(ctx, path, nil)
	if err != nil {
		return nil, nil, err
	}
	tmp, err := makeTempDir()
	if err != nil {
		return nil, nil, err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, strings.TrimSuffix(filepath.Base(path), ".c")+".o")
	if err := compile(ctx, clang, opts.timeout(), f.Flags, path, out); err != nil {
		return nil, f, err
	}
	obj, err := os.ReadFile(out)
	return obj, f, err
}

// ProgramFindings returns the static findings that belong to one program:
// those in its function or the static functions it reaches, and the
// declaration-level ones.
func ProgramFindings(f *cparse.File, prog string, all []analysis.Finding) []analysis.Finding {
	return programFindings(f, prog, all)
}
