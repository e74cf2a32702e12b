package testpeer

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/fasthttp/websocket"
)

// ChromiumInstall is how to get the browser the report tests open pages
// in (peers/install.sh runs it).
const ChromiumInstall = "apt-get install -y chromium"

// Page is what a headless Chromium saw when it opened one page: every
// console message of level error or warning and every uncaught
// exception (Errors), every request for anything that is not the page's
// own file:// or a data: URL (Requests), and the value of the probe
// expression.
type Page struct {
	Errors   []string
	Requests []string
	// Probe is the JSON value the probe expression returned.
	Probe json.RawMessage
	// Screenshot is a PNG of the whole page; Top one of its first
	// 1400×1600 pixels (for a README).
	Screenshot, Top []byte
}

// OpenPage opens path (a local HTML file) in Debian's headless chromium,
// driven over the DevTools protocol, waits for its load event and for
// settle more, evaluates probe (a JavaScript expression whose value is
// returned as JSON) and takes a full-page screenshot. A missing chromium
// fails the test with the install command.
func OpenPage(t testing.TB, path, probe string, settle time.Duration) *Page {
	t.Helper()
	bin := ""
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			bin = p
			break
		}
	}
	if bin == "" {
		t.Fatalf("testpeer: chromium not found; install it with `%s` (peers/install.sh does)", ChromiumInstall)
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	// Its own profile, removed after the browser and its helpers are
	// gone (they write to it until they exit).
	profile, err := os.MkdirTemp("", "siokit-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		for i := 0; i < 50 && os.RemoveAll(profile) != nil; i++ {
			time.Sleep(100 * time.Millisecond)
		}
	}()
	cmd := exec.Command(bin, "--headless", "--no-sandbox", "--disable-gpu",
		"--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
		"--disable-default-apps", "--user-data-dir="+profile, "--remote-debugging-port=0",
		"--window-size=1400,1000", "about:blank")
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	// Its own process group, so that its helper processes (zygote,
	// renderers) end with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testpeer: starting %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	var c *cdp
	defer func() {
		if c != nil {
			// Asks the browser to close; its answer may not come.
			cctx, ccancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = c.call(cctx, "", "Browser.close", nil, nil)
			ccancel()
		}
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
		}
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
		if c != nil {
			c.close()
		}
	}()
	wsURL := make(chan string, 1)
	var logMu sync.Mutex
	var log strings.Builder
	go func() {
		re := regexp.MustCompile(`DevTools listening on (ws://\S+)`)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			logMu.Lock()
			log.WriteString(sc.Text() + "\n")
			logMu.Unlock()
			if m := re.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case wsURL <- m[1]:
				default:
				}
			}
		}
	}()
	var u string
	select {
	case u = <-wsURL:
	case <-time.After(30 * time.Second):
		logMu.Lock()
		defer logMu.Unlock()
		t.Fatalf("testpeer: chromium printed no DevTools address within 30 s; its output:\n%s", log.String())
	}
	if c, err = dialCDP(u); err != nil {
		t.Fatalf("testpeer: devtools: %v", err)
	}

	var target struct{ TargetID string }
	must(t, c.call(ctx, "", "Target.createTarget", map[string]any{"url": "about:blank"}, &target))
	var att struct{ SessionID string }
	must(t, c.call(ctx, "", "Target.attachToTarget", map[string]any{"targetId": target.TargetID, "flatten": true}, &att))
	s := att.SessionID
	for _, m := range []string{"Runtime.enable", "Log.enable", "Network.enable", "Page.enable"} {
		must(t, c.call(ctx, s, m, nil, nil))
	}
	loaded := c.waitFor("Page.loadEventFired")
	must(t, c.call(ctx, s, "Page.navigate", map[string]any{"url": "file://" + abs}, nil))
	select {
	case <-loaded:
	case <-ctx.Done():
		t.Fatalf("testpeer: %s: no load event", path)
	}
	time.Sleep(settle)

	p := &Page{}
	var ev struct {
		Result struct {
			Value json.RawMessage
		}
		ExceptionDetails *json.RawMessage
	}
	must(t, c.call(ctx, s, "Runtime.evaluate", map[string]any{"expression": "JSON.stringify(" + probe + ")", "returnByValue": true}, &ev))
	if ev.ExceptionDetails != nil {
		t.Fatalf("testpeer: probe threw: %s", *ev.ExceptionDetails)
	}
	var js string
	if err := json.Unmarshal(ev.Result.Value, &js); err != nil {
		t.Fatalf("testpeer: probe value %s: %v", ev.Result.Value, err)
	}
	p.Probe = json.RawMessage(js)

	var size struct{ Result struct{ Value float64 } }
	must(t, c.call(ctx, s, "Runtime.evaluate", map[string]any{"expression": "document.documentElement.scrollHeight", "returnByValue": true}, &size))
	h := min(max(int(size.Result.Value), 600), 16000)
	must(t, c.call(ctx, s, "Emulation.setDeviceMetricsOverride", map[string]any{"width": 1400, "height": h, "deviceScaleFactor": 1, "mobile": false}, nil))
	time.Sleep(300 * time.Millisecond)
	var shot struct{ Data string }
	must(t, c.call(ctx, s, "Page.captureScreenshot", map[string]any{"format": "png"}, &shot))
	if p.Screenshot, err = base64.StdEncoding.DecodeString(shot.Data); err != nil {
		t.Fatal(err)
	}
	must(t, c.call(ctx, s, "Page.captureScreenshot", map[string]any{"format": "png",
		"clip": map[string]any{"x": 0, "y": 0, "width": 1400, "height": min(h, 1600), "scale": 1}}, &shot))
	if p.Top, err = base64.StdEncoding.DecodeString(shot.Data); err != nil {
		t.Fatal(err)
	}

	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range c.events {
		switch e.Method {
		case "Runtime.consoleAPICalled":
			var m struct {
				Type string
				Args []struct {
					Value       any
					Description string
				}
			}
			_ = json.Unmarshal(e.Params, &m)
			if m.Type == "error" || m.Type == "warning" || m.Type == "assert" {
				p.Errors = append(p.Errors, "console."+m.Type+": "+string(e.Params))
			}
		case "Runtime.exceptionThrown":
			p.Errors = append(p.Errors, "exception: "+string(e.Params))
		case "Log.entryAdded":
			var m struct {
				Entry struct{ Level, Text, URL string }
			}
			_ = json.Unmarshal(e.Params, &m)
			if m.Entry.Level == "error" || m.Entry.Level == "warning" {
				p.Errors = append(p.Errors, "log "+m.Entry.Level+": "+m.Entry.Text+" "+m.Entry.URL)
			}
		case "Network.requestWillBeSent":
			var m struct{ Request struct{ URL string } }
			_ = json.Unmarshal(e.Params, &m)
			if ru := m.Request.URL; ru != "file://"+abs && !strings.HasPrefix(ru, "data:") {
				p.Requests = append(p.Requests, ru)
			}
		}
	}
	return p
}

