package reports

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/load"
	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/scenarios"
)

// stormYAML is the shipped reconnect storm scaled down: half the clients
// dropped at 1 s, the built-in target restarted at 1.5 s.
func stormYAML(t *testing.T, transport string) *scenarios.Scenario {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "scenarios", "reconnect-storm.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	src := string(b)
	for _, r := range [][2]string{{"at: 5s, drop: 0.5", "at: 1s, drop: 0.5"}, {"at: 12s, restart_target: true, down: 1s", "at: 1500ms, restart_target: true, down: 300ms"},
		{"clients: 50", "clients: 6"}, {"ramp: 2s", "ramp: 500ms"}, {"hold: 18s", "hold: 2500ms"}, {"grace: 3s", "grace: 1s"}, {"transport: websocket", "transport: " + transport}} {
		if !strings.Contains(src, r[0]) {
			t.Fatalf("reconnect-storm.yaml: %q not found", r[0])
		}
		src = strings.ReplaceAll(src, r[0], r[1])
	}
	p := filepath.Join(t.TempDir(), "storm.yaml")
	os.WriteFile(p, []byte(src), 0o644)
	s, err := scenarios.LoadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func stormRun(t *testing.T, transport string) *metrics.Result {
	t.Helper()
	b, err := load.StartBuiltin(target.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	res, err := load.Run(context.Background(), stormYAML(t, transport), load.Options{Target: b.URL, Restart: b.Restart,
		Reconnect: client.Reconnect{Delay: 100 * time.Millisecond, DelayMax: 400 * time.Millisecond}, Interval: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.CheckTimeline(); err != nil {
		t.Fatal(err)
	}
	return res
}

// probe measures every chart in the page: its title and how many of its
// canvas pixels are in a series colour (drawn data, not axes or text).
const probe = `(() => {
  const cols = [[31,119,180],[214,39,40],[44,160,44],[148,103,189],[255,127,14],[140,86,75],[227,119,194],[23,190,207]];
  const charts = Array.from(document.querySelectorAll(".chart")).map(c => {
    const cv = c.querySelector("canvas");
    let data = 0;
    if (cv) {
      const d = cv.getContext("2d").getImageData(0, 0, cv.width, cv.height).data;
      for (let i = 0; i < d.length; i += 4) {
        if (d[i+3] < 200) continue;
        for (const k of cols) if (Math.abs(d[i]-k[0]) + Math.abs(d[i+1]-k[1]) + Math.abs(d[i+2]-k[2]) < 30) { data++; break; }
      }
    }
    return {title: c.dataset.title, canvas: !!cv, data: data};
  });
  return {charts: charts, text: document.body.innerText};
})()`

type probed struct {
	Charts []struct {
		Title  string
		Canvas bool
		Data   int
	}
	Text string
}

// checkPage opens the page in headless Chromium and checks it: no console
// error, no network request, every chart drawn with data, the totals in
// its text; it writes the screenshot as an artifact.
func checkPage(t *testing.T, path, shot string, minCharts int, res []*metrics.Result, texts ...string) {
	t.Helper()
	p := testpeer.OpenPage(t, path, probe, 500*time.Millisecond)
	art := testpeer.WriteArtifact(t, shot, p.Screenshot)
	t.Logf("screenshot: %s (%d bytes), top: %s", art, len(p.Screenshot), testpeer.WriteArtifact(t, strings.TrimSuffix(shot, ".png")+"-top.png", p.Top))
	if len(p.Errors) > 0 {
		t.Errorf("console errors:\n%s", strings.Join(p.Errors, "\n"))
	}
	if len(p.Requests) > 0 {
		t.Errorf("network requests: %v", p.Requests)
	}
	var got probed
	if err := json.Unmarshal(p.Probe, &got); err != nil {
		t.Fatal(err)
	}
	if len(got.Charts) < minCharts {
		t.Errorf("%d charts, want at least %d", len(got.Charts), minCharts)
	}
	for _, c := range got.Charts {
		if !c.Canvas || c.Data < 20 {
			t.Errorf("chart %q: canvas %v, %d data pixels (want a drawn series)", c.Title, c.Canvas, c.Data)
		}
	}
	for _, r := range res {
		for _, want := range []string{r.Scenario, "messages_sent\t" + strconv.FormatInt(r.Counters["messages_sent"], 10),
			"reconnects\t" + strconv.FormatInt(r.Counters["reconnects"], 10), "errors\t" + strconv.FormatInt(r.TotalErrors(), 10)} {
			if !strings.Contains(got.Text, want) {
				t.Errorf("page text lacks %q", want)
			}
		}
	}
	for _, want := range texts {
		if !strings.Contains(got.Text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	if t.Failed() {
		t.Logf("charts %+v", got.Charts)
	}
}

func TestLoadHTMLInBrowser(t *testing.T) {
	ws := stormRun(t, "websocket")
	polling := stormRun(t, "polling")
	dir := t.TempDir()
	for _, c := range []struct {
		name string
		runs []HTMLRun
		min  int
	}{
		{"reconnect-storm", []HTMLRun{{"reconnect-storm", ws}}, 12},
		{"reconnect-storm-compare", []HTMLRun{{"websocket", ws}, {"polling", polling}}, 12},
	} {
		t.Run(c.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := LoadHTML(&b, "sioload test", c.runs); err != nil {
				t.Fatal(err)
			}
			page := b.String()
			// Self-contained: no reference to anything outside the file.
			if m := regexp.MustCompile(`(?i)<(script|link|img)[^>]+(src|href)=`).FindString(page); m != "" {
				t.Errorf("the page loads something: %s", m)
			}
			if !strings.Contains(page, "Permission is hereby granted") {
				t.Error("uPlot's licence is not in the page")
			}
			path := filepath.Join(dir, c.name+".html")
			os.WriteFile(path, b.Bytes(), 0o644)
			var rs []*metrics.Result
			for _, r := range c.runs {
				rs = append(rs, r.Result)
			}
			checkPage(t, path, c.name+".png", c.min, rs, "p99(reconnect) < 10s", "fault", "drop 50% (3 clients)")
		})
	}
}

// TestLoadHTMLNodePeer renders a run against the Node peer (echo with a
// threshold on event latency) and opens it.
func TestLoadHTMLNodePeer(t *testing.T) {
	peer := testpeer.Start(t, "node4")
	s, err := scenarios.LoadFile(filepath.Join("..", "scenarios", "echo.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	s.Load.Clients, s.Load.Ramp, s.Load.Hold, s.Load.Grace = 5, 500*time.Millisecond, 2*time.Second, 2*time.Second
	res, err := load.Run(context.Background(), s, load.Options{Target: peer.URL, Interval: 250 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if err := res.CheckTimeline(); err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := LoadHTML(&b, "sioload test", []HTMLRun{{"echo on node4", res}}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "echo-node.html")
	os.WriteFile(path, b.Bytes(), 0o644)
	checkPage(t, path, "echo-node.png", 8, []*metrics.Result{res}, "p99(event) < 100ms", "echo on node4")
}

// TestUplotPinned: the embedded uPlot is the version package-lock.json
// pins.
func TestUplotPinned(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("html", "package-lock.json"))
	if err != nil {
		t.Fatal(err)
	}
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	if err := json.Unmarshal(b, &lock); err != nil {
		t.Fatal(err)
	}
	if want := lock.Packages["node_modules/uplot"].Version; want == "" || UplotVersion() != want {
		t.Errorf("embedded uPlot %q, package-lock.json pins %q: run reports/html/update-assets.sh", UplotVersion(), want)
	}
}
