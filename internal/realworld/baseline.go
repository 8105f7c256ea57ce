package realworld

import (
	"encoding/json"
	"fmt"
	"math"
	"os"
	"strings"
)

// Baseline is the checked-in record a run is compared with: the scores and,
// per file and per program, what a regression is judged on.
type Baseline struct {
	Kernel   string                  `json:"kernel"`
	Scores   Scores                  `json:"scores"`
	Files    map[string]BaselineFile `json:"files"`
	Programs map[string]string       `json:"programs"` // ProgramResult.Key() -> status
}

// BaselineFile is one file's baseline.
type BaselineFile struct {
	Clean    bool    `json:"clean,omitempty"`
	Internal bool    `json:"internal,omitempty"`
	Seconds  float64 `json:"seconds"`
}

// NewBaseline records a full run.
func NewBaseline(r *Report) *Baseline {
	b := &Baseline{Kernel: r.Kernel, Scores: r.Scores, Files: map[string]BaselineFile{}, Programs: map[string]string{}}
	for _, f := range r.Files {
		b.Files[f.Name] = BaselineFile{Clean: f.Clean && f.Compiled, Internal: f.InternalError != "", Seconds: math.Round(f.Seconds*100) / 100}
	}
	for _, p := range r.Programs {
		b.Programs[p.Key()] = p.Status
	}
	return b
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

// Write stores the baseline as indented JSON (one line per file and
// program, so a diff shows what changed).
func (b *Baseline) Write(path string) error {
	data, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	return writeIfChanged(path, append(data, '\n'))
}

// Comparison lists what got worse and what got better than the baseline.
type Comparison struct {
	Regressions  []string
	Improvements []string
	Notes        []string // changes that are neither (a different kernel verdict)
}

// slowFactor is how much slower than its baseline a file over the time
// budget must be to count as a regression, and its CPU time must be over the
// budget too: wall time varies between machines and with their load,
// findings do not.
const slowFactor = 2

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
			c.Regressions = append(c.Regressions, fmt.Sprintf("%s no longer parses cleanly: %s", f.Name, firstNonEmpty(f.FirstFrontend, f.InternalError)))
		case !old.Clean && clean:
			c.Improvements = append(c.Improvements, f.Name+" now parses cleanly")
		}
		switch internal := f.InternalError != ""; {
		case internal && !old.Internal:
			c.Regressions = append(c.Regressions, fmt.Sprintf("%s: internal error: %s", f.Name, f.InternalError))
		case !internal && old.Internal:
			c.Improvements = append(c.Improvements, f.Name+": internal error fixed")
		}
		switch {
		case f.Seconds > SlowSeconds && f.CPUSeconds > SlowSeconds && old.Seconds <= SlowSeconds && f.Seconds > slowFactor*old.Seconds:
			c.Regressions = append(c.Regressions, fmt.Sprintf("%s: check takes %.2fs (baseline %.2fs)", f.Name, f.Seconds, old.Seconds))
		case f.Seconds <= SlowSeconds && old.Seconds > SlowSeconds:
			c.Improvements = append(c.Improvements, fmt.Sprintf("%s: check now under %.0fs (%.2fs, baseline %.2fs)", f.Name, SlowSeconds, f.Seconds, old.Seconds))
		}
	}
	if r.NoVerdicts != "" {
		return c
	}
	for _, p := range r.Programs {
		old, ok := b.Programs[p.Key()]
		if !ok || old == p.Status {
			continue
		}
		desc := fmt.Sprintf("%s (%s -> %s)", p.Key(), old, p.Status)
		oldRank, oldLock := lockRank[old]
		newRank, newLock := lockRank[p.Status]
		switch {
		case old == StatusAccept && p.Status == StatusFalseAlarm:
			c.Regressions = append(c.Regressions, fmt.Sprintf("false alarm on %s, which the kernel accepts: %s", p.Key(), strings.Join(p.Findings, "; ")))
		case old == StatusFalseAlarm && p.Status == StatusAccept:
			c.Improvements = append(c.Improvements, "no more false alarm on "+p.Key())
		case oldLock && newLock && newRank < oldRank:
			c.Regressions = append(c.Regressions, fmt.Sprintf("lock rejection no longer matched: %s; kernel: %s (%s)", desc, firstLine(p.Message), p.Code))
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
