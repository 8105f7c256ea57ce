package realworld

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"sort"
	"strings"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// SlowSeconds is the per-file time budget of `bpf-lsp check`.
const SlowSeconds = 1.0

// Program statuses: the kernel's verdict set against bpf-lsp's findings.
const (
	StatusAccept     = "accept"      // accepted, no finding
	StatusFalseAlarm = "accept-fp"   // accepted, but an error/warning finding
	StatusLockMatch  = "lock-match"  // rejected for a lock reason, a finding with the kernel's rule (verifier.SameBug)
	StatusLockOther  = "lock-other"  // rejected for a lock reason, findings with other rules only
	StatusLockMissed = "lock-missed" // rejected for a lock reason, no finding
	StatusReject     = "reject"      // rejected for a reason bpf-lsp does not model
	StatusError      = "error"       // the loader could not prepare the program
)

// Finding is one finding of `bpf-lsp check` on a corpus file, with the
// programs it is charged to.
type Finding struct {
	File     string   `json:"file"`
	Line     int      `json:"line"`
	Column   int      `json:"column"`
	Severity string   `json:"severity"`
	Code     string   `json:"code"`
	Message  string   `json:"message"`
	Function string   `json:"function,omitempty"`
	Programs []string `json:"programs,omitempty"`
}

// FileResult is everything measured on one source file.
type FileResult struct {
	Name         string  `json:"name"`
	Compiled     bool    `json:"compiled"`
	CompileError string  `json:"compileError,omitempty"` // clang's first error
	Seconds      float64 `json:"seconds"`                // wall time of `bpf-lsp check`
	CPUSeconds   float64 `json:"cpuSeconds"`             // its user + system time
	MaxRSSKB     int64   `json:"maxRSSKB"`
	LoadSeconds  float64 `json:"loadSeconds"` // getting the kernel's verdicts (0 when cached)
	// Clean: no BL001/BL002 finding and a normal exit.
	Clean bool `json:"clean"`
	// InternalError: a BL001 "internal error", a crash or a timeout.
	InternalError  string `json:"internalError,omitempty"`
	FrontendErrors int    `json:"frontendErrors,omitempty"` // BL001/BL002 findings
	FirstFrontend  string `json:"firstFrontendError,omitempty"`
	// Findings are the analysis' findings (every code but BL001/BL002).
	Findings []Finding `json:"findings,omitempty"`
	// Attribution says how findings were charged to programs when that
	// needed more than the findings' own function ("" when it did not).
	Attribution string `json:"attribution,omitempty"`
	// UsesLocks: the source names a lock, a graph kfunc or bpf_obj_new
	// (see usesLocks). Rejections the classifier files under a lock,
	// graph or reference rule are counted apart for such files: elsewhere
	// they are the same words about other objects (sockets, dynptrs).
	UsesLocks bool `json:"usesLocks,omitempty"`
}

// ProgramResult is one program of one object.
type ProgramResult struct {
	File string `json:"file"`
	Verdict
	LockReject bool `json:"lockReject,omitempty"`
	InLockFile bool `json:"inLockFile,omitempty"` // its file uses locks, graphs or allocated objects
	// Findings are the error/warning lock findings charged to the program,
	// as "CODE line: message".
	Findings []string `json:"findings,omitempty"`
	Status   string   `json:"status"`
}

// Key identifies a program across runs.
func (p ProgramResult) Key() string { return p.File + ":" + p.Program }

// Scores are the corpus-wide numbers.
type Scores struct {
	Files          int     `json:"files"`
	Compiled       int     `json:"compiled"`
	ParsedClean    int     `json:"parsedClean"` // of the compiled files
	ParsedCleanPct float64 `json:"parsedCleanPct"`
	InternalErrors int     `json:"internalErrors"` // files with one
	// Time per file: wall time, and CPU time (user + system), which a busy
	// machine does not inflate.
	Over1s        int     `json:"filesOver1s"`
	MaxSeconds    float64 `json:"maxSeconds"`
	MaxFile       string  `json:"maxFile"`
	P99Seconds    float64 `json:"p99Seconds"`
	Over1sCPU     int     `json:"filesOver1sCPU"`
	MaxCPUSeconds float64 `json:"maxCPUSeconds"`
	MaxCPUFile    string  `json:"maxCPUFile"`
	P99CPUSeconds float64 `json:"p99CPUSeconds"`
	CheckWall     float64 `json:"checkWallSeconds"` // the whole check phase
	CheckCPU      float64 `json:"checkCPUSeconds"`
	CheckMaxRSSKB int64   `json:"checkMaxRSSKB"` // largest single check process

	Programs       int `json:"programs"`
	Accepted       int `json:"accepted"`
	Rejected       int `json:"rejected"`
	LoadErrors     int `json:"loadErrors"`
	FalseAlarms    int `json:"falseAlarmPrograms"` // accepted programs with an error/warning finding
	LockRejections int `json:"lockRejections"`
	LockFound      int `json:"lockFound"`
	LockMatching   int `json:"lockMatching"`
	// The same, for programs in files that use locks, graphs or allocated
	// objects: the rejections that are about locks.
	LockFileRejections int `json:"lockFileRejections"`
	LockFileFound      int `json:"lockFileFound"`
	LockFileMatching   int `json:"lockFileMatching"`
	// Unattributed counts error and warning findings in compiled files
	// charged to no program (in a function no program reaches, or when the
	// call graph could not be built); they are in no other number.
	Unattributed int `json:"unattributedFindings"`
}

