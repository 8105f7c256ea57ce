package main

import "io"

// runVerify is replaced by the verifier work.
func runVerify(args []string, stdout, stderr io.Writer) int { return 2 }
