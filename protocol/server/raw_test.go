package server_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/prototest"
	"github.com/siokit/siokit/protocol/server"
	"github.com/siokit/siokit/protocol/transport"
)

func rawReq(t *testing.T, method, url string, header http.Header, body []byte) *transport.Response {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	r, err := transport.RawRequest(ctx, method, url, header, body, nil)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	return r
}

func wantError(t *testing.T, r *transport.Response, code int) {
	t.Helper()
	var e struct {
		Code    int    `json:"code"`
		Message string `json:"message"`
	}
	if r.Status != 400 || json.Unmarshal(r.Body, &e) != nil || e.Code != code || e.Message == "" {
		t.Fatalf("got %d %q, want 400 with code %d", r.Status, r.Body, code)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Fatalf("error content-type %q", ct)
	}
}

// handshake opens a polling session and returns its sid.
func handshake(t *testing.T, base string) string {
	t.Helper()
	r := rawReq(t, "GET", base, nil, nil)
	if r.Status != 200 || len(r.Body) == 0 || r.Body[0] != '0' {
		t.Fatalf("handshake %d %q", r.Status, r.Body)
	}
	h, err := engineio.ParseHandshake(r.Body[1:])
	if err != nil {
		t.Fatal(err)
	}
	if !h.CanUpgrade("websocket") || h.MaxPayload != 1_000_000 {
		t.Fatalf("handshake %+v", h)
	}
	if ct := r.Header.Get("Content-Type"); ct != "text/plain; charset=UTF-8" {
		t.Fatalf("content-type %q", ct)
	}
	return h.SID
}

// openSession opens a polling session on base and returns its URL (base
// with the sid).
func openSession(t *testing.T, base string) string {
	t.Helper()
	return base + "&sid=" + handshake(t, base)
}

// parkGET starts a GET on the session URL s in the background, where the
// server parks it until it has something to send, and returns the channel
// its response (nil on a transport error) arrives on.
func parkGET(s string) <-chan *transport.Response {
	ch := make(chan *transport.Response, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r, _ := transport.RawRequest(ctx, "GET", s, nil, nil, nil)
		ch <- r
	}()
	return ch
}

// wantReleased waits (up to a generous 5 s) for the parked GET on ch and
// checks that it was answered 200 with body.
func wantReleased(t *testing.T, ch <-chan *transport.Response, what, body string) {
	t.Helper()
	select {
	case r := <-ch:
		if r == nil || r.Status != 200 || string(r.Body) != body {
			t.Fatalf("%s got %+v, want 200 %q", what, r, body)
		}
	case <-time.After(5 * time.Second):
		t.Fatalf("%s not released", what)
	}
}

