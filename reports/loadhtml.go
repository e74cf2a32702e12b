package reports

import (
	_ "embed"
	"fmt"
	"html/template"
	"io"
	"math"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/siokit/siokit/internal/metrics"
)

// The charting library: uPlot, pinned in html/package-lock.json and
// copied into html/assets by html/update-assets.sh. It is embedded so
// that a report is one file that opens offline from file://.
var (
	//go:embed html/assets/uPlot.iife.min.js
	uplotJS string
	//go:embed html/assets/uPlot.min.css
	uplotCSS string
	//go:embed html/assets/uPlot.LICENSE
	uplotLicense string
	//go:embed html/load.js
	loadJS string
	//go:embed html/load.css
	loadCSS string
	//go:embed html/load.html.tmpl
	loadTmpl string
)

// UplotVersion is the embedded uPlot's version, read from its banner
// ("/*! https://github.com/leeoniya/uPlot (v1.6.32) */").
func UplotVersion() string {
	line, _, _ := strings.Cut(uplotJS, "\n")
	_, v, ok := strings.Cut(line, "(v")
	if !ok {
		return "unknown"
	}
	v, _, _ = strings.Cut(v, ")")
	return v
}

// HTMLRun is one run of an HTML report: its name (the transport in a
// comparison, the file name in a report) and its result.
type HTMLRun struct {
	Name   string
	Result *metrics.Result
}

// LoadHTML writes one self-contained HTML page for one or several runs
// (docs/sioload.md §4): a header per run (scenario, target, transport,
// clients, duration, threshold verdicts), for each latency metric
// p50/p90/p99/max over time and its percentile spectrum, messages per
// second, connected clients, errors and disconnects by kind, reconnects,
// broadcast fan-out, generator health with the bottleneck warning (phases
// and markers drawn on every time chart), the counters table, and with
// several runs a side-by-side table; runs are overlaid in distinct
// colours. Scripts, styles and data are inline: the page makes no network
// request. generator names the tool and its version for the footer.
func LoadHTML(w io.Writer, generator string, runs []HTMLRun) error {
	if len(runs) == 0 {
		return fmt.Errorf("reports: html: no runs")
	}
	page := htmlPage{Generator: generator, Library: "uPlot " + UplotVersion() + " (MIT licence)", UplotLicense: uplotLicense}
	for _, r := range runs {
		if r.Result == nil {
			return fmt.Errorf("reports: html: run %q has no result", r.Name)
		}
		d, err := htmlData(r)
		if err != nil {
			return err
		}
		page.Runs = append(page.Runs, d)
		page.Sums = append(page.Sums, htmlSummary(r, d))
	}
	page.Compare = htmlCompare(page.Sums)
	t, err := template.New("load").Parse(loadTmpl)
	if err != nil {
		return fmt.Errorf("reports: html template: %w", err)
	}
	page.Script = template.JS(uplotJS + "\n" + loadJS)
	page.Style = template.CSS(uplotCSS + "\n" + loadCSS)
	if err := t.Execute(w, page); err != nil {
		return fmt.Errorf("reports: html: %w", err)
	}
	return nil
}

type htmlPage struct {
	Generator, Library, UplotLicense string
	Script                           template.JS
	Style                            template.CSS
	Runs                             []*runData
	Sums                             []htmlSum
	Compare                          [][]string
}

// runData is what the page's script draws: numbers only, JSON-escaped by
// html/template in the script context.
type runData struct {
	Name    string  `json:"name"`
	Elapsed float64 `json:"elapsed"`
	// T is each interval's start, seconds from the run's start.
	T        []float64                        `json:"t"`
	Lat      map[string]map[string][]*float64 `json:"lat"`
	Spectrum map[string][2][]float64          `json:"spectrum"`
	Rates    map[string][]float64             `json:"rates"`
	Clients  []int64                          `json:"clients"`
	Errors   map[string][]float64             `json:"errors"`
	Disc     map[string][]float64             `json:"disconnects"`
	Recon    map[string][]int64               `json:"reconnects"`
	Reach    []*float64                       `json:"reach"`
	Health   map[string][]float64             `json:"health"`
	Markers  []metrics.Marker                 `json:"markers"`
	Phases   []phaseSpan                      `json:"phases"`
	Warnings []string                         `json:"warnings"`
}

type phaseSpan struct {
	Phase    string     `json:"phase"`
	From, To float64    `json:"-"`
	Range    [2]float64 `json:"range"`
}

var latencyOrder = []string{"handshake", "upgrade", "connect", "ack", "event", "reconnect", "fanout_first", "fanout_median", "fanout_last"}

