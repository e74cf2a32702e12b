package reports

import (
	"bytes"
	"encoding/xml"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/internal/metrics"
)

func ciResult() *metrics.Result {
	rec := metrics.NewRecorder(1)
	sh := rec.Shard(0)
	for i := 1; i <= 100; i++ {
		sh.Record(metrics.Ack, time.Duration(i)*time.Millisecond)
		sh.Add(metrics.Operations, 1)
		sh.Add(metrics.MessagesSent, 1)
	}
	sh.Error(metrics.ErrAckTimeout)
	sh.Error(metrics.ErrAckTimeout)
	sh.Error(metrics.ErrConnect)
	r := rec.Snapshot()
	r.Scenario, r.Transport, r.Target = "ack|pipe", "websocket", "http://user:secret@127.0.0.1:3000/?token=abc"
	r.Elapsed = metrics.Duration(10 * time.Second)
	r.Thresholds = []metrics.Threshold{
		{Metric: "ack", Stat: "p99", Op: "<", Value: 50, Unit: "ms", Source: "p99(ack) < 50ms"},
		{Metric: "ack", Stat: "p50", Op: "<", Value: 80, Unit: "ms", Source: "p50(ack) < 80ms"},
	}
	return r
}

func TestLoadJUnit(t *testing.T) {
	var b bytes.Buffer
	if err := LoadJUnit(&b, ciResult().Summarize()); err != nil {
		t.Fatal(err)
	}
	var doc junitSuites
	if err := xml.Unmarshal(b.Bytes(), &doc); err != nil {
		t.Fatalf("%v\n%s", err, b.String())
	}
	if doc.Tests != 3 || doc.Failures != 2 || len(doc.Suites) != 1 || len(doc.Suites[0].Cases) != 3 {
		t.Fatalf("tests %d failures %d:\n%s", doc.Tests, doc.Failures, b.String())
	}
	cs := doc.Suites[0].Cases
	if cs[0].Failure == nil || cs[0].Failure.Message != "observed 99.007ms, want p99(ack) < 50ms" {
		t.Errorf("p99 failure %+v", cs[0].Failure)
	}
	if cs[1].Failure != nil || cs[1].SystemOut == nil || cs[1].SystemOut.Text != "observed 50.015ms" {
		t.Errorf("p50 case %+v", cs[1])
	}
	if cs[2].Name != "errors" || cs[2].Failure == nil || !strings.Contains(cs[2].Failure.Message, "3 errors (3% of operations): ack_timeout 2, connect_error 1") {
		t.Errorf("errors case %+v", cs[2].Failure)
	}
	if strings.Contains(b.String(), "secret") || strings.Contains(b.String(), "token=abc") {
		t.Errorf("a secret of the target URL is in the JUnit:\n%s", b.String())
	}
}

func TestLoadMarkdown(t *testing.T) {
	var b bytes.Buffer
	if err := LoadMarkdown(&b, ciResult().Summarize()); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"### sioload: ack\\|pipe", "**thresholds FAILED**", "| ack | 100 | 1ms | 50ms |", "| `p99(ack) < 50ms` | 99.007ms | **FAIL** |",
		"| messages_sent | 100 | 10.0/s |", "| error ack_timeout | 2 |"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, "](") || strings.Contains(md, "http") {
		t.Errorf("markdown has a link:\n%s", md)
	}
}

func TestConformMarkdown(t *testing.T) {
	r := &conform.Report{Target: "http://127.0.0.1:3000", EIO: 4, Duration: 1500 * time.Millisecond, Results: []conform.Result{
		{ID: "eio4.open", Verdict: conform.Pass},
		{ID: "eio4.ping", Verdict: conform.Info, Message: "pong late"},
		{ID: "sio5.ack", Verdict: conform.Fail, Message: "want ack 1 | got <none>"},
	}}
	var b bytes.Buffer
	if err := ConformMarkdown(&b, r); err != nil {
		t.Fatal(err)
	}
	md := b.String()
	for _, want := range []string{"**not conformant** · 3 cases: 1 pass, 1 fail, 1 info · 1.5s", "| `sio5.ack` | **fail** | want ack 1 \\| got &lt;none&gt; |\n| `eio4.ping` | info |",
		"<details><summary>1 passing cases</summary>\n\neio4.open"} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
}
