package scenarios

import (
	"strings"
	"testing"
)

// TestFastTemplatesRenderAsTextTemplate: the templates rendered without
// text/template give exactly what text/template gives, and the others
// still go through it.
func TestFastTemplatesRenderAsTextTemplate(t *testing.T) {
	cases := []struct {
		src  string
		fast bool
	}{
		{"{{.Seq}}", true},
		{"{{ .Client }}-{{.Seq}} at {{.SendTime}}", true},
		{"c{{.Client}}", true},
		{"{{- .Seq -}} x", true},
		{"{{.Payload 0}}", true},
		{"{{.Payload -3}}", true},
		{"{{.Payload 64}}", true},
		{"p={{.Payload 5}};s={{.Seq}}", true},
		{"{{.Binary 3}}", true},
		{"{{.Seq | printf \"%05d\"}}", false},
		{"{{if .Seq}}y{{end}}", false},
		{"{{$.Seq}}", false},
		{"{{$x := .Seq}}{{$x}}", false},
		{"{{.Payload .Client}}", false},
		{"{{printf \"%d\" .Client}}", false},
	}
	for _, c := range cases {
		txt, err := CompileText(c.src)
		if err != nil {
			t.Fatalf("%q: %v", c.src, err)
		}
		if (txt.fast != nil) != c.fast {
			t.Errorf("%q: fast path %v, want %v", c.src, txt.fast != nil, c.fast)
			continue
		}
		for _, v := range []Vars{{}, {Client: 7, Seq: 123456789012, SendTime: 1732600000000123}, {Client: -1, Seq: -5}} {
			fv, sv := v, v
			got, err := txt.Render(&fv)
			if err != nil {
				t.Fatalf("%q: %v", c.src, err)
			}
			var b strings.Builder
			if err := txt.t.Execute(&b, &sv); err != nil {
				t.Fatalf("%q: text/template: %v", c.src, err)
			}
			want := b.String()
			// Payload letters are random: compare shapes.
			if strings.Contains(c.src, "Payload") {
				got, want = letters(got), letters(want)
			}
			if got != want || len(fv.bufs) != len(sv.bufs) {
				t.Errorf("%q with %+v: rendered %q (%d attachments), text/template %q (%d)", c.src, v, got, len(fv.bufs), want, len(sv.bufs))
			}
			for i := range fv.bufs {
				if len(fv.bufs[i]) != len(sv.bufs[i]) {
					t.Errorf("%q: attachment %d of %d bytes, text/template %d", c.src, i, len(fv.bufs[i]), len(sv.bufs[i]))
				}
			}
		}
	}
}

// letters replaces every payload letter by 'a'.
func letters(s string) string {
	return strings.Map(func(r rune) rune {
		if strings.ContainsRune(payloadAlphabet, r) {
			return 'a'
		}
		return r
	}, s)
}
