// This file is not part of package cc's build: equiv_test.go adds it to
// copies of the patched and the pristine cc/v4 sources so that one driver
// (main.go) dumps what each preprocessor produces.

package cc

import (
	"bufio"
	"fmt"
	"io"
)

// EquivDump writes what the preprocessor makes of sources: Preprocess's
// text and errors, then every token the parser would receive with its
// position, separator and spelling, then the errors of that run.
func EquivDump(cfg *Config, sources []Source, w io.Writer) error {
	bw := bufio.NewWriter(w)
	err := Preprocess(cfg, sources, bw)
	fmt.Fprintf(bw, "\n--- Preprocess error: %v\n--- tokens\n", err)
	c, err := newCPP(cfg, newFset(), sources, nil)
	if err != nil {
		return err
	}
	var errs []string
	c.eh = func(msg string, args ...interface{}) { errs = append(errs, fmt.Sprintf(msg, args...)) }
	for c.rune() != eof {
		t := c.shift()
		fmt.Fprintf(bw, "%v %s %q %q\n", t.Position(), runeName(t.Ch), t.Sep(), t.Src())
	}
	fmt.Fprintf(bw, "--- errors\n")
	for _, e := range errs {
		fmt.Fprintln(bw, e)
	}
	return bw.Flush()
}
