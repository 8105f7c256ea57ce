package verifier

import (
	"bufio"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// The .kconfig map: libbpf fills each `extern ... __kconfig` variable from
// the running kernel's configuration (/proc/config.gz, else
// /boot/config-$(uname -r)) and a few values it computes itself, then
// freezes the map. A variable the configuration does not set is 0 when
// declared __weak and a load failure otherwise.

// kernelConfig reads the running kernel's configuration ("CONFIG_X" ->
// "y", "m", "\"str\"", "123"). Lines "# CONFIG_X is not set" are absent
// options, as for libbpf.
func kernelConfig() (map[string]string, error) {
	var r io.Reader
	if f, err := os.Open("/proc/config.gz"); err == nil {
		defer f.Close()
		gz, err := gzip.NewReader(f)
		if err != nil {
			return nil, fmt.Errorf("/proc/config.gz: %w", err)
		}
		r = gz
	} else {
		var u unix.Utsname
		if err := unix.Uname(&u); err != nil {
			return nil, err
		}
		path := "/boot/config-" + unix.ByteSliceToString(u.Release[:])
		f, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("no kernel configuration: /proc/config.gz and %s are unreadable", path)
		}
		defer f.Close()
		r = f
	}
	out := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		name, value, ok := strings.Cut(sc.Text(), "=")
		if ok && strings.HasPrefix(name, "CONFIG_") {
			out[name] = value
		}
	}
	return out, sc.Err()
}

// kernelVersionCode is KERNEL_VERSION(a, b, c) of the running kernel.
func kernelVersionCode() (uint32, error) {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return 0, err
	}
	var v [3]uint32
	for i, part := range strings.SplitN(unix.ByteSliceToString(u.Release[:]), ".", 3) {
		digits := strings.IndexFunc(part, func(r rune) bool { return r < '0' || r > '9' })
		if digits >= 0 {
			part = part[:digits]
		}
		n, _ := strconv.ParseUint(part, 10, 32)
		v[i] = uint32(n)
	}
	return v[0]<<16 | v[1]<<8 | min(v[2], 255), nil
}

// kconfigData builds the contents of the .kconfig map for its Datasec.
func kconfigData(ds *btf.Datasec, weak map[string]bool) ([]byte, error) {
	data := make([]byte, ds.Size)
	var config map[string]string
	var configErr error
	for _, vsi := range ds.Vars {
		v, ok := vsi.Type.(*btf.Var)
		if !ok || int(vsi.Offset+vsi.Size) > len(data) {
			return nil, fmt.Errorf(".kconfig: bad variable %v", vsi.Type)
		}
		field := data[vsi.Offset : vsi.Offset+vsi.Size]
		var value string
		switch v.Name {
		case "LINUX_KERNEL_VERSION":
			code, err := kernelVersionCode()
			if err != nil {
				return nil, err
			}
			value = strconv.FormatUint(uint64(code), 10)
		case "LINUX_HAS_BPF_COOKIE":
			value = "1" // every kernel with BTF-typed programs has it
		default:
			if config == nil && configErr == nil {
				config, configErr = kernelConfig()
			}
			if v.Name == "LINUX_HAS_SYSCALL_WRAPPER" {
				value = strconv.Itoa(int(b2u(config["CONFIG_ARCH_HAS_SYSCALL_WRAPPER"] == "y")))
				break
			}
			if !strings.HasPrefix(v.Name, "CONFIG_") {
				// As libbpf: an unknown LINUX_ extern is 0 if __weak.
				if strings.HasPrefix(v.Name, "LINUX_") && weak[v.Name] {
					continue
				}
				return nil, fmt.Errorf("unsupported: .kconfig extern %s (libbpf knows only CONFIG_* and a few LINUX_* names)", v.Name)
			}
			value = config[v.Name]
			if value == "" {
				if weak[v.Name] {
					continue
				}
				if configErr != nil {
					return nil, fmt.Errorf(".kconfig extern %s: %w", v.Name, configErr)
				}
				return nil, fmt.Errorf(".kconfig extern %s: not set in the running kernel's configuration (declare it __weak to default to 0)", v.Name)
			}
		}
		if err := putKconfig(field, v.Type, value); err != nil {
			return nil, fmt.Errorf(".kconfig extern %s = %s: %w", v.Name, value, err)
		}
	}
	return data, nil
}

// putKconfig stores one configuration value as libbpf does: y/n/m into a
// bool, a char or an enum libbpf_tristate; a quoted string into a char
// array; a number into an integer.
func putKconfig(field []byte, t btf.Type, value string) error {
	t = btf.UnderlyingType(t)
	if value == "y" || value == "n" || value == "m" {
		switch x := t.(type) {
		case *btf.Int:
			switch {
			case x.Encoding&btf.Bool != 0:
				if value == "m" {
					return errors.New("'m' is not a bool")
				}
				field[0] = b2u(value == "y")
				return nil
			case x.Encoding&btf.Char != 0 || x.Size == 1:
				field[0] = value[0]
				return nil
			}
		case *btf.Enum:
			field[0] = map[string]byte{"n": 0, "y": 1, "m": 2}[value]
			return nil
		}
		return fmt.Errorf("type %v cannot hold a tristate", t)
	}
	if s, err := strconv.Unquote(value); err == nil && strings.HasPrefix(value, `"`) {
		arr, ok := t.(*btf.Array)
		if !ok {
			return fmt.Errorf("type %v cannot hold a string", t)
		}
		n := min(len(s), int(arr.Nelems)-1)
		copy(field, s[:max(n, 0)])
		return nil
	}
	i, ok := t.(*btf.Int)
	if !ok {
		if _, isEnum := t.(*btf.Enum); !isEnum {
			return fmt.Errorf("type %v cannot hold a number", t)
		}
	}
	n, err := strconv.ParseInt(value, 0, 64)
	if err != nil {
		u, uerr := strconv.ParseUint(value, 0, 64)
		if uerr != nil {
			return err
		}
		n = int64(u)
	}
	var buf [8]byte
	binary.LittleEndian.PutUint64(buf[:], uint64(n))
	size := len(field)
	if i != nil {
		size = min(size, int(i.Size))
	}
	copy(field, buf[:size])
	return nil
}

func b2u(b bool) byte {
	if b {
		return 1
	}
	return 0
}
