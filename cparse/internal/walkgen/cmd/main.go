// Command walkgen writes cparse/walk_gen.go from cc/v4's ast.go:
//
//	go run ./internal/walkgen/cmd ../third_party/cc/ast.go walk_gen.go
package main

import (
	"fmt"
	"os"

	"github.com/bpf-lsp/bpf-lsp/cparse/internal/walkgen"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: walkgen AST.GO OUT.GO")
		os.Exit(2)
	}
	src, err := walkgen.Generate(os.Args[1])
	if err == nil {
		err = os.WriteFile(os.Args[2], src, 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "walkgen:", err)
		os.Exit(1)
	}
}
