// Package kernels is bpf-lsp's catalogue of the kernel versions it knows:
// where to fetch each one (a pinned Debian package), and which kfuncs and
// helpers each one has (tables generated from the kernels' own BTF by
// scripts/gen-kernel-tables.sh), so static checks can target a version
// without a VM.
package kernels

import (
	_ "embed"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Kernel is one catalogued kernel.
type Kernel struct {
	Version    string // "6.12": what users type
	Archive    string // Debian archive URL
	Suite      string // e.g. "trixie-backports"
	Package    string // binary package holding the image
	DebVersion string // the pinned package version
	SHA256     string // of the .deb
	Image      string // path of the compressed kernel image inside the .deb
}

func (k Kernel) String() string { return k.Version }

//go:embed catalogue.txt
var catalogueText string

// catalogue is parsed once; the file is part of the binary, so a parse
// error is a build defect that the package's tests catch.
var catalogue = mustParseCatalogue(catalogueText)

func mustParseCatalogue(text string) []Kernel {
	ks, err := parseCatalogue(text)
	if err != nil {
		panic(err)
	}
	return ks
}

func parseCatalogue(text string) ([]Kernel, error) {
	var out []Kernel
	for n, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 7 {
			return nil, fmt.Errorf("catalogue.txt:%d: want 7 fields, got %d", n+1, len(f))
		}
		if _, err := ParseVersion(f[0]); err != nil {
			return nil, fmt.Errorf("catalogue.txt:%d: %w", n+1, err)
		}
		out = append(out, Kernel{Version: f[0], Archive: f[1], Suite: f[2], Package: f[3], DebVersion: f[4], SHA256: f[5], Image: f[6]})
	}
	slices.SortFunc(out, func(a, b Kernel) int { return Compare(a.Version, b.Version) })
	return out, nil
}

// All returns the catalogued kernels, oldest first.
func All() []Kernel { return slices.Clone(catalogue) }

// Lookup finds a catalogued kernel by version ("6.12"; "6.12.117" also
// matches its series).
func Lookup(version string) (Kernel, error) {
	v, err := ParseVersion(version)
	if err != nil {
		return Kernel{}, err
	}
	for _, k := range catalogue {
		kv, _ := ParseVersion(k.Version)
		if kv.Major == v.Major && kv.Minor == v.Minor {
			return k, nil
		}
	}
	return Kernel{}, fmt.Errorf("kernel %s is not in the catalogue (have %s)", version, strings.Join(Versions(), ", "))
}

// Versions lists the catalogued versions, oldest first.
func Versions() []string {
	out := make([]string, len(catalogue))
	for i, k := range catalogue {
		out[i] = k.Version
	}
	return out
}

// ParseList parses a --kernels value: "all", or versions separated by
// commas. The result is ordered oldest first, without repeats.
func ParseList(s string) ([]Kernel, error) {
	if strings.TrimSpace(s) == "all" {
		return All(), nil
	}
	var out []Kernel
	for _, v := range strings.Split(s, ",") {
		v = strings.TrimSpace(v)
		if v == "" {
			continue
		}
		k, err := Lookup(v)
		if err != nil {
			return nil, err
		}
		if !slices.ContainsFunc(out, func(o Kernel) bool { return o.Version == k.Version }) {
			out = append(out, k)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no kernel versions in %q", s)
	}
	slices.SortFunc(out, func(a, b Kernel) int { return Compare(a.Version, b.Version) })
	return out, nil
}

// Version is a kernel release's major.minor.
type Version struct{ Major, Minor int }

func (v Version) String() string { return fmt.Sprintf("%d.%d", v.Major, v.Minor) }

// Less orders versions.
func (v Version) Less(o Version) bool {
	return v.Major < o.Major || v.Major == o.Major && v.Minor < o.Minor
}

// Compare returns -1, 0 or 1 as v is older than, equal to or newer than o.
func (v Version) Compare(o Version) int {
	switch {
	case v.Less(o):
		return -1
	case o.Less(v):
		return 1
	}
	return 0
}

// ParseVersion reads "6.12", "6.12.117" or "6.12.117+deb13-cloud-amd64".
func ParseVersion(s string) (Version, error) {
	parts := strings.SplitN(s, ".", 3)
	if len(parts) < 2 {
		return Version{}, fmt.Errorf("kernel version %q: want MAJOR.MINOR", s)
	}
	minor := parts[1]
	if i := strings.IndexFunc(minor, func(r rune) bool { return r < '0' || r > '9' }); i >= 0 {
		minor = minor[:i]
	}
	maj, err1 := strconv.Atoi(parts[0])
	min, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		return Version{}, fmt.Errorf("kernel version %q: want MAJOR.MINOR", s)
	}
	return Version{maj, min}, nil
}

// Compare orders two version strings (unparsable ones first).
func Compare(a, b string) int {
	va, _ := ParseVersion(a)
	vb, _ := ParseVersion(b)
	return va.Compare(vb)
}
