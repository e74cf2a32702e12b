package conform

import (
	"strings"
	"testing"
)

func TestPadding(t *testing.T) {
	b, err := padding{to: 7, unit: []byte("€")}.apply([]byte("4"))
	if err != nil || string(b) != "4€€" {
		t.Fatalf("got %q, %v", b, err)
	}
	if _, err := (padding{to: 6, unit: []byte("€")}).apply([]byte("4")); err == nil {
		t.Fatal("padding 1 byte to 6 with 3-byte units succeeded")
	}
	_, err = parseFile("p.yaml", []byte(`
server: engineio
cases:
  - id: eio4.x.pad
    description: d
    spec: s
    steps:
      - http: {method: POST, body: "4", pad: "b"}
`))
	if err == nil || !strings.Contains(err.Error(), "p.yaml:8: eio4.x.pad.steps[0].http.pad: needs pad_to") {
		t.Fatalf("pad without pad_to: %v", err)
	}
}
