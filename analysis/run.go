package analysis

import "github.com/bpf-lsp/bpf-lsp/cparse"

// Run analyses one parsed file. (Placeholder until the checks land: the
// analysis work replaces this file.)
func Run(f *cparse.File) *Result { return &Result{} }

// Rules lists every rule. (Placeholder, see Run.)
func Rules() []*Rule { return nil }
