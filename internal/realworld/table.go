package realworld

import (
	"fmt"
	"io"
	"sort"
	"strings"
)

// PrintTable writes the scores beside the baseline's.
func PrintTable(w io.Writer, r *Report, b *Baseline) {
	s := r.Scores
	var old *Scores
	if b != nil {
		old = &b.Scores
	}
	pct := func(n, d int) string {
		if d == 0 {
			return "-"
		}
		return fmt.Sprintf("%d/%d (%.1f%%)", n, d, 100*float64(n)/float64(d))
	}
	row := func(name string, show func(Scores) string) {
		bs := ""
		if old != nil {
			bs = show(*old)
		}
		fmt.Fprintf(w, "| %-48s | %-36s | %-36s |\n", name, show(s), bs)
	}
	fmt.Fprintf(w, "| %-48s | %-36s | %-36s |\n", "real-world corpus (kernel "+r.Kernel+")", "now", "baseline")
	fmt.Fprintf(w, "|%s|%s|%s|\n", strings.Repeat("-", 50), strings.Repeat("-", 38), strings.Repeat("-", 38))
	row("files (clang-19 compiles)", func(s Scores) string { return fmt.Sprintf("%d (%d)", s.Files, s.Compiled) })
	row("parsed cleanly (no BL001/BL002)", func(s Scores) string { return pct(s.ParsedClean, s.Compiled) })
	row("internal errors (files)", func(s Scores) string { return fmt.Sprint(s.InternalErrors) })
	row(fmt.Sprintf("files over %.0f s: wall / CPU", SlowSeconds), func(s Scores) string { return fmt.Sprintf("%d / %d", s.Over1s, s.Over1sCPU) })
	row("slowest file, wall", func(s Scores) string { return fmt.Sprintf("%.2fs %s", s.MaxSeconds, shortPath(s.MaxFile)) })
	row("slowest file, CPU", func(s Scores) string { return fmt.Sprintf("%.2fs %s", s.MaxCPUSeconds, shortPath(s.MaxCPUFile)) })
	row("p99 per file: wall / CPU", func(s Scores) string { return fmt.Sprintf("%.2fs / %.2fs", s.P99Seconds, s.P99CPUSeconds) })
	row("check: wall (CPU of all runs)", func(s Scores) string { return fmt.Sprintf("%.0fs (%.0fs)", s.CheckWall, s.CheckCPU) })
	row("check: max RSS of one file", func(s Scores) string { return fmt.Sprintf("%d MB", s.CheckMaxRSSKB/1024) })
	if r.NoVerdicts != "" {
		fmt.Fprintf(w, "kernel verdicts unavailable: %s\n", r.NoVerdicts)
		return
	}
	row("programs: accepted / rejected / load error", func(s Scores) string { return fmt.Sprintf("%d / %d / %d", s.Accepted, s.Rejected, s.LoadErrors) })
	row("accepted programs with a finding (false alarms)", func(s Scores) string { return pct(s.FalseAlarms, s.Accepted) })
	row("lock rejections with a finding", func(s Scores) string { return pct(s.LockFound, s.LockRejections) })
	row("lock rejections with the kernel's rule", func(s Scores) string { return pct(s.LockMatching, s.LockRejections) })
	row("  in files using locks/graphs: with a finding", func(s Scores) string { return pct(s.LockFileFound, s.LockFileRejections) })
	row("  in files using locks/graphs: the kernel's rule", func(s Scores) string { return pct(s.LockFileMatching, s.LockFileRejections) })
	row("findings charged to no program", func(s Scores) string { return fmt.Sprint(s.Unattributed) })
}

// maxListed bounds each list PrintDetails writes; realworld.json has all.
const maxListed = 40

// PrintDetails lists what the scores count: files clang cannot compile
// (left out of the parse rate), internal errors, slow files and false
// alarms.
func PrintDetails(w io.Writer, r *Report) {
	list := func(title string, items []string) { printList(w, title, items, maxListed) }
	var uncompiled, internal, slow []string
	byTime := append([]FileResult(nil), r.Files...)
	sort.SliceStable(byTime, func(i, j int) bool { return byTime[i].Seconds > byTime[j].Seconds })
	for _, f := range byTime {
		if !f.Compiled {
			uncompiled = append(uncompiled, fmt.Sprintf("%s: %s", f.Name, f.CompileError))
		}
		if f.InternalError != "" {
			internal = append(internal, fmt.Sprintf("%s: %s", f.Name, firstLine(f.InternalError)))
		}
		if f.Seconds > SlowSeconds {
			slow = append(slow, fmt.Sprintf("%6.2fs (CPU %.2fs) %s", f.Seconds, f.CPUSeconds, f.Name))
		}
	}
	var alarms, missed []string
	for _, p := range r.Programs {
		switch {
		case p.Status == StatusFalseAlarm:
			alarms = append(alarms, fmt.Sprintf("%s: %s", p.Key(), strings.Join(p.Findings, "; ")))
		case p.InLockFile && (p.Status == StatusLockMissed || p.Status == StatusLockOther):
			missed = append(missed, fmt.Sprintf("%s (%s): the kernel: %s [%s]", p.Key(), p.Status, firstLine(p.Message), p.Code))
		}
	}
	list(Clang+" cannot compile (left out of the parse rate)", uncompiled)
	list("internal errors", internal)
	list(fmt.Sprintf("files over %.0f s", SlowSeconds), slow)
	list("false alarms: accepted programs with a finding", alarms)
	list("lock rejections in files using locks/graphs without the kernel's rule", missed)
}

// PrintChanges lists a comparison: every regression, and the first
// improvements and other changes.
func PrintChanges(w io.Writer, against string, c Comparison) {
	printList(w, "regressions "+against, c.Regressions, len(c.Regressions))
	printList(w, "improvements "+against, c.Improvements, maxListed)
	printList(w, "other changes "+against, c.Notes, maxListed)
}

// printList writes a titled list, the first limit items of it.
func printList(w io.Writer, title string, items []string, limit int) {
	if len(items) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s (%d):\n", title, len(items))
	for i, it := range items {
		if i == limit {
			fmt.Fprintf(w, "  ... %d more\n", len(items)-limit)
			break
		}
		fmt.Fprintf(w, "  %s\n", it)
	}
}
