package scenarios

import (
	"strings"
	"testing"
)

func TestMaxErrorRate(t *testing.T) {
	const base = "name: t\nload: {clients: 1, hold: 1s}\nflow: [{connect: {}}]\n"
	s, err := Parse("t.yaml", []byte(base))
	if err != nil || s.MaxErrorRate != DefaultMaxErrorRate {
		t.Fatalf("default: %v, %v; want %v", err, s, DefaultMaxErrorRate)
	}
	s, err = Parse("t.yaml", []byte(base+"max_error_rate: 0.5\n"))
	if err != nil || s.MaxErrorRate != 0.5 {
		t.Fatalf("0.5: %v, %+v", err, s)
	}
	for src, want := range map[string]string{
		"max_error_rate: 1.5\n":  "t.yaml:4: max_error_rate: want a fraction of operations from 0 to 1, got 1.5",
		"max_error_rate: -0.1\n": "t.yaml:4: max_error_rate: must not be negative",
		"max_error_rate: 10%\n":  "t.yaml:4: max_error_rate: want a number",
	} {
		_, err := Parse("t.yaml", []byte(base+src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%q: got %v, want %q", src, err, want)
		}
	}
}
