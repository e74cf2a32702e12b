package main

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/protocol/client"
)

// recorder is an upstream that keeps every POST body and answers "ok".
type recorder struct {
	mu    sync.Mutex
	posts []string
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	b, _ := io.ReadAll(req.Body)
	r.mu.Lock()
	r.posts = append(r.posts, string(b))
	r.mu.Unlock()
	_, _ = w.Write([]byte("ok"))
}

func (r *recorder) got() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.posts...)
}

func post(t *testing.T, url, body string) {
	t.Helper()
	resp, err := http.Post(url+"/socket.io/?EIO=4&transport=polling&sid=s1", "text/plain;charset=UTF-8", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(b) != "ok" {
		t.Fatalf("POST answered %q", b)
	}
}

// TestOversizeBatch: POSTs in quick succession reach the server as one
// batch, whatever its size, each answered "ok" at once.
func TestOversizeBatch(t *testing.T) {
	rec := &recorder{}
	up := httptest.NewServer(rec)
	defer up.Close()
	p, err := startFaultProxy(faultOversizeBatch, up.URL)
	if err != nil {
		t.Fatal(err)
	}
	event := `42["e","` + strings.Repeat("x", 60) + `"]`
	for range 5 {
		post(t, p.URL(), event)
	}
	time.Sleep(3 * batchWindow)
	got := rec.got()
	if want := strings.Repeat(event+"\x1e", 4) + event; len(got) != 1 || got[0] != want {
		t.Fatalf("upstream got %q, want one batch %q", got, want)
	}
}

// TestNoPongPolling: pongs leave a POST; a POST of pongs only is answered
// by the proxy and never reaches the server.
func TestNoPongPolling(t *testing.T) {
	rec := &recorder{}
	up := httptest.NewServer(rec)
	defer up.Close()
	p, err := startFaultProxy(faultNoPong, up.URL)
	if err != nil {
		t.Fatal(err)
	}
	post(t, p.URL(), "3")
	post(t, p.URL(), "3\x1e42[\"a\"]\x1e3")
	if got := rec.got(); len(got) != 1 || got[0] != `42["a"]` {
		t.Fatalf("upstream got %q, want only the event", got)
	}
}

// frame is a masked client text frame of payload.
func frame(payload string) []byte {
	mask := [4]byte{1, 2, 3, 4}
	b := []byte{0x81, 0x80 | byte(len(payload))}
	b = append(b, mask[:]...)
	for i := range len(payload) {
		b = append(b, payload[i]^mask[i%4])
	}
	return b
}

// TestFilterFrames: a pong frame is dropped, every other frame passes
// byte for byte.
func TestFilterFrames(t *testing.T) {
	in := append(append(append(frame("2probe"), frame("3")...), frame("42[\"a\"]")...), frame("3")...)
	var out bytes.Buffer
	if err := filterFrames(&out, bufio.NewReader(bytes.NewReader(in))); err != io.EOF {
		t.Fatalf("filterFrames: %v", err)
	}
	if want := append(frame("2probe"), frame("42[\"a\"]")...); !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("got % x, want % x", out.Bytes(), want)
	}
}

// TestNoBackoff: every reconnection attempt waits noBackoffDelay, no more.
func TestNoBackoff(t *testing.T) {
	opts := &client.Options{}
	if u := applyFault(faultNoBackoff, "http://127.0.0.1:1", opts); u != "http://127.0.0.1:1" {
		t.Errorf("no-backoff changed the URL to %s", u)
	}
	want := client.Reconnect{Delay: noBackoffDelay, DelayMax: noBackoffDelay, Randomization: -1}
	if opts.Reconnect != want {
		t.Errorf("reconnect %+v, want %+v", opts.Reconnect, want)
	}
}

// TestTwoPolls: every long poll reaches the server twice at once, and what
// the second GET got is the client's next GET's answer, so nothing is lost.
func TestTwoPolls(t *testing.T) {
	var mu sync.Mutex
	gets := 0
	up := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		mu.Lock()
		gets++
		n := gets
		mu.Unlock()
		time.Sleep(time.Duration(n) * 20 * time.Millisecond) // answered in order
		_, _ = w.Write([]byte(`42["` + string(rune('0'+n)) + `"]`))
	}))
	defer up.Close()
	p, err := startFaultProxy(faultTwoPolls, up.URL)
	if err != nil {
		t.Fatal(err)
	}
	get := func() string {
		resp, err := http.Get(p.URL() + "/socket.io/?EIO=4&transport=polling&sid=s1")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	first := get()
	time.Sleep(100 * time.Millisecond) // the second answer is in
	if second := get(); first != `42["1"]` || second != `42["2"]` {
		t.Errorf("the client got %q then %q, want both answers in order", first, second)
	}
	mu.Lock()
	defer mu.Unlock()
	if gets != 2 {
		t.Errorf("the server saw %d GETs, want 2 (the second client GET answered from what the first pair got)", gets)
	}
}
