package verifier

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"testing"
)

// Kernel BTF that does not exist and kernel BTF this user cannot read are
// different problems with different fixes.
func TestKernelBTFErrorSaysWhatIsWrong(t *testing.T) {
	for _, c := range []struct {
		err  error
		want string
	}{
		{&fs.PathError{Op: "open", Path: "/sys/kernel/btf/vmlinux", Err: fs.ErrNotExist}, "absent"},
		{&fs.PathError{Op: "open", Path: "/sys/kernel/btf/vmlinux", Err: fs.ErrPermission}, "unreadable"},
		{fmt.Errorf("parse: %w", errors.New("bad magic")), "could not be parsed"},
	} {
		var ce *CapabilityError
		if err := kernelBTFError(c.err); !errors.As(err, &ce) || !strings.Contains(ce.Msg, c.want) {
			t.Errorf("%v: got %v, want a capability error saying %q", c.err, err, c.want)
		}
	}
	if msg := kernelBTFError(fs.ErrPermission).Error(); strings.Contains(msg, "CONFIG_DEBUG_INFO_BTF") {
		t.Errorf("unreadable BTF blamed on the kernel config: %s", msg)
	}
}
