package realworld

import (
	"reflect"
	"strings"
	"testing"

	"github.com/bpf-lsp/bpf-lsp/report"
	"github.com/bpf-lsp/bpf-lsp/verifier"
)

func TestProgramsOf(t *testing.T) {
	g := CallGraph{
		Programs: []string{"prog_a", "prog_b", "prog_c"},
		Calls: map[string][]string{
			"prog_a":   {"helper", "less"},
			"prog_b":   {"wrapper"},
			"wrapper":  {"helper"},
			"helper":   {"leaf"},
			"prog_c":   {"unrelated"},
			"deadcode": {"leaf"},
			"leaf":     {"leaf"}, // recursion must terminate
		},
	}
	for _, c := range []struct {
		fn   string
		want []string
	}{
		{"prog_b", []string{"prog_b"}},               // a program itself
		{"helper", []string{"prog_a", "prog_b"}},     // directly and through wrapper
		{"leaf", []string{"prog_a", "prog_b"}},       // transitively; deadcode is no program
		{"less", []string{"prog_a"}},                 // a callback passed by prog_a
		{"", []string{"prog_a", "prog_b", "prog_c"}}, // a declaration: every program
		{"orphan", nil},                              // reached by no program
	} {
		if got := g.ProgramsOf(c.fn); !reflect.DeepEqual(got, c.want) {
			t.Errorf("ProgramsOf(%q) = %v, want %v", c.fn, got, c.want)
		}
	}
}

func TestAttribute(t *testing.T) {
	lock := lockCodes()
	run := CheckRun{Findings: []report.JSONFinding{
		{File: "/x/a.c", Line: 10, Severity: "error", Code: "BL204", Message: "unlock without lock", Function: "helper"},
		{File: "/x/a.c", Line: 20, Severity: "info", Code: "BL203", Message: "an info finding charges nobody", Function: "accepted"},
		{File: "/x/a.c", Line: 30, Severity: "error", Code: "BL210", Message: "leak", Function: "other_rule"},
		{File: "/x/a.c", Line: 40, Severity: "error", Code: "BL106", Message: "bad __contains", Function: "same_bug"},
	}}
	fr := FileResult{UsesLocks: usesLocks([]byte("bpf_spin_lock(&v->lock);"))}
	fileFromRun(&fr, run)
	if !fr.Clean || fr.InternalError != "" || len(fr.Findings) != 4 {
		t.Fatalf("file result = %+v", fr)
	}
	progs := []*ProgramResult{
		{Verdict: Verdict{Program: "accepted", Verdict: verifier.Accept}},
		{Verdict: Verdict{Program: "caller", Verdict: verifier.Accept}},
		{Verdict: Verdict{Program: "matched", Verdict: verifier.Reject, Code: "BL204"}},
		{Verdict: Verdict{Program: "other_rule", Verdict: verifier.Reject, Code: "BL201"}},
		{Verdict: Verdict{Program: "missed", Verdict: verifier.Reject, Code: "BL203"}},
		// One kernel message for several bugs: "has no valid bpf_spin_lock"
		// is classified BL107 and is what a bad __contains (BL106) gives.
		{Verdict: Verdict{Program: "same_bug", Verdict: verifier.Reject, Code: "BL107"}},
		{Verdict: Verdict{Program: "not_lock", Verdict: verifier.Reject, Code: "BL900"}},
		{Verdict: Verdict{Program: "broken", Verdict: verifier.Failed, Message: "kfunc not found"}},
	}
	g := CallGraph{
		Programs: []string{"accepted", "caller", "matched", "other_rule", "missed", "same_bug", "not_lock", "broken"},
		Calls:    map[string][]string{"caller": {"helper"}, "matched": {"helper"}},
	}
	attribute(&fr, g, progs, lock)
	want := map[string]string{
		"accepted":   StatusAccept,
		"caller":     StatusFalseAlarm,
		"matched":    StatusLockMatch,
		"other_rule": StatusLockOther,
		"missed":     StatusLockMissed,
		"same_bug":   StatusLockMatch,
		"not_lock":   StatusReject,
		"broken":     StatusError,
	}
	var results []ProgramResult
	for _, p := range progs {
		if p.Status != want[p.Program] {
			t.Errorf("%s: status %s, want %s (findings %v)", p.Program, p.Status, want[p.Program], p.Findings)
		}
		results = append(results, *p)
	}
	s := score([]FileResult{fr}, results)
	if s.Accepted != 2 || s.FalseAlarms != 1 || s.LockRejections != 4 || s.LockFound != 3 || s.LockMatching != 2 || s.Rejected != 5 || s.LoadErrors != 1 {
		t.Errorf("scores = %+v", s)
	}
	if s.LockFileRejections != 4 || s.LockFileFound != 3 || s.LockFileMatching != 2 {
		t.Errorf("lock-file scores = %+v", s)
	}
	// The same rejections in a file that never touches a lock, graph or
	// allocated object are not counted as lock rejections of such files.
	for i := range results {
		results[i].InLockFile = false
	}
	if s := score([]FileResult{fr}, results); s.LockFileRejections != 0 || s.LockRejections != 4 {
		t.Errorf("scores without lock files = %+v", s)
	}
}

