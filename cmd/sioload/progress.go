package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/siokit/siokit/internal/load"
)

// progress prints the live progress line: one rewritten line on a
// terminal, plain lines otherwise (logs, CI).
type progress struct {
	w    io.Writer
	tty  bool
	mu   sync.Mutex
	last time.Duration
	msgs int64
	line bool // a rewritten line is on screen
}

func newProgress(w io.Writer, tty bool) *progress { return &progress{w: w, tty: tty} }

func (p *progress) update(pr load.Progress) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r := pr.Snapshot
	msgs := r.Counters["messages_sent"] + r.Counters["messages_received"]
	dt := (pr.Elapsed - p.last).Seconds()
	mps := 0.0
	if dt > 0 {
		mps = float64(msgs-p.msgs) / dt
	}
	p.last, p.msgs = pr.Elapsed, msgs
	var b strings.Builder
	if pr.Multi {
		// Where the run is and what happened last:
		// "hold 00:12/00:30 · drop 20% (10 clients) at 00:10 · reconnects 40".
		fmt.Fprintf(&b, "%s %s", pr.Phase, clock(pr.PhaseElapsed))
		if pr.PhaseLength > 0 {
			fmt.Fprintf(&b, "/%s", clock(pr.PhaseLength))
		}
		if pr.HasLast {
			fmt.Fprintf(&b, " · %s at %s", pr.Last.Text, clock(time.Duration(pr.Last.T*float64(time.Second))))
		}
		if n := r.Counters["reconnects"]; n > 0 || r.Counters["dropped"] > 0 {
			fmt.Fprintf(&b, " · reconnects %d", n)
		}
		fmt.Fprintf(&b, " · %.1fs clients %d  msgs in+out/s %.0f", pr.Elapsed.Seconds(), r.ClientsConnected, mps)
	} else {
		fmt.Fprintf(&b, "%5.1fs %-5s clients %d  msgs in+out/s %.0f", pr.Elapsed.Seconds(), pr.Phase, r.ClientsConnected, mps)
	}
	for _, m := range []string{"ack", "event"} {
		if st := r.StatsOf(m); st.Count > 0 {
			fmt.Fprintf(&b, "  %s p50/p99 %s/%s", m, short(st.P50), short(st.P99))
		}
	}
	fmt.Fprintf(&b, "  errors %d", r.TotalErrors())
	if p.tty {
		fmt.Fprintf(p.w, "\r\033[K%s", b.String())
		p.line = true
	} else {
		fmt.Fprintln(p.w, b.String())
	}
}

// done ends a rewritten line so that what follows starts on its own.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.line {
		fmt.Fprintln(p.w)
		p.line = false
	}
}

func short(d time.Duration) string {
	if d < time.Millisecond {
		return fmt.Sprintf("%dµs", d.Microseconds())
	}
	return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond))
}

// clock formats d as mm:ss (h:mm:ss past an hour).
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%02d:%02d", s/60, s%60)
}