func fp(v float64) *float64 { return &v }

func htmlData(run HTMLRun) (*runData, error) {
	r := run.Result
	d := &runData{Name: run.Name, Elapsed: time.Duration(r.Elapsed).Seconds(), Lat: map[string]map[string][]*float64{},
		Spectrum: map[string][2][]float64{}, Rates: map[string][]float64{}, Errors: map[string][]float64{},
		Disc: map[string][]float64{}, Recon: map[string][]int64{}, Health: map[string][]float64{}}
	for _, name := range latencyOrder {
		h := r.Latency(name)
		if h == nil || h.TotalCount() == 0 {
			continue
		}
		d.Spectrum[name] = spectrum(h)
	}
	d.Warnings = r.Summarize().Warnings
	tl := r.Timeline
	if tl == nil {
		return d, nil
	}
	n := len(tl.Intervals)
	d.T = make([]float64, n)
	d.Clients = make([]int64, n)
	d.Reach = make([]*float64, n)
	series := func(m map[string][]float64, k string) []float64 {
		if m[k] == nil {
			m[k] = make([]float64, n)
		}
		return m[k]
	}
	for _, k := range []string{"messages_sent", "messages_received"} {
		series(d.Rates, k)
	}
	for _, k := range []string{"reconnects", "recovered", "reconnect_attempts", "dropped", "reconnect_failed"} {
		d.Recon[k] = make([]int64, n)
	}
	for i, iv := range tl.Intervals {
		d.T[i] = iv.T
		d.Clients[i] = iv.ClientsConnected
		secs := iv.Seconds
		if secs <= 0 {
			secs = tl.Interval
		}
		for k := range d.Rates {
			d.Rates[k][i] = float64(iv.Counters[k]) / secs
		}
		for k, v := range iv.Errors {
			series(d.Errors, k)[i] = float64(v) / secs
		}
		for k, v := range iv.Disconnects {
			series(d.Disc, k)[i] = float64(v) / secs
		}
		for k := range d.Recon {
			d.Recon[k][i] = iv.Counters[k]
		}
		for name, blob := range iv.Latencies {
			h, err := blob.Histogram()
			if err != nil {
				return nil, fmt.Errorf("reports: html: %s: interval at %gs: %w", run.Name, iv.T, err)
			}
			if h.TotalCount() == 0 {
				continue
			}
			if name == metrics.FanoutReach.String() {
				d.Reach[i] = fp(float64(h.ValueAtQuantile(50)) / 10)
				continue
			}
			m := d.Lat[name]
			if m == nil {
				m = map[string][]*float64{"p50": make([]*float64, n), "p90": make([]*float64, n), "p99": make([]*float64, n), "max": make([]*float64, n)}
				d.Lat[name] = m
			}
			ms := func(v int64) *float64 { return fp(float64(v) / 1e3) }
			m["p50"][i], m["p90"][i], m["p99"][i], m["max"][i] = ms(h.ValueAtQuantile(50)), ms(h.ValueAtQuantile(90)), ms(h.ValueAtQuantile(99)), ms(h.Max())
		}
		if hh := iv.Health; hh != nil {
			series(d.Health, "cpu")[i] = hh.CPU
			series(d.Health, "rss_mib")[i] = float64(hh.RSS) / (1 << 20)
			series(d.Health, "goroutines")[i] = float64(hh.Goroutines)
			series(d.Health, "timer_lag_p99_ms")[i] = hh.TimerLagP99
			series(d.Health, "timer_lag_max_ms")[i] = hh.TimerLagMax
		}
	}
	d.Markers = tl.Markers
	// Phases from the phase markers: each runs to the next one.
	var spans []phaseSpan
	for _, m := range tl.Markers {
		if m.Kind != metrics.MarkPhase {
			continue
		}
		if len(spans) > 0 {
			spans[len(spans)-1].To = m.T
		}
		spans = append(spans, phaseSpan{Phase: m.Text, From: m.T, To: d.Elapsed})
	}
	if len(spans) > 0 {
		// The first phase starts with the run (its marker comes with
		// the first interval's end).
		spans[0].From = 0
	}
	for i := range spans {
		spans[i].Range = [2]float64{spans[i].From, spans[i].To}
	}
	d.Phases = spans
	return d, nil
}

