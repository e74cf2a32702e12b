package reports

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/fasthttp/websocket"

	"github.com/siokit/siokit/internal/conform"
)

// hugeServer answers every HTTP request with a body of size bytes and
// every WebSocket with a text and a binary frame of that size: the worst a
// server can do to a report that copies what it receives.
func hugeServer(t *testing.T, size int) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	text := []byte("0" + strings.Repeat("x", size-1))
	bin := bytes.Repeat([]byte{0xfe}, size)
	up := websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if websocket.IsWebSocketUpgrade(r) {
			c, err := up.Upgrade(w, r, nil)
			if err != nil {
				return
			}
			defer c.Close()
			_ = c.WriteMessage(websocket.TextMessage, text)
			_ = c.WriteMessage(websocket.BinaryMessage, bin)
			// Then a flood of small frames, for the trace's budget.
			for i := 0; i < 300; i++ {
				if c.WriteMessage(websocket.TextMessage, []byte("4flood")) != nil {
					break
				}
			}
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}
		_, _ = io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		_, _ = w.Write(text)
	})}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

// TestReportSizeBounded runs every built-in case (both Engine.IO versions)
// against a server that answers 1.1 MB to everything (more than the
// contract's maxPayload), then floods small frames on every WebSocket, and checks that each
// report format stays under 1 MB and never holds a long run of the body:
// bodies and frames are shown as a prefix, a length and a hash.
func TestReportSizeBounded(t *testing.T) {
	cases, err := conform.LoadBuiltin()
	if err != nil {
		t.Fatal(err)
	}
	url := hugeServer(t, 1100*1000)
	rep := &conform.Report{Target: url}
	for _, eio := range []int{4, 3} {
		r, err := conform.Run(context.Background(), conform.Select(cases, eio, nil, nil), conform.Config{URL: url, EIO: eio, Parallel: 16})
		if err != nil {
			t.Fatal(err)
		}
		rep.Results = append(rep.Results, r.Results...)
		rep.Started, rep.Duration = r.Started, rep.Duration+r.Duration
	}
	slow := append([]conform.Result(nil), rep.Results...)
	sort.Slice(slow, func(i, j int) bool { return slow[i].Duration > slow[j].Duration })
	for _, r := range slow[:5] {
		t.Logf("slowest: %s %v", r.ID, r.Duration.Round(time.Millisecond))
	}
	if len(rep.Results) < 300 {
		t.Fatalf("%d results, want every built-in case (300+)", len(rep.Results))
	}
	formats := map[string]func(io.Writer) error{
		"table -v": func(w io.Writer) error { return ConformTable(w, rep, TableOptions{Verbose: true}) },
		"json":     func(w io.Writer) error { return ConformJSON(w, rep) },
		"junit":    func(w io.Writer) error { return ConformJUnit(w, rep) },
	}
	sawCap := false
	for name, write := range formats {
		var b bytes.Buffer
		if err := write(&b); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Logf("%s: %d cases, %d bytes", name, len(rep.Results), b.Len())
		if b.Len() >= 1e6 {
			t.Errorf("%s report is %d bytes for %d cases, want < 1 MB", name, b.Len(), len(rep.Results))
		}
		if strings.Contains(b.String(), strings.Repeat("x", 2000)) || strings.Contains(b.String(), strings.Repeat("fe ", 700)) {
			t.Errorf("%s report holds a 2000-byte run of a body", name)
		}
		sawCap = sawCap || strings.Contains(b.String(), "(1100000 bytes, sha256 ")
	}
	if !sawCap {
		t.Error("no report shows a capped body as (1500000 bytes, sha256 ...)")
	}
}
