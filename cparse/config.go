package cparse

import (
	_ "embed"
	"fmt"
	"path/filepath"
	"strconv"
	"strings"
	"sync"

	"modernc.org/cc/v4"
)

// bpfPredefined is what `clang -target bpf` predefines, so parsing needs no
// clang at run time and sees __bpf__/__clang__ (not __x86_64__), as libbpf's
// headers expect.
//
//go:generate sh -c "clang-19 -target bpf -x c -dM -E - </dev/null | sort > bpf_predefined.h"
//go:embed bpf_predefined.h
var bpfPredefined string

// bpfABI is the ABI cc/v4 lays out types with. There is no BPF ABI in cc/v4;
// linux/amd64 is LP64 little-endian like BPF, which is what layout needs.
// BPF's long double is 8 bytes; AdjustLongDouble makes the ABI agree. It
// writes the ABI's type table, so it runs once here, not per parse (parses
// run concurrently and share the ABI).
var bpfABI = sync.OnceValues(func() (*cc.ABI, error) {
	abi, err := cc.NewABI("linux", "amd64")
	if err != nil {
		return nil, err
	}
	cfg := &cc.Config{ABI: abi, Predefined: bpfPredefined}
	if err := cfg.AdjustLongDouble(); err != nil {
		return nil, err
	}
	return abi, nil
})

// clangResourceDir is the include directory of the newest installed
// clang (its stddef.h, stdint.h, ...), "" when none is installed.
var clangResourceDir = sync.OnceValue(func() string {
	dirs, _ := filepath.Glob("/usr/lib/llvm-*/lib/clang/*/include")
	best, bestVersion := "", -1
	for _, d := range dirs {
		v, err := strconv.Atoi(strings.TrimPrefix(strings.SplitN(strings.TrimPrefix(d, "/usr/lib/"), "/", 2)[0], "llvm-"))
		if err == nil && v > bestVersion {
			best, bestVersion = d, v
		}
	}
	return best
})

// ccCompat teaches cc/v4 what clang 19 knows and cc/v4 does not, as
// macros after clang's predefined ones: C23's typeof_unqual, which libbpf's
// BPF_CORE_READ uses with clang 19, read as typeof (qualifiers do not
// matter to the analysis).
const ccCompat = `#define __typeof_unqual__(x) __typeof__(x)
#define typeof_unqual(x) __typeof__(x)
`

// builtinCompat follows cc/v4's own builtin declarations (a macro named
// like a builtin must come after its declaration): byte swaps as
// expressions, so a constant one is a constant expression, as clang folds
// it (`case __bpf_htons(ETH_P_IP):`). The argument is read twice, which
// changes nothing for a parser.
const builtinCompat = `#define __builtin_bswap16(x) ((__UINT16_TYPE__)((((x) & 0xff) << 8) | (((x) >> 8) & 0xff)))
#define __builtin_bswap32(x) ((__UINT32_TYPE__)(__builtin_bswap16((x) & 0xffff) << 16 | __builtin_bswap16((x) >> 16)))
#define __builtin_bswap64(x) ((__UINT64_TYPE__)((__UINT64_TYPE__)__builtin_bswap32((x) & 0xffffffff) << 32 | __builtin_bswap32((x) >> 32)))
`

// newConfig builds a fresh cc.Config for one parse. Each parse gets its own
// Config: cc/v4 fills a private keyword table on first use, which races when
// a Config is shared between goroutines.
func newConfig(flags flagSet, fsys *overlayFS) (*cc.Config, error) {
	abi, err := bpfABI()
	if err != nil {
		return nil, fmt.Errorf("BPF ABI: %w", err)
	}
	var pre strings.Builder
	pre.WriteString(bpfPredefined)
	pre.WriteString(ccCompat)
	for _, d := range flags.Defines {
		name, value, ok := strings.Cut(d, "=")
		if !ok {
			value = "1"
		}
		fmt.Fprintf(&pre, "#define %s %s\n", name, value)
	}
	for _, u := range flags.Undefines {
		fmt.Fprintf(&pre, "#undef %s\n", u)
	}
	cfg := &cc.Config{
		ABI:             abi,
		FS:              fsys,
		FSOnly:          true, // every read goes through fsys: regular files, size cap, markers
		PragmaHandler:   fsys.inc.pragma,
		Predefined:      pre.String(),
		IncludePaths:    fsys.inc.quoted,
		SysIncludePaths: fsys.inc.angle,
		// Bounds macro expansion work: a few hundred bytes of hostile
		// macros can otherwise take hours.
		ExpansionLimit: 50_000_000,
		// clang checked these already; cc/v4 cannot evaluate all of them
		// (bpf_assert_range's asserts on __builtin_constant_p), and its
		// sizes differ from clang's for packed structs.
		IgnoreStaticAssert: true,
	}
	return cfg, nil
}