// TestHTTPSurface checks status codes and Node's JSON error bodies
// (engine.io lib/transports/polling.ts, lib/server.ts).
func TestHTTPSurface(t *testing.T) {
	// A long ping interval: no ping may release a parked GET here.
	url := start(t, newTestServer(&server.Options{CORSOrigin: "*", PingInterval: 20 * time.Second, PingTimeout: 20 * time.Second}))
	base := url + "/socket.io/?EIO=4&transport=polling"

	wantError(t, rawReq(t, "GET", url+"/socket.io/?EIO=4&transport=abc", nil, nil), 0)
	wantError(t, rawReq(t, "GET", url+"/socket.io/?EIO=4", nil, nil), 0)
	wantError(t, rawReq(t, "GET", base+"&sid=doesnotexist", nil, nil), 1)
	wantError(t, rawReq(t, "POST", base+"&sid=doesnotexist", nil, []byte("40")), 1)
	wantError(t, rawReq(t, "POST", base, nil, []byte("40")), 2)
	wantError(t, rawReq(t, "PUT", base, nil, nil), 2)
	wantError(t, rawReq(t, "GET", url+"/socket.io/?EIO=4&transport=websocket", nil, nil), 3)
	wantError(t, rawReq(t, "GET", url+"/socket.io/?EIO=3&transport=polling", nil, nil), 5)
	if r := rawReq(t, "GET", url+"/other/", nil, nil); r.Status != 404 {
		t.Fatalf("other path: %d", r.Status)
	}
	if r := rawReq(t, "OPTIONS", base, http.Header{"Origin": {"http://x"}}, nil); r.Status != 204 || r.Header.Get("Access-Control-Allow-Origin") != "*" {
		t.Fatalf("preflight %d %v", r.Status, r.Header)
	}

	t.Run("post and poll", func(t *testing.T) {
		s := openSession(t, base)
		if r := rawReq(t, "POST", s, nil, []byte("40")); r.Status != 200 || string(r.Body) != "ok" {
			t.Fatalf("POST %d %q", r.Status, r.Body)
		}
		r := rawReq(t, "GET", s, nil, nil)
		if r.Status != 200 || !bytes.HasPrefix(r.Body, []byte(`40{"sid":"`)) || !bytes.Contains(r.Body, []byte("\x1e42[\"auth\",{}]")) {
			t.Fatalf("GET %d %q", r.Status, r.Body)
		}
		// Binary over polling: the attachment comes back as b<base64>.
		rawReq(t, "POST", s, nil, []byte("451-[\"message\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID"))
		r = rawReq(t, "GET", s, nil, nil)
		if want := "451-[\"message-back\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID"; string(r.Body) != want {
			t.Fatalf("binary echo %q, want %q", r.Body, want)
		}
		if r := rawReq(t, "PUT", s, nil, nil); r.Status != 500 {
			t.Fatalf("PUT with sid: %d", r.Status)
		}
	})

	t.Run("413 keeps the session", func(t *testing.T) {
		s := openSession(t, base)
		if r := rawReq(t, "POST", s, nil, bytes.Repeat([]byte("4"), 1_000_001)); r.Status != 413 {
			t.Fatalf("oversized POST: %d", r.Status)
		}
		rawReq(t, "POST", s, nil, []byte("40"))
		prefix := `42["message","`
		big := append([]byte(prefix), bytes.Repeat([]byte("a"), 1_000_000-len(prefix)-2)...)
		big = append(big, `"]`...)
		if r := rawReq(t, "POST", s, nil, big); r.Status != 200 {
			t.Fatalf("POST of exactly maxPayload: %d", r.Status)
		}
		if r := rawReq(t, "POST", s, nil, []byte(`42["message","small"]`)); r.Status != 200 {
			t.Fatalf("POST after 413: %d", r.Status)
		}
	})

	t.Run("second concurrent GET", func(t *testing.T) {
		s := openSession(t, base)
		first := parkGET(s)
		time.Sleep(200 * time.Millisecond) // let the first GET park
		if r := rawReq(t, "GET", s, nil, nil); r.Status != 400 {
			t.Fatalf("second GET: %d %q", r.Status, r.Body)
		}
		wantReleased(t, first, "first GET", "1")
		wantError(t, rawReq(t, "GET", s, nil, nil), 1)
	})

	t.Run("octet-stream POST closes", func(t *testing.T) {
		s := openSession(t, base)
		if r := rawReq(t, "POST", s, http.Header{"Content-Type": {"application/octet-stream"}}, []byte{1, 2}); r.Status != 400 {
			t.Fatalf("binary POST: %d", r.Status)
		}
		// A transport error drops the session at once, as in Node.
		wantError(t, rawReq(t, "GET", s, nil, nil), 1)
	})

	t.Run("client close drops the session", func(t *testing.T) {
		s := openSession(t, base)
		if r := rawReq(t, "POST", s, nil, []byte("1")); r.Status != 200 {
			t.Fatalf("close POST: %d", r.Status)
		}
		wantError(t, rawReq(t, "GET", s, nil, nil), 1)
		wantError(t, rawReq(t, "POST", s, nil, []byte("4late")), 1)
	})

	t.Run("client close releases a pending GET with a noop", func(t *testing.T) {
		s := openSession(t, base)
		pending := parkGET(s)
		time.Sleep(100 * time.Millisecond) // let the GET park
		rawReq(t, "POST", s, nil, []byte("1"))
		wantReleased(t, pending, "pending GET", "6")
		wantError(t, rawReq(t, "GET", s, nil, nil), 1)
	})

	t.Run("server close lingers until a GET", func(t *testing.T) {
		s := openSession(t, base)
		rawReq(t, "POST", s, nil, []byte("40"))
		rawReq(t, "GET", s, nil, nil) // CONNECT reply and auth
		rawReq(t, "POST", s, nil, []byte(`42["disconnect-me",true]`))
		r := rawReq(t, "GET", s, nil, nil)
		if r.Status != 200 || !strings.HasSuffix(string(r.Body), "\x1e1") {
			t.Fatalf("GET after server close: %d %q, want the close packet", r.Status, r.Body)
		}
		wantError(t, rawReq(t, "GET", s, nil, nil), 1)
	})

	t.Run("protocol violations close", func(t *testing.T) {
		// Socket.IO-level violations: Node's Client closes the engine
		// connection itself, which lingers until a GET takes the close.
		for _, body := range []string{`42["x"]`, "40\x1e40", "40\x1e44{}", "40\x1e42["} {
			s := openSession(t, base)
			rawReq(t, "POST", s, nil, []byte(body))
			got := ""
			for range 3 {
				r := rawReq(t, "GET", s, nil, nil)
				if r.Status != 200 {
					wantError(t, r, 1)
					got += "|400"
					break
				}
				got += "|" + string(r.Body)
			}
			if !strings.HasSuffix(got, "1|400") {
				t.Fatalf("POST %q: GETs %q, want the close then 400", body, got)
			}
		}
		// Engine.IO-level ones (parse error, client ping): dropped at once.
		for _, body := range []string{"abc", "2", "40\x1e9", ""} {
			s := openSession(t, base)
			rawReq(t, "POST", s, nil, []byte(body))
			wantError(t, rawReq(t, "GET", s, nil, nil), 1)
		}
	})

	t.Run("upgrade with pending GET", func(t *testing.T) {
		sid := handshake(t, base)
		s := base + "&sid=" + sid
		rawReq(t, "POST", s, nil, []byte("40"))
		rawReq(t, "GET", s, nil, nil) // CONNECT reply and auth
		pending := parkGET(s)
		time.Sleep(100 * time.Millisecond)
		ctx := prototest.Context(t)
		ws, _, err := transport.DialRaw(ctx, strings.Replace(url, "http", "ws", 1)+"/socket.io/?EIO=4&transport=websocket&sid="+sid, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer ws.Close()
		ws.Send(transport.TextFrame, []byte("2probe"))
		if f := nextText(t, ws); f != "3probe" {
			t.Fatalf("probe answer %q", f)
		}
		if r := <-pending; r == nil || string(r.Body) != "6" {
			t.Fatalf("pending GET got %+v, want noop", r)
		}
		ws.Send(transport.TextFrame, []byte("5"))
		ws.Send(transport.TextFrame, []byte(`42["message","up"]`))
		for {
			f := nextText(t, ws)
			if f == "2" {
				ws.Send(transport.TextFrame, []byte("3"))
				continue
			}
			if f != `42["message-back","up"]` {
				t.Fatalf("after upgrade got %q", f)
			}
			break
		}
		if r := rawReq(t, "GET", s, nil, nil); r.Status != 400 {
			t.Fatalf("GET after upgrade: %d", r.Status)
		}
		// A second WebSocket for an upgraded session is closed.
		ws2, _, err := transport.DialRaw(ctx, strings.Replace(url, "http", "ws", 1)+"/socket.io/?EIO=4&transport=websocket&sid="+sid, nil)
		if err == nil {
			f, _ := ws2.Next(ctx)
			if f.Kind != transport.CloseFrame {
				t.Fatalf("second WebSocket got %v %q", f.Kind, f.Data)
			}
			ws2.Close()
		}
	})
}

func nextText(t *testing.T, ws *transport.RawConn) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	f, err := ws.Next(ctx)
	if err != nil {
		t.Fatalf("next frame: %v", err)
	}
	return string(f.Data)
}