// WriteArtifact writes a test artifact (a screenshot) to
// $SIOKIT_ARTIFACTS, or to siokit-artifacts in the temporary directory,
// and returns its path.
func WriteArtifact(t testing.TB, name string, b []byte) string {
	t.Helper()
	dir := os.Getenv("SIOKIT_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join(os.TempDir(), "siokit-artifacts")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("testpeer: devtools: %v", err)
	}
}

// cdp is a minimal DevTools protocol client: calls with ids, events
// recorded in order.
type cdp struct {
	ws     *websocket.Conn
	wmu    sync.Mutex
	mu     sync.Mutex
	next   int
	wait   map[int]chan cdpMsg
	events []cdpMsg
	hooks  map[string][]chan struct{}
	done   chan struct{}
}

type cdpMsg struct {
	ID        int             `json:"id,omitempty"`
	Method    string          `json:"method,omitempty"`
	Params    json.RawMessage `json:"params,omitempty"`
	SessionID string          `json:"sessionId,omitempty"`
	Result    json.RawMessage `json:"result,omitempty"`
	Error     *struct {
		Message string `json:"message"`
	} `json:"error,omitempty"`
}

func dialCDP(u string) (*cdp, error) {
	d := websocket.Dialer{HandshakeTimeout: 10 * time.Second}
	ws, _, err := d.Dial(u, nil)
	if err != nil {
		return nil, err
	}
	ws.SetReadLimit(256 << 20)
	c := &cdp{ws: ws, wait: map[int]chan cdpMsg{}, hooks: map[string][]chan struct{}{}, done: make(chan struct{})}
	go c.read()
	return c, nil
}

func (c *cdp) read() {
	defer close(c.done)
	for {
		var m cdpMsg
		if err := c.ws.ReadJSON(&m); err != nil {
			return
		}
		c.mu.Lock()
		if m.ID != 0 {
			if ch := c.wait[m.ID]; ch != nil {
				ch <- m
				delete(c.wait, m.ID)
			}
		} else {
			c.events = append(c.events, m)
			for _, ch := range c.hooks[m.Method] {
				close(ch)
			}
			delete(c.hooks, m.Method)
		}
		c.mu.Unlock()
	}
}

// waitFor returns a channel closed at the next event named method.
func (c *cdp) waitFor(method string) <-chan struct{} {
	ch := make(chan struct{})
	c.mu.Lock()
	c.hooks[method] = append(c.hooks[method], ch)
	c.mu.Unlock()
	return ch
}

func (c *cdp) call(ctx context.Context, session, method string, params any, result any) error {
	c.mu.Lock()
	c.next++
	id := c.next
	ch := make(chan cdpMsg, 1)
	c.wait[id] = ch
	c.mu.Unlock()
	msg := map[string]any{"id": id, "method": method}
	if params != nil {
		msg["params"] = params
	}
	if session != "" {
		msg["sessionId"] = session
	}
	c.wmu.Lock()
	err := c.ws.WriteJSON(msg)
	c.wmu.Unlock()
	if err != nil {
		return fmt.Errorf("%s: %w", method, err)
	}
	select {
	case m := <-ch:
		if m.Error != nil {
			return fmt.Errorf("%s: %s", method, m.Error.Message)
		}
		if result != nil && len(m.Result) > 0 {
			return json.Unmarshal(m.Result, result)
		}
		return nil
	case <-c.done:
		return fmt.Errorf("%s: the browser closed the connection", method)
	case <-ctx.Done():
		return fmt.Errorf("%s: %w", method, ctx.Err())
	}
}

func (c *cdp) close() { _ = c.ws.Close(); <-c.done }
