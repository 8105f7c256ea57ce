package kernels

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// Call kinds.
const (
	Helper = "helper" // a BPF_FUNC_* helper, named bpf_<name>
	Kfunc  = "kfunc"
)

// Calls is what one kernel offers a BPF program to call, as read from its
// BTF.
type Calls struct {
	Kfuncs  map[string]bool // FUNCs tagged bpf_kfunc
	Funcs   map[string]bool // every FUNC: kernels before pahole 1.25 do not tag kfuncs
	Helpers map[string]bool // bpf_<name> for each BPF_FUNC_<name> of enum bpf_func_id
}

// Of returns the set of one kind.
func (c Calls) Of(kind string) map[string]bool {
	if kind == Helper {
		return c.Helpers
	}
	return c.Kfuncs
}

// CallsFromBTF reads a kernel's kfuncs and helpers from its BTF.
func CallsFromBTF(spec *btf.Spec) (Calls, error) {
	c := Calls{Kfuncs: map[string]bool{}, Funcs: map[string]bool{}, Helpers: map[string]bool{}}
	for t, err := range spec.All() {
		if err != nil {
			return c, err
		}
		switch x := t.(type) {
		case *btf.Func:
			c.Funcs[x.Name] = true
			if slices.Contains(x.Tags, "bpf_kfunc") {
				c.Kfuncs[x.Name] = true
			}
		case *btf.Enum:
			if x.Name != "bpf_func_id" {
				continue
			}
			for _, v := range x.Values {
				if name, ok := strings.CutPrefix(v.Name, "BPF_FUNC_"); ok && name != "unspec" {
					c.Helpers["bpf_"+name] = true
				}
			}
		}
	}
	return c, nil
}

//go:embed available.txt
var availableText string

// available maps kind/name to the catalogued versions that have it.
var available = parseAvailable(availableText)

func parseAvailable(text string) map[string][]string {
	out := map[string][]string{}
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 || strings.HasPrefix(f[0], "#") {
			continue
		}
		out[f[0]+"/"+f[1]] = f[2:]
	}
	return out
}

// Known reports whether any catalogued kernel has a call of this kind and
// name: a call bpf-lsp can judge for availability.
func Known(kind, name string) bool {
	_, ok := available[kind+"/"+name]
	return ok
}

// FirstWith returns the oldest catalogued version that has the call, or ""
// when none has it. Versions between catalogued ones are not known: the
// answer is the first kernel bpf-lsp could check.
func FirstWith(kind, name string) string {
	if vs := available[kind+"/"+name]; len(vs) > 0 {
		return vs[0]
	}
	return ""
}

// LastWith returns the newest catalogued version that has the call ("" for
// none); older than the newest catalogued kernel means it was removed.
func LastWith(kind, name string) string {
	if vs := available[kind+"/"+name]; len(vs) > 0 {
		return vs[len(vs)-1]
	}
	return ""
}

// Target is the kernel a program is checked for.
type Target struct {
	Name    string  // "6.12", "6.18.44 (running)", or the BTF/header path
	Version Version // {0,0} when unknown (a BTF file or header without a version)
	has     func(kind, name string) bool
}

// Has reports whether the target offers the call.
func (t *Target) Has(kind, name string) bool { return t.has(kind, name) }

// OpenTarget resolves a --kernel value: "running" (the default), a
// catalogued version ("6.12"), or a path to a BTF file
// (/sys/kernel/btf/vmlinux), a vmlinux ELF or a vmlinux.h.
func OpenTarget(spec string) (*Target, error) {
	switch {
	case spec == "" || spec == "running":
		return runningTarget()
	case strings.ContainsRune(spec, '/') || strings.HasSuffix(spec, ".h"):
		return fileTarget(spec)
	}
	k, err := Lookup(spec)
	if err != nil {
		return nil, err
	}
	v, _ := ParseVersion(k.Version)
	return &Target{Name: k.Version, Version: v, has: func(kind, name string) bool {
		return slices.Contains(available[kind+"/"+name], k.Version)
	}}, nil
}

// fileTargets are the targets read from files, by path, kept while the
// file is unchanged: the server asks for its targets on every analysis,
// and a vmlinux.h or BTF file takes tens of milliseconds to read.
var fileTargets sync.Map // path -> loadedTarget

type loadedTarget struct {
	size  int64
	mtime time.Time
	t     *Target
}