// spectrum is the percentile spectrum as HdrHistogram plots it: x is
// 1/(1-q) (log axis: 90% = 10, 99% = 100, ...), y the latency in ms.
func spectrum(h *hdrhistogram.Histogram) [2][]float64 {
	var xs, ys []float64
	for _, b := range h.CumulativeDistributionWithTicks(5) {
		q := b.Quantile / 100
		if q >= 1 {
			break
		}
		x := 1 / (1 - q)
		if len(xs) > 0 && x <= xs[len(xs)-1] {
			continue
		}
		xs = append(xs, math.Round(x*1e3)/1e3)
		ys = append(ys, float64(b.ValueAt)/1e3)
	}
	return [2][]float64{xs, ys}
}

// htmlSum is the server-rendered text of one run: the header, the
// latency and counter tables, the thresholds.
type htmlSum struct {
	Name, Scenario, Target, Transport, Start, Duration string
	Clients                                            int64
	Partial                                            string
	Passed                                             string
	Thresholds                                         [][3]string
	Latency                                            [][]string
	Counters                                           [][3]string
	Warnings                                           []string
	// Events are the timeline's markers: time, kind, text.
	Events [][3]string
}

// safeTarget drops userinfo and the query (tokens) from a target URL.
func safeTarget(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable URL)"
	}
	u.User = nil
	if u.RawQuery != "" {
		u.RawQuery = "…"
	}
	return u.String()
}

func htmlSummary(run HTMLRun, d *runData) htmlSum {
	r := run.Result
	s := r.Summarize()
	out := htmlSum{Name: run.Name, Scenario: r.Scenario, Target: safeTarget(r.Target), Transport: r.Transport,
		Start: r.Start.UTC().Format(time.RFC3339), Duration: loadDur(time.Duration(r.Elapsed)), Clients: r.PeakClients,
		Warnings: s.Warnings, Passed: "no thresholds"}
	if r.Partial {
		out.Partial = "partial: " + r.StopReason
	}
	for _, m := range d.Markers {
		out.Events = append(out.Events, [3]string{strconv.FormatFloat(m.T, 'f', 2, 64) + " s", m.Kind, m.Text})
	}
	if len(s.Thresholds) > 0 {
		out.Passed = "all thresholds pass"
		if !s.Passed {
			out.Passed = "thresholds FAILED"
		}
	}
	for _, th := range s.Thresholds {
		v := "pass"
		if !th.Pass {
			v = "FAIL"
			if th.Note != "" {
				v += " (" + th.Note + ")"
			}
		}
		out.Thresholds = append(out.Thresholds, [3]string{th.Source, th.Display, v})
	}
	for _, st := range s.Latency {
		var row []string
		for _, c := range loadLatencyRow(st) {
			row = append(row, fmt.Sprint(c))
		}
		out.Latency = append(out.Latency, row)
	}
	for _, c := range s.Counters {
		out.Counters = append(out.Counters, [3]string{c.Name, strconv.FormatInt(c.Count, 10), loadRate(c.Rate)})
	}
	out.Counters = append(out.Counters, [3]string{"clients_connected (peak)", strconv.FormatInt(r.PeakClients, 10), ""},
		[3]string{"errors", strconv.FormatInt(r.TotalErrors(), 10), loadPct(s.ErrorRate) + " of operations"})
	for _, g := range []struct {
		prefix string
		rows   []metrics.NamedCount
	}{{"error ", s.Errors}, {"disconnect ", s.Disconnects}, {"received ", s.Events}} {
		for _, c := range g.rows {
			out.Counters = append(out.Counters, [3]string{g.prefix + c.Name, strconv.FormatInt(c.Count, 10), loadRate(c.Rate)})
		}
	}
	return out
}

// htmlCompare is the side-by-side table of several runs: one row per
// counter or latency cell, one column per run. Nil for one run.
func htmlCompare(sums []htmlSum) [][]string {
	if len(sums) < 2 {
		return nil
	}
	head := []string{"metric"}
	rows := map[string][]string{}
	var order []string
	for i, s := range sums {
		head = append(head, s.Name)
		put := func(k, v string) {
			if rows[k] == nil {
				rows[k] = make([]string, len(sums))
				order = append(order, k)
			}
			rows[k][i] = v
		}
		for _, l := range s.Latency {
			put(l[0]+" p50", l[3])
			put(l[0]+" p99", l[5])
		}
		for _, c := range s.Counters {
			put(c[0], c[1])
		}
		put("thresholds", s.Passed)
	}
	sort.SliceStable(order, func(i, j int) bool {
		return strings.Contains(order[i], " p") && !strings.Contains(order[j], " p")
	})
	out := [][]string{head}
	for _, k := range order {
		out = append(out, append([]string{k}, rows[k]...))
	}
	return out
}