func TestUsesLocks(t *testing.T) {
	for src, want := range map[string]bool{
		"bpf_res_spin_lock(&l)":                  true,
		"n = bpf_obj_new(typeof(*n));":           true,
		"void (*p)(void *) = &bpf_list_##op;":    true,
		"struct bpf_rb_root root __contains(x)":  true,
		"bpf_sk_release(sk); bpf_ringbuf_submit": false,
		"my_bpf_spin_locked = 1;":                false,
	} {
		if got := usesLocks([]byte(src)); got != want {
			t.Errorf("usesLocks(%q) = %v, want %v", src, got, want)
		}
	}
}

func TestFileFromRun(t *testing.T) {
	var fr FileResult
	fileFromRun(&fr, CheckRun{Seconds: 2, Findings: []report.JSONFinding{
		{File: "/x/a.c", Line: 1, Severity: "error", Code: "BL001", Message: "internal error in the C frontend: nil pointer"},
		{File: "/x/a.c", Line: 2, Severity: "error", Code: "BL002", Message: "cannot find <vmlinux.h>"},
	}})
	if fr.Clean || fr.FrontendErrors != 2 || !strings.Contains(fr.InternalError, "internal error") || !strings.Contains(fr.FirstFrontend, "a.c:1:") {
		t.Errorf("file result = %+v", fr)
	}
	fr = FileResult{}
	fileFromRun(&fr, CheckRun{Failure: "timeout: killed after 1m0s"})
	if fr.Clean || fr.InternalError == "" {
		t.Errorf("a failed run must be unclean with an internal error: %+v", fr)
	}
}

