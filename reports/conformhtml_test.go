package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/conform"
	"github.com/siokit/siokit/internal/load"
	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/server"
)

// builtinConform runs sioconform's built-in Engine.IO v4 suite against
// sioload's built-in target configured as the contract says (ping
// 300/200 ms, connectTimeout 1 s, CORS *): a real report with passes and
// the target's documented non-passes (n/a, info) with traces.
func builtinConform(t *testing.T, only []string) *conform.Report {
	t.Helper()
	b, err := load.StartBuiltin(target.Options{Server: server.Options{
		PingInterval: 300 * time.Millisecond, PingTimeout: 200 * time.Millisecond,
		ConnectTimeout: time.Second, MaxHTTPBufferSize: 1e6, CORSOrigin: "*",
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	return conformAt(t, b.URL, only)
}

// nodeConform runs the same suite against the Node reference contract
// server, the matrix's second column.
func nodeConform(t *testing.T, only []string) *conform.Report {
	t.Helper()
	return conformAt(t, testpeer.Start(t, "node4-contract").URL, only)
}

func conformAt(t *testing.T, url string, only []string) *conform.Report {
	t.Helper()
	cases, err := conform.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	rep, err := conform.Run(context.Background(), conform.Select(cases, 4, only, nil), conform.Config{URL: url, EIO: 4, Parallel: 8})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// conformProbe reads the page's text and case rows, then unchecks "pass"
// and types a prefix to see what the filters leave.
const conformProbe = `(() => {
  const vis = () => Array.from(document.querySelectorAll(".case")).filter(r => r.style.display !== "none").length;
  const out = {text: document.body.innerText, rows: document.querySelectorAll(".case").length, traces: document.querySelectorAll("table.trace").length, all: vis()};
  const pass = document.querySelector('input.verdict[value="pass"]');
  if (pass) { pass.checked = false; pass.dispatchEvent(new Event("change")); out.nonPass = vis(); pass.checked = true; pass.dispatchEvent(new Event("change")); }
  const p = document.getElementById("prefix");
  p.value = "sio5"; p.dispatchEvent(new Event("input")); out.sio5 = vis();
  p.value = "no-such-prefix"; p.dispatchEvent(new Event("input")); out.none = vis();
  p.value = ""; p.dispatchEvent(new Event("input"));
  return out;
})()`

type conformProbed struct {
	Text                                   string
	Rows, Traces, All, NonPass, Sio5, None int
}

func openConform(t *testing.T, name string, page []byte) conformProbed {
	t.Helper()
	path := filepath.Join(t.TempDir(), name+".html")
	os.WriteFile(path, page, 0o644)
	p := testpeer.OpenPage(t, path, conformProbe, 200*time.Millisecond)
	t.Logf("screenshot: %s, top: %s", testpeer.WriteArtifact(t, name+".png", p.Screenshot), testpeer.WriteArtifact(t, name+"-top.png", p.Top))
	if len(p.Errors) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(p.Errors, "\n"))
	}
	if len(p.Requests) > 0 {
		t.Errorf("network requests: %v", p.Requests)
	}
	var got conformProbed
	if err := json.Unmarshal(p.Probe, &got); err != nil {
		t.Fatal(err)
	}
	return got
}

func TestConformHTMLInBrowser(t *testing.T) {
	full := builtinConform(t, nil)
	t.Run("report", func(t *testing.T) { checkConformReport(t, full) })
	t.Run("matrix", func(t *testing.T) { checkConformMatrix(t, full, nodeConform(t, nil)) })
}

func checkConformReport(t *testing.T, rep *conform.Report) {
	counts := rep.Counts()
	nonPass, sio5 := 0, 0
	for _, r := range rep.Results {
		if r.Verdict != conform.Pass {
			nonPass++
		}
		if strings.HasPrefix(r.ID, "sio5") {
			sio5++
		}
	}
	t.Logf("%d cases: %v", len(rep.Results), counts)
	if counts[conform.Pass] == 0 || nonPass == 0 {
		t.Fatalf("the test needs passes and non-passes, got %v", counts)
	}
	var b bytes.Buffer
	if err := ConformHTML(&b, "sioconform test", rep); err != nil {
		t.Fatal(err)
	}
	got := openConform(t, "conform-builtin", b.Bytes())
	if got.Rows != len(rep.Results) || got.All != len(rep.Results) {
		t.Errorf("%d case rows, %d shown; want %d", got.Rows, got.All, len(rep.Results))
	}
	if got.NonPass != nonPass || got.Sio5 != sio5 || got.None != 0 {
		t.Errorf("filters: without pass %d (want %d), prefix sio5 %d (want %d), bogus prefix %d", got.NonPass, nonPass, got.Sio5, sio5, got.None)
	}
	withTrace := 0
	for _, r := range rep.Results {
		if r.Verdict != conform.Pass && len(r.Trace) > 0 {
			withTrace++
		}
		if !strings.Contains(got.Text, r.ID) {
			t.Errorf("case %s not in the page", r.ID)
		}
	}
	if got.Traces != withTrace {
		t.Errorf("%d trace tables, want one per non-pass with a trace (%d)", got.Traces, withTrace)
	}
	for v, n := range counts {
		if !strings.Contains(got.Text, strconv.Itoa(n)+" "+string(v)) {
			t.Errorf("page text lacks the count %q", strconv.Itoa(n)+" "+string(v))
		}
	}
}

func checkConformMatrix(t *testing.T, full, part *conform.Report) {
	var b bytes.Buffer
	if err := ConformMatrixHTML(&b, "sioconform test", []string{"siokit", "node4"}, []*conform.Report{full, part}); err != nil {
		t.Fatal(err)
	}
	got := openConform(t, "conform-matrix", b.Bytes())
	if got.Rows != len(full.Results) || got.None != 0 {
		t.Errorf("%d rows (want %d), bogus prefix leaves %d", got.Rows, len(full.Results), got.None)
	}
	pass := full.Counts()[conform.Pass]
	if want := "siokit: passed " + strconv.Itoa(pass) + "/" + strconv.Itoa(len(full.Results)); !strings.Contains(got.Text, want) {
		t.Errorf("page text lacks %q", want)
	}
	for _, r := range full.Results {
		if r.Verdict != conform.Pass && r.Message != "" && !strings.Contains(got.Text, strings.Fields(clean(r.Message))[0]) {
			t.Errorf("the reason of %s (%q) is not shown", r.ID, r.Message)
		}
	}
}
