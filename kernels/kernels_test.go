package kernels

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestCatalogue(t *testing.T) {
	ks := All()
	if len(ks) < 4 {
		t.Fatalf("catalogue has %d kernels", len(ks))
	}
	for i, k := range ks {
		if len(k.SHA256) != 64 || k.Package == "" || k.Image == "" {
			t.Errorf("%s: incomplete entry %+v", k, k)
		}
		if i > 0 && Compare(ks[i-1].Version, k.Version) >= 0 {
			t.Errorf("catalogue not ordered at %s", k)
		}
	}
	got, err := ParseList("7.3, 5.10,6.12.117,7.3")
	if err != nil {
		t.Fatal(err)
	}
	if names := []string{got[0].Version, got[1].Version, got[2].Version}; len(got) != 3 || !slices.Equal(names, []string{"5.10", "6.12", "7.3"}) {
		t.Errorf("ParseList = %v", got)
	}
	if _, err := ParseList("6.5"); err == nil {
		t.Error("6.5 is not catalogued: want an error")
	}
}

// TestIntroducedAgreesWithBTF checks each documented release against the
// tables generated from the kernels' BTF.
func TestIntroducedAgreesWithBTF(t *testing.T) {
	for name, since := range introduced {
		vs := available[Kfunc+"/"+name]
		if len(vs) == 0 {
			t.Errorf("%s (since %s) is in no catalogued kernel's BTF", name, since)
			continue
		}
		for _, k := range All() {
			has := slices.Contains(vs, k.Version)
			if want := Compare(k.Version, since) >= 0; has != want {
				t.Errorf("%s: documented since %s, but kernel %s has it = %v", name, since, k.Version, has)
			}
		}
	}
}

func TestTargets(t *testing.T) {
	k612, err := OpenTarget("6.12")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		kind, name string
		want       bool
	}{
		{Kfunc, "bpf_rbtree_add_impl", true},
		{Kfunc, "bpf_res_spin_lock", false},
		{Kfunc, "bpf_rbtree_root", false},
		{Helper, "bpf_spin_lock", true},
	} {
		if got := k612.Has(c.kind, c.name); got != c.want {
			t.Errorf("6.12 has %s = %v, want %v", c.name, got, c.want)
		}
	}
	if Since(Kfunc, "bpf_res_spin_lock") != "6.15" || FirstWith(Kfunc, "bpf_res_spin_lock") != "7.2" {
		t.Errorf("bpf_res_spin_lock: since %s, first catalogued %s", Since(Kfunc, "bpf_res_spin_lock"), FirstWith(Kfunc, "bpf_res_spin_lock"))
	}
	if _, err := OpenTarget("/sys/kernel/btf/vmlinux"); err != nil {
		t.Logf("no kernel BTF here: %v", err)
	}
}

// A target read from a file is read again only when the file changes.
func TestFileTargetKeptWhileUnchanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "vmlinux.h")
	write := func(text string, mtime time.Time) {
		t.Helper()
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
	}
	then := time.Now().Add(-time.Hour)
	write("enum bpf_func_id {\n\tBPF_FUNC_spin_lock = 93,\n};\nextern int bpf_obj_new_impl(void) __ksym;\n", then)
	a, err := OpenTarget(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := OpenTarget(path); err != nil || b != a {
		t.Errorf("second open: %p, %v; want the first target %p again", b, err, a)
	}
	if !a.Has(Helper, "bpf_spin_lock") || a.Has(Kfunc, "bpf_rbtree_add_impl") {
		t.Errorf("the header's target: spin_lock %v, rbtree_add %v", a.Has(Helper, "bpf_spin_lock"), a.Has(Kfunc, "bpf_rbtree_add_impl"))
	}
	write("enum bpf_func_id {\n\tBPF_FUNC_map_lookup_elem = 1,\n};\nextern int bpf_obj_new_impl(void) __ksym;\n", then.Add(time.Minute))
	c, err := OpenTarget(path)
	if err != nil || c == a || c.Has(Helper, "bpf_spin_lock") {
		t.Errorf("after the file changed: %p (first %p), %v, spin_lock %v", c, a, err, c != nil && c.Has(Helper, "bpf_spin_lock"))
	}
}