// fileTarget reads the target a BTF file, a vmlinux ELF or a vmlinux.h
// at path describes, or returns the one read before from the same file.
func fileTarget(path string) (*Target, error) {
	st, statErr := os.Stat(path)
	if statErr == nil {
		if v, ok := fileTargets.Load(path); ok {
			if l := v.(loadedTarget); l.size == st.Size() && l.mtime.Equal(st.ModTime()) {
				return l.t, nil
			}
		}
	}
	var t *Target
	if strings.HasSuffix(path, ".h") {
		var err error
		if t, err = headerTarget(path); err != nil {
			return nil, err
		}
	} else {
		s, err := btf.LoadSpec(path)
		if err != nil {
			return nil, fmt.Errorf("--kernel %s: %w", path, err)
		}
		t = btfTarget(path, Version{}, s)
	}
	if statErr == nil {
		fileTargets.Store(path, loadedTarget{size: st.Size(), mtime: st.ModTime(), t: t})
	}
	return t, nil
}

// runningTarget is loaded once per process: the server asks for it on every
// analysis, and the running kernel's BTF does not change under it.
var runningTarget = sync.OnceValues(loadRunningTarget)

func loadRunningTarget() (*Target, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return nil, err
	}
	release := unix.ByteSliceToString(uts.Release[:])
	v, _ := ParseVersion(release)
	s, err := btf.LoadKernelSpec()
	if err != nil {
		return nil, fmt.Errorf("running kernel %s: BTF unavailable (%w) -> pass --kernel VERSION", release, err)
	}
	return btfTarget(release+" (running)", v, s), nil
}

// btfTarget answers from a kernel's BTF, looking names up lazily (loading
// every type of vmlinux costs ~90 ms and 40 MB; a lookup costs µs).
func btfTarget(name string, v Version, s *btf.Spec) *Target {
	var helpers map[string]bool
	var mu sync.Mutex // a Target is shared by concurrent analyses
	return &Target{Name: name, Version: v, has: func(kind, call string) bool {
		mu.Lock()
		defer mu.Unlock()
		if kind == Kfunc {
			var fn *btf.Func
			return s.TypeByName(call, &fn) == nil
		}
		if helpers == nil {
			helpers = map[string]bool{}
			var e *btf.Enum
			if s.TypeByName("bpf_func_id", &e) == nil {
				for _, val := range e.Values {
					helpers["bpf_"+strings.TrimPrefix(val.Name, "BPF_FUNC_")] = true
				}
			}
		}
		return helpers[call]
	}}
}

var (
	headerHelper = regexp.MustCompile(`^\s*BPF_FUNC_(\w+) = \d+`)
	headerKfunc  = regexp.MustCompile(`^extern .*?\b(\w+)\(.*__ksym;`)
)

// headerTarget reads a vmlinux.h from bpftool: helpers from enum
// bpf_func_id; kfuncs from the extern __ksym prototypes newer bpftool
// emits. A header without prototypes cannot tell kfuncs apart: every kfunc
// then counts as present.
func headerTarget(path string) (*Target, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("--kernel %s: %w", path, err)
	}
	defer f.Close()
	helpers, kfuncs := map[string]bool{}, map[string]bool{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if m := headerHelper.FindStringSubmatch(line); m != nil {
			helpers["bpf_"+m[1]] = true
		} else if m := headerKfunc.FindStringSubmatch(line); m != nil {
			kfuncs[m[1]] = true
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("--kernel %s: %w", path, err)
	}
	if len(helpers) == 0 {
		return nil, errors.New("--kernel " + path + ": no enum bpf_func_id: not a vmlinux.h")
	}
	return &Target{Name: path, has: func(kind, name string) bool {
		if kind == Helper {
			return helpers[name]
		}
		return len(kfuncs) == 0 || kfuncs[name]
	}}, nil
}

// OpenTargets opens several --kernel values. The running
// kernel ("" or "running") is left out without an error when its BTF
// cannot be read, so a default target never fails a check.
func OpenTargets(specs []string) ([]*Target, error) {
	var ts []*Target
	var errs []error
	for _, spec := range specs {
		t, err := OpenTarget(spec)
		switch {
		case err != nil && (spec == "" || spec == "running"):
		case err != nil:
			errs = append(errs, err)
		default:
			ts = append(ts, t)
		}
	}
	return ts, errors.Join(errs...)
}
