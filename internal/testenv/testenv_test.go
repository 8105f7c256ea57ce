package testenv

import (
	"os"
	"os/exec"
	"testing"
)

// TestSkipFailsWhenRequired runs a child test that calls Skip with the
// variable set and unset, and checks the outcome of each.
func TestSkipFailsWhenRequired(t *testing.T) {
	if os.Getenv("TESTENV_CHILD") == "1" {
		Skip(t, "pretend clang is missing")
		return
	}
	for _, c := range []struct {
		required string
		wantFail bool
	}{{"", false}, {"1", true}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSkipFailsWhenRequired$", "-test.v")
		cmd.Env = append(os.Environ(), "TESTENV_CHILD=1", RequireEnv+"="+c.required)
		out, err := cmd.CombinedOutput()
		if failed := err != nil; failed != c.wantFail {
			t.Errorf("%s=%q: failed=%v, want %v\n%s", RequireEnv, c.required, failed, c.wantFail, out)
		}
	}
}
