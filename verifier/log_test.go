package verifier

import (
	"os"
	"strings"
	"testing"
)

// parseOne parses a saved log that records exactly one rejection.
func parseOne(t *testing.T, path string) LogProgram {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	progs := ParseLog(string(data))
	if len(progs) != 1 {
		t.Fatalf("got %d rejections, want 1: %+v", len(progs), progs)
	}
	return progs[0]
}

// The whole output of `bpftool -d prog loadall` on a rejected program:
// libbpf's debug lines and bpftool's trailing "Error: failed to load object
// file" and strict-mode warning must not become a second rejection.
func TestParseSavedBpftoolLog(t *testing.T) {
	p := parseOne(t, "testdata/bpftool-d-wrong-lock.log")
	if p.Program != "add" || p.Code != "BL202" || p.Line != 29 || !strings.HasSuffix(p.SourceFile, "wrong_lock.bpf.c") {
		t.Errorf("got %+v", p)
	}
	if !strings.Contains(p.Message, "held lock and object are not in the same allocation") || !strings.Contains(p.Message, "must be held for bpf_rb_root") {
		t.Errorf("message %q", p.Message)
	}
	if strings.Contains(p.Message, "Error:") || strings.Contains(p.Message, "strict mode") {
		t.Errorf("bpftool's own lines in the message: %q", p.Message)
	}
}

// A 7.3 kernel's structured error inside bpftool -d output: the classic
// message around the block, the At site (with its column) and the causal
// path as related locations.
func TestParse73Log(t *testing.T) {
	p := parseOne(t, "testdata/bpftool-d-leak-removed-7.3.log")
	wantMsg := "Unreleased reference id=3 alloc_insn=10\nBPF_EXIT instruction in main prog would lead to reference leak"
	if p.Program != "take" || p.Message != wantMsg || p.Code != "BL210" {
		t.Errorf("program %q code %s message %q", p.Program, p.Code, p.Message)
	}
	if p.SourceFile != "leak_removed.bpf.c" || p.Line != 27 || p.Column != 1 || p.Insn != 15 {
		t.Errorf("at %s:%d:%d insn %d, want leak_removed.bpf.c:27:1 insn 15", p.SourceFile, p.Line, p.Column, p.Insn)
	}
	if p.Category != "Resource Lifetime Safety: Unreleased resource" ||
		!strings.HasPrefix(p.Reason, "Owned resource (id=3) was acquired at instruction 10") || !strings.HasSuffix(p.Reason, "before this exit path.") ||
		!strings.HasPrefix(p.Suggestion, "Release or transfer ownership") {
		t.Errorf("category %q reason %q suggestion %q", p.Category, p.Reason, p.Suggestion)
	}
	want := []Related{{Function: "take", Insn: 10, File: "leak_removed.bpf.c", Line: 24, Column: 6, Message: "acquired: owned resource (id=3)"}}
	if len(p.Related) != 1 {
		t.Fatalf("causal path %+v, want %+v", p.Related, want)
	}
	got := p.Related[0]
	got.hasInsn = false
	if got != want[0] {
		t.Errorf("causal path %+v, want %+v", got, want[0])
	}
}

// The 7.3 block with nothing on its causal path, as a bare log.
func TestParse73LogEmptyPath(t *testing.T) {
	log := `0: R1=ctx() R10=fp0
0: (95) exit
R0 !read_ok

Verification failed: Register Type Safety: Unreadable register

Reason:
  R0 has never been initialized on this path, so the verifier cannot use it as an input.

At:
  insn 0
        | ^-- error: R0 is not readable
  Instruction context:
  >>> 0 | (95) exit

Causal path:
  no retained diagnostic events on this path

Suggestion:
  Initialize R0 on every path before this instruction.

processed 1 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0`
	progs := ParseLog(log)
	if len(progs) != 1 || progs[0].Message != "R0 !read_ok" || progs[0].Insn != 0 || len(progs[0].Related) != 0 ||
		progs[0].Category != "Register Type Safety: Unreadable register" || progs[0].Suggestion == "" {
		t.Fatalf("got %+v", progs)
	}
}

// veristat -v output: one block per program, successes skipped, the
// summary table ignored.
func TestParseVeristatLog(t *testing.T) {
	log := `Processing 'x.bpf.o'...
PROCESSING x.bpf.o/good, DURATION US: 12, VERDICT: success, VERIFIER LOG:
0: (b7) r0 = 0
1: (95) exit
processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
PROCESSING x.bpf.o/bad, DURATION US: 20, VERDICT: failure, VERIFIER LOG:
0: (85) call bpf_spin_lock#93
1: (95) exit
BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region
processed 2 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
File      Program  Verdict  Duration (us)  Insns  States  Peak states
--------  -------  -------  -------------  -----  ------  -----------
x.bpf.o   bad      failure             20      2       0            0
x.bpf.o   good     success             12      2       0            0
Done. Processed 1 files, 0 skipped, 2 programs.`
	progs := ParseLog(log)
	if len(progs) != 1 || progs[0].Program != "bad" || progs[0].Code != "BL203" || progs[0].Insn != 1 {
		t.Fatalf("got %+v", progs)
	}
}

func TestParseBareLog(t *testing.T) {
	log := `arg#0 reference type('UNKNOWN ') size cannot be determined: -22
0: R1=ctx() R10=fp0
; bpf_spin_lock(&glock); @ t.bpf.c:12
0: (18) r1 = 0xffff
2: (85) call bpf_spin_lock#93
; return 0; @ t.bpf.c:14
3: (b7) r0 = 0
4: (95) exit
BPF_EXIT instruction in main prog cannot be used inside bpf_spin_lock-ed region
processed 5 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0
Error: failed to load object file`
	progs := ParseLog(log)
	if len(progs) != 1 || progs[0].Code != "BL203" || progs[0].Insn != 4 || progs[0].Line != 14 {
		t.Fatalf("got %+v", progs)
	}
}

func TestClassify(t *testing.T) {
	for msg, want := range map[string]string{
		"bpf_spin_lock at off=16 must be held for bpf_list_head":                                                  "BL201",
		"bpf_spin_unlock of different lock":                                                                       "BL205",
		"Unreleased reference id=3 alloc_insn=11\nBPF_EXIT instruction in main prog would lead to reference leak": "BL210",
		"R6 invalid mem access 'scalar'":                                                                          "BL209",
		"map '.data.sched' has no valid bpf_spin_lock":                                                            "BL107",
		"bpf_rb_root not found at offset=0":                                                                       "BL101",
		"something new":                                                                                           "BL900",
	} {
		if got := classify(msg, ""); got != want {
			t.Errorf("classify(%q) = %s, want %s", msg, got, want)
		}
	}
	if got := classify("function calls are not allowed while holding a lock", "call bpf_spin_lock#93"); got != "BL206" {
		t.Errorf("second lock: %s", got)
	}
}
