// Command equiv is the driver equiv_test.go builds against the patched and
// the pristine cc/v4: it reads jobs (JSON, one per line) on stdin and, for
// each, writes cc.EquivDump of its sources to the job's output file.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"

	"modernc.org/cc/v4"
)

type job struct {
	Predefined      string   // a source named <predefined>, first, when not empty
	Builtin         bool     // cc.Builtin as a source after <predefined>
	IncludePaths    []string // Config.IncludePaths
	SysIncludePaths []string // Config.SysIncludePaths
	Files           []string // sources read from disk
	Out             string   // where the dump goes
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(nil, 1<<20)
	for in.Scan() {
		var j job
		if err := json.Unmarshal(in.Bytes(), &j); err != nil {
			fail(err)
		}
		if err := run(j); err != nil {
			fail(err)
		}
		fmt.Println("ok")
	}
	if err := in.Err(); err != nil {
		fail(err)
	}
}

func run(j job) error {
	cfg := &cc.Config{IncludePaths: j.IncludePaths, SysIncludePaths: j.SysIncludePaths}
	var sources []cc.Source
	if j.Predefined != "" {
		sources = append(sources, cc.Source{Name: "<predefined>", Value: j.Predefined})
	}
	if j.Builtin {
		sources = append(sources, cc.Source{Name: "<builtin>", Value: cc.Builtin})
	}
	for _, f := range j.Files {
		sources = append(sources, cc.Source{Name: f})
	}
	f, err := os.Create(j.Out)
	if err != nil {
		return err
	}
	if err := cc.EquivDump(cfg, sources, f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "equiv:", err)
	os.Exit(1)
}
