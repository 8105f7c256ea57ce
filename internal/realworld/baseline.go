package realworld

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Baseline is the checked-in record a run is compared with: the scores and,
// per file and per program, what a regression is judged on. It holds no
// timings but a "slow" mark, so that it only changes where results do.
type Baseline struct {
	Kernel string                  `json:"kernel"`
	Scores Scores                  `json:"scores"`
	Files  map[string]BaselineFile `json:"files"`
}

// BaselineFile is one file's baseline.
type BaselineFile struct {
	Clean    bool              `json:"clean,omitempty"`
	Internal bool              `json:"internal,omitempty"`
	Slow     bool              `json:"slow,omitempty"`     // check took over SlowSeconds of CPU time
	Programs map[string]string `json:"programs,omitempty"` // program -> status
}

// NewBaseline records a run.
func NewBaseline(r *Report) *Baseline {
	b := &Baseline{Kernel: r.Kernel, Scores: r.Scores, Files: map[string]BaselineFile{}}
	progs := map[string]map[string]string{}
	for _, p := range r.Programs {
		if progs[p.File] == nil {
			progs[p.File] = map[string]string{}
		}
		progs[p.File][p.Program] = p.Status
	}
	for _, f := range r.Files {
		b.Files[f.Name] = BaselineFile{Clean: f.Clean && f.Compiled, Internal: f.InternalError != "", Slow: f.CPUSeconds > SlowSeconds, Programs: progs[f.Name]}
	}
	return b
}

// program returns a program's status in the baseline.
func (b *Baseline) program(p ProgramResult) (string, bool) {
	s, ok := b.Files[p.File].Programs[p.Program]
	return s, ok
}

// ReadBaseline reads a baseline file.
func ReadBaseline(path string) (*Baseline, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var b Baseline
	if err := json.Unmarshal(data, &b); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &b, nil
}

// Write stores the baseline as JSON with one line per file, so a diff (or a
// merge) touches only the files whose results changed.
func (b *Baseline) Write(path string) error {
	var buf bytes.Buffer
	kernel, _ := json.Marshal(b.Kernel)
	scores, err := json.MarshalIndent(b.Scores, "  ", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintf(&buf, "{\n  \"kernel\": %s,\n  \"scores\": %s,\n  \"files\": {", kernel, scores)
	for i, name := range sortedKeys(b.Files) {
		key, _ := json.Marshal(name)
		val, err := json.Marshal(b.Files[name])
		if err != nil {
			return err
		}
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, "\n    %s: %s", key, val)
	}
	buf.WriteString("\n  }\n}\n")
	return writeIfChanged(path, buf.Bytes())
}

// Comparison lists what got worse and what got better than the baseline.
type Comparison struct {
	Regressions  []string
	Improvements []string
	Notes        []string // changes that are neither (a different kernel verdict)
	regressedIn  []string // the file of each regression
}

func (c *Comparison) regress(file, msg string) {
	c.Regressions = append(c.Regressions, msg)
	c.regressedIn = append(c.regressedIn, file)
}

// RegressedFiles are the files the regressions are in.
func (c Comparison) RegressedFiles() []string {
	var out []string
	for _, f := range c.regressedIn {
		if !slices.Contains(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// Unconfirmed moves the regressions of files that did not regress again
// in a second run (again) to the notes: bpf-lsp gave two different answers
// on the same input, which is worth knowing but is not a change of the
// code under test.
func (c Comparison) Unconfirmed(again Comparison) Comparison {
	out := Comparison{Improvements: c.Improvements, Notes: c.Notes}
	for i, msg := range c.Regressions {
		file := c.regressedIn[i]
		if slices.Contains(again.regressedIn, file) {
			out.regress(file, msg)
		} else {
			out.Notes = append(out.Notes, "not reproduced by a second run (nondeterministic?): "+msg)
		}
	}
	return out
}

// lockRank orders the statuses of a lock rejection from worst to best.
var lockRank = map[string]int{StatusLockMissed: 0, StatusLockOther: 1, StatusLockMatch: 2}

// Compare judges r against b file by file and program by program, so a
// gain in one place cannot hide a loss in another. Files and programs
// missing from either side are not compared.
func Compare(b *Baseline, r *Report) Comparison {
	var c Comparison
	for _, f := range r.Files {
		old, ok := b.Files[f.Name]
		if !ok {
			continue
		}
		clean := f.Clean && f.Compiled
		switch {
		case old.Clean && !clean && f.Compiled:
			c.regress(f.Name, fmt.Sprintf("%s no longer parses cleanly: %s", f.Name, firstNonEmpty(f.FirstFrontend, f.InternalError)))
		case !old.Clean && clean:
			c.Improvements = append(c.Improvements, f.Name+" now parses cleanly")
		}
		switch internal := f.InternalError != ""; {
		case internal && !old.Internal:
			c.regress(f.Name, fmt.Sprintf("%s: internal error: %s", f.Name, f.InternalError))
		case !internal && old.Internal:
			c.Improvements = append(c.Improvements, f.Name+": internal error fixed")
		}
		switch {
		// Slow by CPU time, which a busy machine does not inflate, and by
		// wall time, which is what a user waits.
		case f.CPUSeconds > SlowSeconds && f.Seconds > SlowSeconds && !old.Slow:
			c.regress(f.Name, fmt.Sprintf("%s: check takes %.2fs (CPU %.2fs), over %.0fs", f.Name, f.Seconds, f.CPUSeconds, SlowSeconds))
		case f.CPUSeconds <= SlowSeconds && old.Slow:
			c.Improvements = append(c.Improvements, fmt.Sprintf("%s: check now under %.0fs (CPU %.2fs)", f.Name, SlowSeconds, f.CPUSeconds))
		}
	}
	if r.NoVerdicts != "" {
		return c
	}
	for _, p := range r.Programs {
		old, ok := b.program(p)
		if !ok || old == p.Status {
			continue
		}
		desc := fmt.Sprintf("%s (%s -> %s)", p.Key(), old, p.Status)
		oldRank, oldLock := lockRank[old]
		newRank, newLock := lockRank[p.Status]
		switch {
		case old == StatusAccept && p.Status == StatusFalseAlarm:
			c.regress(p.File, fmt.Sprintf("false alarm on %s, which the kernel accepts: %s", p.Key(), strings.Join(p.Findings, "; ")))
		case old == StatusFalseAlarm && p.Status == StatusAccept:
			c.Improvements = append(c.Improvements, "no more false alarm on "+p.Key())
		case oldLock && newLock && newRank < oldRank:
			c.regress(p.File, fmt.Sprintf("lock rejection no longer matched: %s; kernel: %s (%s)", desc, firstLine(p.Message), p.Code))
		case oldLock && newLock:
			c.Improvements = append(c.Improvements, "lock rejection matched better: "+desc)
		default:
			c.Notes = append(c.Notes, "kernel verdict or its classification changed: "+desc)
		}
	}
	return c
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
