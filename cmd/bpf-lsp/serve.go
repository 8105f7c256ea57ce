package main

import "io"

// runServe is replaced by the language server work.
func runServe(args []string, stdin io.Reader, stdout, stderr io.Writer) int { return 2 }