// frontendCodes are the C frontend's rule codes (BL001, BL002).
func frontendCodes() map[string]bool {
	codes := map[string]bool{}
	for _, r := range analysis.FrontendRules {
		codes[r.Code] = true
	}
	return codes
}

// lockCodes are the codes a kernel rejection is classified as when it is
// for a lock, graph or reference reason: every rule but the frontend's and
// the catch-all for rejections no rule models.
func lockCodes() map[string]bool {
	codes := map[string]bool{}
	frontend := frontendCodes()
	for _, r := range analysis.Rules() {
		if !frontend[r.Code] && r.Code != analysis.CodeVerifierOther {
			codes[r.Code] = true
		}
	}
	return codes
}

// fileFromRun fills a FileResult's check fields from one run.
func fileFromRun(fr *FileResult, run CheckRun) {
	fr.Seconds, fr.CPUSeconds, fr.MaxRSSKB = run.Seconds, run.CPUSeconds, run.MaxRSSKB
	if run.Failure != "" {
		fr.InternalError = run.Failure
		return
	}
	frontend := frontendCodes()
	for _, f := range run.Findings {
		if !frontend[f.Code] {
			fr.Findings = append(fr.Findings, Finding{File: f.File, Line: f.Line, Column: f.Column,
				Severity: f.Severity, Code: f.Code, Message: f.Message, Function: f.Function})
			continue
		}
		if f.Code == "BL001" && strings.Contains(f.Message, "internal error") && fr.InternalError == "" {
			fr.InternalError = f.Message
		}
		if fr.FrontendErrors == 0 {
			fr.FirstFrontend = fmt.Sprintf("%s:%d:%d: %s %s", f.File, f.Line, f.Column, f.Code, f.Message)
		}
		fr.FrontendErrors++
	}
	fr.Clean = fr.FrontendErrors == 0
}

// CallGraph is what attribution needs to know of one file: which functions
// are programs and which functions each calls (directly or by passing it as
// a callback).
type CallGraph struct {
	Programs []string
	Calls    map[string][]string
}

// ProgramsOf returns the programs a finding in function fn is charged to:
// fn itself when it is a program, else every program that reaches fn
// through calls; every program for a finding outside any function (a
// declaration shapes every program's maps).
func (g CallGraph) ProgramsOf(fn string) []string {
	if fn == "" {
		return g.Programs
	}
	if slices.Contains(g.Programs, fn) {
		return []string{fn}
	}
	callers := map[string][]string{}
	for caller, callees := range g.Calls {
		for _, c := range callees {
			callers[c] = append(callers[c], caller)
		}
	}
	seen := map[string]bool{fn: true}
	queue := []string{fn}
	var out []string
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		for _, c := range callers[cur] {
			if seen[c] {
				continue
			}
			seen[c] = true
			if slices.Contains(g.Programs, c) {
				out = append(out, c)
			}
			queue = append(queue, c)
		}
	}
	sort.Strings(out)
	return out
}

// needsCallGraph reports whether some finding lies in a function that is
// not a program, so the call graph decides who is charged.
func needsCallGraph(fr *FileResult, programs []string) bool {
	for _, f := range fr.Findings {
		if f.Function != "" && !slices.Contains(programs, f.Function) {
			return true
		}
	}
	return false
}

