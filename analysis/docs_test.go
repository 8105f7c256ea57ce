package analysis

import (
	"flag"
	"os"
	"testing"
)

var update = flag.Bool("update", false, "rewrite generated files (docs/rules.md)")

func TestRulesDoc(t *testing.T) {
	const path = "../docs/rules.md"
	want := RulesMarkdown()
	if *update {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != want {
		t.Fatalf("%s is stale: run `go test ./analysis -run TestRulesDoc -update`", path)
	}
}

func TestRulesComplete(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range Rules() {
		if seen[r.Code] {
			t.Errorf("duplicate code %s", r.Code)
		}
		seen[r.Code] = true
		if r.Name == "" || r.Title == "" || r.Doc == "" {
			t.Errorf("%s: name, title and doc are required", r.Code)
		}
		if r.Code != CodeVerifierOther && (r.Bad == "" || r.Good == "") {
			t.Errorf("%s: needs a bad and a good example", r.Code)
		}
	}
}
