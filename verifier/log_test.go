package verifier

import (
	"os"
	"strings"
	"testing"
)

// A log saved from `bpftool -d prog loadall` of testdata/wrong_lock.bpf.c.
func TestParseSavedBpftoolLog(t *testing.T) {
	data, err := os.ReadFile("testdata/bpftool-wrong-lock.log")
	if err != nil {
		t.Fatal(err)
	}
	progs := ParseLog(string(data))
	if len(progs) != 1 {
		t.Fatalf("got %d rejections, want 1: %+v", len(progs), progs)
	}
	p := progs[0]
	if p.Program != "add" || p.Code != "BL202" || p.Line != 29 || !strings.HasSuffix(p.SourceFile, "wrong_lock.bpf.c") {
		t.Errorf("got %+v", p)
	}
	if !strings.Contains(p.Message, "held lock and object are not in the same allocation") || !strings.Contains(p.Message, "must be held for bpf_rb_root") {
		t.Errorf("message %q", p.Message)
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
processed 5 insns (limit 1000000) max_states_per_insn 0 total_states 0 peak_states 0 mark_read 0`
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