func TestCompare(t *testing.T) {
	base := &Baseline{
		Files: map[string]BaselineFile{
			"clean.c":    {Clean: true},
			"broken.c":   {},
			"slow.c":     {Clean: true},
			"busy.c":     {Clean: true},
			"internal.c": {Internal: true},
			"a.c": {Programs: map[string]string{
				"ok":      StatusAccept,
				"fp":      StatusFalseAlarm,
				"lock1":   StatusLockMatch,
				"lock2":   StatusLockMissed,
				"changed": StatusAccept,
			}},
			"was_slow.c": {Clean: true, Slow: true},
		},
	}
	rep := &Report{
		Files: []FileResult{
			{Name: "clean.c", Compiled: true, FirstFrontend: "a.c:1:1: BL001 oops", Seconds: 0.3},
			{Name: "broken.c", Compiled: true, Clean: true, Seconds: 0.3},
			{Name: "slow.c", Compiled: true, Clean: true, Seconds: 1.5, CPUSeconds: 1.4},
			{Name: "busy.c", Compiled: true, Clean: true, Seconds: 3, CPUSeconds: 0.2}, // waited for a busy machine
			{Name: "was_slow.c", Compiled: true, Clean: true, Seconds: 3, CPUSeconds: 0.9},
			{Name: "internal.c", Compiled: true, Clean: true, Seconds: 0.1},
			{Name: "new.c", Compiled: true, Seconds: 9}, // not in the baseline: not compared
		},
		Programs: []ProgramResult{
			{File: "a.c", Verdict: Verdict{Program: "ok"}, Status: StatusFalseAlarm, Findings: []string{"BL204 a.c:3: x"}},
			{File: "a.c", Verdict: Verdict{Program: "fp"}, Status: StatusAccept},
			{File: "a.c", Verdict: Verdict{Program: "lock1"}, Status: StatusLockOther},
			{File: "a.c", Verdict: Verdict{Program: "lock2"}, Status: StatusLockMatch},
			{File: "a.c", Verdict: Verdict{Program: "changed"}, Status: StatusLockMissed},
		},
	}
	c := Compare(base, rep)
	wantReg := []string{"clean.c no longer parses", "slow.c: check takes", "false alarm on a.c:ok", "lock rejection no longer matched: a.c:lock1"}
	wantImp := []string{"broken.c now parses", "was_slow.c: check now under 1s", "internal.c now parses", "internal.c: internal error fixed", "no more false alarm on a.c:fp", "matched better: a.c:lock2"}
	check := func(kind string, got, want []string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s = %q, want %d", kind, got, len(want))
			return
		}
		for i := range want {
			if !strings.Contains(got[i], want[i]) {
				t.Errorf("%s[%d] = %q, want it to contain %q", kind, i, got[i], want[i])
			}
		}
	}
	check("regressions", c.Regressions, wantReg)
	check("improvements", c.Improvements, wantImp)
	check("notes", c.Notes, []string{"kernel verdict or its classification changed: a.c:changed (accept -> lock-missed)"})

	// A second run that regresses only in slow.c leaves the others as notes.
	again := Compare(base, &Report{Files: []FileResult{{Name: "slow.c", Compiled: true, Clean: true, Seconds: 2, CPUSeconds: 2}}})
	u := c.Unconfirmed(again)
	if len(u.Regressions) != 1 || !strings.Contains(u.Regressions[0], "slow.c") || len(u.Notes) != len(c.Notes)+3 {
		t.Errorf("unconfirmed: regressions %q, notes %q", u.Regressions, u.Notes)
	}
	if !reflect.DeepEqual(c.RegressedFiles(), []string{"clean.c", "slow.c", "a.c"}) {
		t.Errorf("regressed files %q", c.RegressedFiles())
	}

	// A run without verdicts judges files only.
	rep.NoVerdicts = "no root"
	if c := Compare(base, rep); len(c.Regressions) != 2 {
		t.Errorf("without verdicts: regressions %q, want the two file regressions", c.Regressions)
	}
}

func TestPreprocessorFlags(t *testing.T) {
	flags := []string{"-g", "-Wall", "-D__TARGET_ARCH_x86", "-I/inc", "-I", "rel", "-idirafter", "/usr/include",
		"-Wno-compare-distinct-pointer-types", "-include", "x.h", "-O2", "--target=bpf", "-mcpu=v3", "-DFOO=1", "-UBAR"}
	onlyI := func(f string) bool { return f == "-I" || f == "-D" || f == "-U" }
	got := PreprocessorFlags(flags, onlyI)
	want := []string{"-D__TARGET_ARCH_x86", "-I/inc", "-I", "rel", "-DFOO=1", "-UBAR"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PreprocessorFlags(-I/-D/-U) = %q, want %q", got, want)
	}
	all := PreprocessorFlags(flags, func(string) bool { return true })
	want = []string{"-D__TARGET_ARCH_x86", "-I/inc", "-I", "rel", "-idirafter", "/usr/include", "-include", "x.h", "-DFOO=1", "-UBAR"}
	if !reflect.DeepEqual(all, want) {
		t.Errorf("PreprocessorFlags(all) = %q, want %q", all, want)
	}
}