// attribute charges every finding of fr to programs and sets each
// program's findings and status.
func attribute(fr *FileResult, g CallGraph, progs []*ProgramResult, lock map[string]bool) {
	byName := map[string]*ProgramResult{}
	for _, p := range progs {
		byName[p.Program] = p
	}
	for i := range fr.Findings {
		f := &fr.Findings[i]
		f.Programs = g.ProgramsOf(f.Function)
		if f.Severity != "error" && f.Severity != "warning" {
			continue
		}
		for _, name := range f.Programs {
			if p := byName[name]; p != nil {
				p.Findings = append(p.Findings, fmt.Sprintf("%s %s:%d: %s", f.Code, shortPath(f.File), f.Line, f.Message))
			}
		}
	}
	for _, p := range progs {
		p.LockReject = p.Verdict.Verdict == verifier.Reject && lock[p.Code]
		p.InLockFile = fr.UsesLocks
		p.Status = programStatus(p)
	}
}

// lockAPI names what makes a file one about locks: a lock type or call,
// a graph kfunc, an allocated object. Read from the source text, macro
// uses included (a selftest builds calls with bpf_list_##op).
var lockAPI = regexp.MustCompile(`\b(bpf_(res_)?spin_(un)?lock|bpf_obj_new|bpf_percpu_obj_new|bpf_refcount_acquire|bpf_list_\w*|bpf_rbtree_\w*|bpf_rb_root|bpf_list_head)\b`)

// usesLocks reports whether src uses locks, graphs or allocated objects.
func usesLocks(src []byte) bool { return lockAPI.Match(src) }

// programStatus sets the kernel's verdict against the findings charged to
// the program.
func programStatus(p *ProgramResult) string {
	switch {
	case p.Verdict.Verdict == verifier.Accept && len(p.Findings) == 0:
		return StatusAccept
	case p.Verdict.Verdict == verifier.Accept:
		return StatusFalseAlarm
	case p.Verdict.Verdict != verifier.Reject:
		return StatusError
	case !p.LockReject:
		return StatusReject
	case len(p.Findings) == 0:
		return StatusLockMissed
	}
	for _, f := range p.Findings {
		if code, _, _ := strings.Cut(f, " "); verifier.SameBug(p.Code, code) {
			return StatusLockMatch
		}
	}
	return StatusLockOther
}

func shortPath(p string) string {
	if i := strings.LastIndex(p, "/"); i >= 0 {
		return p[i+1:]
	}
	return p
}

// score computes the corpus-wide numbers.
func score(files []FileResult, progs []ProgramResult) Scores {
	var s Scores
	var times, cpu []float64
	for _, f := range files {
		s.Files++
		if f.Compiled {
			s.Compiled++
			if f.Clean {
				s.ParsedClean++
			}
		}
		if f.InternalError != "" {
			s.InternalErrors++
		}
		if f.Seconds > SlowSeconds {
			s.Over1s++
		}
		if f.Seconds > s.MaxSeconds {
			s.MaxSeconds, s.MaxFile = f.Seconds, f.Name
		}
		if f.CPUSeconds > SlowSeconds {
			s.Over1sCPU++
		}
		if f.CPUSeconds > s.MaxCPUSeconds {
			s.MaxCPUSeconds, s.MaxCPUFile = f.CPUSeconds, f.Name
		}
		s.CheckMaxRSSKB = max(s.CheckMaxRSSKB, f.MaxRSSKB)
		times = append(times, f.Seconds)
		cpu = append(cpu, f.CPUSeconds)
		for _, fd := range f.Findings {
			if f.Compiled && len(fd.Programs) == 0 && (fd.Severity == "error" || fd.Severity == "warning") {
				s.Unattributed++
			}
		}
	}
	if s.Compiled > 0 {
		s.ParsedCleanPct = math.Round(1000*float64(s.ParsedClean)/float64(s.Compiled)) / 10
	}
	s.P99Seconds = Percentile(times, 0.99)
	s.P99CPUSeconds = Percentile(cpu, 0.99)
	for _, p := range progs {
		s.Programs++
		switch p.Status {
		case StatusAccept:
			s.Accepted++
		case StatusFalseAlarm:
			s.Accepted++
			s.FalseAlarms++
		case StatusError:
			s.LoadErrors++
		default:
			s.Rejected++
		}
		if p.LockReject {
			s.LockRejections++
			if p.Status != StatusLockMissed {
				s.LockFound++
			}
			if p.Status == StatusLockMatch {
				s.LockMatching++
			}
			if p.InLockFile {
				s.LockFileRejections++
				if p.Status != StatusLockMissed {
					s.LockFileFound++
				}
				if p.Status == StatusLockMatch {
					s.LockFileMatching++
				}
			}
		}
	}
	return s
}

// Percentile returns the q-quantile (nearest rank) of xs.
func Percentile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	sort.Float64s(s)
	i := int(math.Ceil(q*float64(len(s)))) - 1
	return s[max(0, min(i, len(s)-1))]
}
