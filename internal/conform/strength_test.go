package conform

import (
	"io/fs"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// TestBuiltinCasesSayTheirRule keeps the built-in cases self-contained and
// graded by their rule: each one says the strength of the rule it checks
// and the rule's sentence, and its spec names a public source, not the
// notes the cases were first written from (a protocol.md outside the
// repository, its D-numbers and X-numbers).
func TestBuiltinCasesSayTheirRule(t *testing.T) {
	private := regexp.MustCompile(`protocol\.md|shared/reference|\bX-[A-Z]\d|\bD\d+\b`)
	err := fs.WalkDir(builtin, "cases", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(builtin, p)
		if err != nil {
			return err
		}
		if m := private.Find(data); m != nil {
			t.Errorf("%s: cites %q, which is not a public source", p, m)
		}
		var root yaml.Node
		if err := yaml.Unmarshal(data, &root); err != nil {
			return err
		}
		for _, c := range lookup(root.Content[0], "cases").Content {
			id := lookup(c, "id").Value
			if s := lookup(c, "strength"); s == nil {
				t.Errorf("%s: %s: no strength (must, should, open or must-ref)", p, id)
			}
			if r := lookup(c, "rule"); r == nil || strings.TrimSpace(r.Value) == "" {
				t.Errorf("%s: %s: no rule sentence", p, id)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	cases, err := LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	n := map[Strength]int{}
	for _, c := range cases {
		n[c.Strength]++
	}
	if n[Must] == 0 || n[Should] == 0 || n[Open] == 0 || n[MustRef] == 0 || n[Must]+n[Should]+n[Open]+n[MustRef] != len(cases) {
		t.Errorf("strengths %v over %d cases: want every case must, should, open or must-ref, and each strength used", n, len(cases))
	}
}

// TestStrengthGrades: the strength decides a broken rule's verdict; a bad
// strength and the old case-level on_fail are load errors naming the line.
func TestStrengthGrades(t *testing.T) {
	for s, want := range map[Strength]Verdict{Must: Fail, Should: Warn, Open: Info} {
		if got := s.Broken(); got != want {
			t.Errorf("%s.Broken() = %s, want %s", s, got, want)
		}
	}
	const head = "cases:\n  - id: eio4.a.b\n    description: d\n    spec: s\n"
	for _, tc := range []struct{ extra, want string }{
		{"    strength: maybe\n", "f.yaml:5: eio4.a.b.strength: want must, should, open or must-ref, got \"maybe\""},
		{"    on_fail: info\n", "f.yaml:5: eio4.a.b.on_fail: a case has no on_fail; say how strong its rule is with strength: must, should or open (open: a difference is info)"},
	} {
		_, err := parseFile("f.yaml", []byte(head+tc.extra+"    steps:\n      - sleep: 1ms\n"))
		if err == nil || err.Error() != tc.want {
			t.Errorf("%q: err = %v, want %s", tc.extra, err, tc.want)
		}
	}
	cs, err := parseFile("f.yaml", []byte(head+"    steps:\n      - sleep: 1ms\n"))
	if err != nil || cs[0].Strength != Must {
		t.Errorf("no strength: %v, %v; want must (a case file from before strengths grades as it did)", cs, err)
	}
	rep := &Report{Results: []Result{{Verdict: Warn}}}
	if rep.Failed() {
		t.Error("a warn failed a run that is not strict")
	}
	if rep.Strict = true; !rep.Failed() {
		t.Error("a warn did not fail a strict run")
	}
}
