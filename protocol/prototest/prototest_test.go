package prototest

import (
	"io"
	"net/http"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/siokit/siokit/protocol/client"
)

// TestInboxKeepsCopies: the client reuses a Message after its handler
// returns, so what the inbox hands back must not change with it.
func TestInboxKeepsCopies(t *testing.T) {
	b := NewInbox()
	m := &client.Message{Event: "e", Args: []byte(`[1]`)}
	b.Handler(m)
	m.Args[1] = '2'
	b.Handler(m)
	if got := b.Next(t, "first"); string(got.Args) != "[1]" || got.Event != "e" {
		t.Fatalf("first = %q %s, want e [1]", got.Event, got.Args)
	}
	if got := b.Next(t, "second"); string(got.Args) != "[2]" {
		t.Fatalf("second = %s, want [2]", got.Args)
	}
}

// TestInboxNone: None waits its whole duration on an empty inbox (the
// inbox is made in the bubble, so the fake clock may advance).
func TestInboxNone(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		b := NewInbox()
		start := time.Now()
		b.None(t, time.Second, "empty inbox")
		if d := time.Since(start); d != time.Second {
			t.Fatalf("None returned after %v, want 1s", d)
		}
	})
}

// TestWaitFor returns once the condition holds, polling on the (fake)
// clock rather than spinning.
func TestWaitFor(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var n atomic.Int32
		start := time.Now()
		WaitFor(t, time.Second, "third poll", func() bool { return n.Add(1) == 3 })
		if d := time.Since(start); d != 20*time.Millisecond {
			t.Fatalf("returned after %v, want two 10ms polls", d)
		}
	})
}

// TestServeInMemory: a server served in memory runs in the caller's
// bubble, so an hour its handler waits passes on the fake clock, and the
// request reaches it whatever host it names.
func TestServeInMemory(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		dial := ServeInMemory(t, &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(time.Hour)
			io.WriteString(w, r.Host)
		})})
		tr := &http.Transport{DialContext: dial}
		defer tr.CloseIdleConnections()
		start := time.Now()
		resp, err := (&http.Client{Transport: tr}).Get("http://nowhere.invalid/")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || string(b) != "nowhere.invalid" {
			t.Fatalf("body %q, %v", b, err)
		}
		if d := time.Since(start); d != time.Hour {
			t.Fatalf("answered after %v, want the handler's hour", d)
		}
	})
}