func TestParseDepsAndPercentile(t *testing.T) {
	deps := parseDeps("/o/x.o: /s/x.c \\\n /s/a.h b.h\n")
	if !reflect.DeepEqual(deps, []string{"/s/x.c", "/s/a.h", "b.h"}) {
		t.Errorf("parseDeps = %q", deps)
	}
	xs := make([]float64, 200)
	for i := range xs {
		xs[i] = float64(i + 1)
	}
	if p := Percentile(xs, 0.99); p != 198 {
		t.Errorf("p99 of 1..200 = %v, want 198", p)
	}
	if p := Percentile(nil, 0.99); p != 0 {
		t.Errorf("p99 of nothing = %v", p)
	}
}

func TestParserOptions(t *testing.T) {
	s := Source{Dir: "/src/sched_ext", Flags: []string{"-g", "-Iinclude", "-I", "/abs", "-I../include", "-idirafter", "/usr/include",
		"-isystem", "sys", "-iquote", "q", "-include", "force.h", "-DA=1", "-D", "B", "-UC", "-O2"}}
	o := parserOptions(s)
	if !reflect.DeepEqual(o.IncludeDirs, []string{"/src/sched_ext/include", "/abs", "/src/include"}) ||
		!reflect.DeepEqual(o.AfterDirs, []string{"/usr/include"}) ||
		!reflect.DeepEqual(o.SystemDirs, []string{"/src/sched_ext/sys"}) ||
		!reflect.DeepEqual(o.QuoteDirs, []string{"/src/sched_ext/q"}) ||
		!reflect.DeepEqual(o.ForcedHeaders, []string{"/src/sched_ext/force.h"}) ||
		!reflect.DeepEqual(o.Defines, []string{"A=1", "B"}) || !reflect.DeepEqual(o.Undefines, []string{"C"}) {
		t.Errorf("parserOptions = %+v", o)
	}
}

func TestBaselineRoundTrip(t *testing.T) {
	rep := &Report{Kernel: "6.18", Scores: Scores{Files: 2, Compiled: 2},
		Files: []FileResult{
			{Name: "a.c", Compiled: true, Clean: true, Seconds: 3, CPUSeconds: 2},
			{Name: "b.c", Compiled: true, InternalError: "boom"},
		},
		Programs: []ProgramResult{
			{File: "a.c", Verdict: Verdict{Program: "p"}, Status: StatusLockMatch},
			{File: "a.c", Verdict: Verdict{Program: "q"}, Status: StatusAccept},
		},
	}
	path := t.TempDir() + "/baseline.json"
	if err := NewBaseline(rep).Write(path); err != nil {
		t.Fatal(err)
	}
	b, err := ReadBaseline(path)
	if err != nil {
		t.Fatal(err)
	}
	want := &Baseline{Kernel: "6.18", Scores: rep.Scores, Files: map[string]BaselineFile{
		"a.c": {Clean: true, Slow: true, Programs: map[string]string{"p": StatusLockMatch, "q": StatusAccept}},
		"b.c": {Internal: true},
	}}
	if !reflect.DeepEqual(b, want) {
		t.Errorf("read back %+v, want %+v", b, want)
	}
	if c := Compare(b, rep); len(c.Regressions)+len(c.Improvements)+len(c.Notes) != 0 {
		t.Errorf("a run compared with its own baseline: %+v", c)
	}
}

func TestSelectSources(t *testing.T) {
	all := []Source{{Name: "tools/testing/selftests/bpf/progs/rbtree.c"}, {Name: "tools/testing/selftests/bpf/progs/rbtree_fail.c"},
		{Name: "tools/sched_ext/scx_qmap.bpf.c"}}
	var got []string
	for _, s := range SelectSources(all, []string{"rbtree.c", "tools/sched_ext/*"}) {
		got = append(got, s.Name)
	}
	if !reflect.DeepEqual(got, []string{"tools/testing/selftests/bpf/progs/rbtree.c", "tools/sched_ext/scx_qmap.bpf.c"}) {
		t.Errorf("SelectSources = %q", got)
	}
	if len(SelectSources(all, nil)) != 3 {
		t.Error("no patterns must select everything")
	}
}
