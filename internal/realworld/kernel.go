package realworld

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"golang.org/x/sys/unix"

	"github.com/bpf-lsp/bpf-lsp/analysis"
	"github.com/bpf-lsp/bpf-lsp/verifier"
)

// Verdict is the kernel's verdict on one program, from the project's loader.
type Verdict struct {
	Program string `json:"program"`
	Section string `json:"section"`
	// Verdict is verifier.Accept, verifier.Reject or verifier.Failed (the
	// loader could not prepare the program; Message says why).
	Verdict string `json:"verdict"`
	Message string `json:"message,omitempty"`
	Code    string `json:"code,omitempty"` // the rule code the rejection is classified as
	Line    int    `json:"line,omitempty"` // where the kernel points (its file may be a header)
}

// Kernel gets verdicts from `bpf-lsp verify` on prebuilt objects (the
// project's loader, in its own process so that its memory and any crash stay
// out of the harness's measurements) and caches them by (object, kernel
// release, loader version).
type Kernel struct {
	Bin     string // bpf-lsp
	Release string // uname -r
	Loader  string // fingerprint of the loader's code
	Dir     string // verdict cache
}

// loadTimeout bounds the verification of one object (the kernel's own
// limits stop any one program long before).
const loadTimeout = 10 * time.Minute

// NewKernel returns a Kernel for the running kernel, caching under dir.
func NewKernel(bin, dir, loader string) (*Kernel, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return nil, err
	}
	return &Kernel{Bin: bin, Release: unix.ByteSliceToString(u.Release[:]), Loader: loader, Dir: dir}, nil
}

// CapabilityError means the machine cannot load BPF programs (no root, no
// kernel BTF); the message says what is missing.
type CapabilityError struct{ Msg string }

func (e *CapabilityError) Error() string { return e.Msg }

// Verdicts returns the kernel's verdict on every program of obj: each is
// loaded on its own, so one rejection does not hide another. Anything the
// loader cannot do becomes a Failed verdict for the programs concerned; a
// missing capability is a *CapabilityError.
func (k *Kernel) Verdicts(ctx context.Context, obj string) ([]Verdict, error) {
	data, err := os.ReadFile(obj)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(data)
	cache := filepath.Join(k.Dir, k.Release, k.Loader, hex.EncodeToString(sum[:])+".json")
	if b, err := os.ReadFile(cache); err == nil {
		var vs []Verdict
		if json.Unmarshal(b, &vs) == nil {
			return vs, nil
		}
	}
	vs, err := k.load(ctx, obj, data)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(vs)
	if err != nil {
		return nil, err
	}
	return vs, writeIfChanged(cache, b)
}

// verifyResult is the part of `bpf-lsp verify --format json` used here.
type verifyResult struct {
	Program string `json:"program"`
	Verdict string `json:"verdict"`
	Message string `json:"message"`
	Line    int    `json:"line"`
	Code    string `json:"code"`
}

func (k *Kernel) load(ctx context.Context, obj string, data []byte) ([]Verdict, error) {
	objProgs, err := verifier.ObjectPrograms(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", obj, err)
	}
	progs := make([]Verdict, len(objProgs))
	for i, p := range objProgs {
		progs[i] = Verdict{Program: p.Name, Section: p.Section}
	}
	ctx, cancel := context.WithTimeout(ctx, loadTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, k.Bin, "verify", "--format", "json", obj)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	objErr := ""
	var results []verifyResult
	switch {
	case ctx.Err() != nil:
		objErr = fmt.Sprintf("bpf-lsp verify: killed after %s", loadTimeout)
	case errors.As(err, &ee) && ee.ExitCode() == 3:
		return nil, &CapabilityError{Msg: strings.TrimSpace(stderr.String())}
	case err != nil && (ee == nil || ee.ExitCode() != 1):
		objErr = fmt.Sprintf("bpf-lsp verify: %v: %s", err, lastLines(stderr.String(), 3))
	default:
		if err := json.Unmarshal(stdout.Bytes(), &results); err != nil {
			objErr = fmt.Sprintf("bpf-lsp verify: unreadable JSON: %v", err)
		}
	}
	byName := map[string]verifyResult{}
	for _, r := range results {
		if r.Program == "" {
			objErr = r.Message // the object as a whole could not be loaded
			continue
		}
		byName[r.Program] = r
	}
	for i := range progs {
		p := &progs[i]
		r, ok := byName[p.Program]
		switch {
		case ok:
			p.Verdict, p.Line = r.Verdict, r.Line
			if r.Verdict != verifier.Accept {
				p.Message = r.Message
			}
			if r.Verdict == verifier.Reject {
				p.Code = r.Code
			}
		case objErr != "":
			p.Verdict, p.Message = verifier.Failed, objErr
		default:
			p.Verdict, p.Message = verifier.Failed, "bpf-lsp verify did not report this program"
		}
	}
	return progs, nil
}

// LoaderFingerprint hashes the loader's sources (the verifier package, the
// verify command and the module's dependency versions) in the repository at
// repo, and the rules' kernel patterns the classifier reads, so cached
// verdicts are recomputed when the loader changes.
func LoaderFingerprint(repo string) (string, error) {
	files, err := filepath.Glob(filepath.Join(repo, "verifier", "*.go"))
	if err != nil {
		return "", err
	}
	files = append(files, filepath.Join(repo, "cmd", "bpf-lsp", "verify.go"), filepath.Join(repo, "go.sum"))
	sort.Strings(files)
	h := sha256.New()
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		data, err := os.ReadFile(f)
		if err != nil {
			return "", fmt.Errorf("loader fingerprint: %w", err)
		}
		fmt.Fprintf(h, "%s %d\n", filepath.Base(f), len(data))
		h.Write(data)
	}
	// The classifier files messages under rules by their kernel patterns,
	// which live with the rules (this binary's copy of them).
	for _, r := range analysis.Rules() {
		fmt.Fprintf(h, "%s %q\n", r.Code, r.KernelPatterns)
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}
