package testpeer

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// contractFeatures lists, per contract peer, what the test checks over HTTP long-polling.
type contractFeatures struct {
	eio      int  // Engine.IO version spoken
	engineIO bool // /engine.io/ echo server
	admin    bool // /admin refuses a wrong token
	srvAck   bool // request-ack → ack-request (with ack id) → ack-response
	discMe   bool // disconnect-me → 41
	csr      bool // /csr/ server with connection state recovery (CONNECT reply has pid)
	env      []string
}

var contractPeers = map[string]contractFeatures{
	"python":        {eio: 4, engineIO: true, admin: true, srvAck: true, discMe: true},
	"go-zishang-v3": {eio: 4, engineIO: true, admin: true, srvAck: true, discMe: true, csr: true},
	"go-zishang-v2": {eio: 4, engineIO: true, admin: true, srvAck: true, discMe: true},
	// googollee's read deadline is pingTimeout after the last client ping (EIO3 clients ping
	// every pingInterval), so with the contract's 300/200 a session dies between two pings.
	"go-googollee": {eio: 3, engineIO: true, srvAck: true, env: []string{"PING_TIMEOUT=5000"}},
	"deno":         {eio: 4, engineIO: true, admin: true, srvAck: true, discMe: true, csr: true},
	"bun":          {eio: 4, engineIO: true, admin: true, srvAck: true, discMe: true, csr: true},
}

func TestContractPeersRegistered(t *testing.T) {
	t.Parallel()
	for name := range contractPeers {
		if _, ok := specs[name]; !ok {
			t.Errorf("peer %q is not registered", name)
		}
	}
	// Deno and Bun run the same contract server; the two copies must not drift apart.
	root, err := Root()
	if err != nil {
		t.Fatal(err)
	}
	deno, err1 := os.ReadFile(filepath.Join(root, "peers", "deno", "contract.mjs"))
	bun, err2 := os.ReadFile(filepath.Join(root, "peers", "bun", "contract.mjs"))
	if err1 != nil || err2 != nil || string(deno) != string(bun) {
		t.Errorf("peers/deno/contract.mjs and peers/bun/contract.mjs differ (or are missing: %v, %v)", err1, err2)
	}
}

// TestContractPeers starts every contract peer (failing with the install hint when one is not
// installed) and talks to it over HTTP long-polling: handshake on /socket.io/ and /engine.io/,
// then the contract's handlers and the extensions the peer implements.
func TestContractPeers(t *testing.T) {
	eachContractPeer(t, func(t *testing.T, name string, f contractFeatures, p *Peer) {
		s := openSession(t, p.URL+"/socket.io/", f.eio)
		if f.eio == 4 && !strings.Contains(s.open, `"pingInterval":300`) {
			t.Errorf("handshake %q lacks pingInterval 300", s.open)
		}
		if f.eio == 4 {
			s.post("40")
			s.expect(`^40\{"sid":"[^"]+"\}$`)
		} // EIO3: the server connects "/" by itself
		if f.eio == 3 {
			s.expect(`^40$`)
		}
		s.expect(`^42\["auth",\{\}\]$`)
		s.post(`42["message",1,"2",{"3":[true]}]`)
		s.expect(`^42\["message-back",1,"2",\{"3":\[true\]\}\]$`)
		s.post(`421["message-with-ack",1,"2",{"3":[true]}]`)
		s.expect(`^431\[1,"2",\{"3":\[true\]\}\]$`)
		if f.srvAck {
			s.post(`42["request-ack","q"]`)
			m := s.expect(`^42(\d+)\["ack-request","q"\]$`)
			s.post(`43` + m[1] + `["answer",7]`)
			s.expect(`^42\["ack-response","answer",7\]$`)
		}
		s.post("40/custom,")
		s.expect(`^40/custom,`)
		s.expect(`^42/custom,\["auth",\{\}\]$`)
		if f.admin {
			s.post(`40/admin,{"token":"nope"}`)
			s.expect(`^44/admin,\{("message":"not authorized","data":\{"code":401\}|"data":\{"code":401\},"message":"not authorized")\}$`)
			s.post(`40/admin,{"token":"secret"}`)
			s.expect(`^40/admin,\{"sid":"[^"]+"\}$`)
			s.expect(`^42/admin,\["auth",\{"token":"secret"\}\]$`)
		}
		if f.discMe {
			s.post(`42["disconnect-me"]`)
			s.expect(`^41$`)
		}

		if f.engineIO {
			e := openSession(t, p.URL+"/engine.io/", f.eio)
			e.post("4hello")
			e.expect(`^4hello$`)
		}
		if f.csr {
			c := openSession(t, p.URL+"/csr/", f.eio)
			c.post("40")
			c.expect(`^40\{"sid":"[^"]+","pid":"[^"]+"\}$`)
			c.expect(`^42\["auth",\{\},"[^"]+"\]$`) // CSR appends the offset
			c.post(`421["tick",3]`)
			c.expect(`^42\["tick",1,"[^"]+"\]$`)
			c.expect(`^42\["tick",2,"[^"]+"\]$`)
			c.expect(`^42\["tick",3,"[^"]+"\]$`)
			c.expect(`^431\[3\]$`)
		} else if code, _ := httpGet(t, p.URL+"/csr/?EIO=4&transport=polling"); code == http.StatusOK {
			t.Errorf("peer %s serves /csr/ but the test does not expect it", name)
		}
	})
}

// eachContractPeer runs test, in parallel subtests, against a freshly started instance of
// every contract peer (started with the environment its features ask for).
func eachContractPeer(t *testing.T, test func(t *testing.T, name string, f contractFeatures, p *Peer)) {
	t.Parallel()
	for name, f := range contractPeers {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			test(t, name, f, Start(t, name, f.env...))
		})
	}
}

// pollingSession is one Engine.IO session driven over HTTP long-polling.
type pollingSession struct {
	t       *testing.T
	url     string // path URL with EIO, transport and sid
	eio     int
	open    string   // the open packet
	pending []string // received, not yet expected packets
}

var httpClient = &http.Client{Timeout: 5 * time.Second}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := httpClient.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp.StatusCode, string(body)
}

// openSession performs the handshake GET on base (a path URL ending in "/") and checks for
// 200 and an open packet.
func openSession(t *testing.T, base string, eio int) *pollingSession {
	t.Helper()
	q := "?EIO=" + strconv.Itoa(eio) + "&transport=polling"
	if eio == 3 {
		q += "&b64=1" // text payloads ("<len>:<packet>") instead of the binary framing
	}
	code, body := httpGet(t, base+q)
	s := &pollingSession{t: t, eio: eio}
	packets := s.decode(body)
	if code != http.StatusOK || len(packets) == 0 || !strings.HasPrefix(packets[0], `0{`) {
		t.Fatalf("handshake GET %s%s = %d %q, want 200 and an open packet", base, q, code, body)
	}
	s.open = packets[0]
	var hs struct {
		Sid string `json:"sid"`
	}
	if err := json.Unmarshal([]byte(s.open[1:]), &hs); err != nil || hs.Sid == "" {
		t.Fatalf("open packet %q: no sid (%v)", s.open, err)
	}
	s.url = base + q + "&sid=" + hs.Sid
	s.pending = packets[1:]
	return s
}

// decode splits a polling payload into packets.
func (s *pollingSession) decode(body string) []string {
	if s.eio == 4 {
		if body == "" {
			return nil
		}
		return strings.Split(body, "\x1e")
	}
	var out []string
	for body != "" {
		i := strings.IndexByte(body, ':')
		n, err := strconv.Atoi(body[:max(i, 0)])
		if i < 0 || err != nil || i+1+n > len(body) {
			s.t.Fatalf("bad EIO3 payload %q", body)
		}
		// The length counts UTF-16 units; the test only sends and expects ASCII.
		out = append(out, body[i+1:i+1+n])
		body = body[i+1+n:]
	}
	return out
}

// post sends one packet.
func (s *pollingSession) post(packet string) {
	s.t.Helper()
	body := packet
	if s.eio == 3 {
		body = strconv.Itoa(len(packet)) + ":" + packet
	}
	resp, err := httpClient.Post(s.url, "text/plain;charset=UTF-8", strings.NewReader(body))
	if err != nil {
		s.t.Fatalf("POST %q: %v", packet, err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		s.t.Fatalf("POST %q = %d %q", packet, resp.StatusCode, data)
	}
}

// expect returns the submatches of the next packet, which must match pattern. Pings are
// answered and skipped, noops skipped.
func (s *pollingSession) expect(pattern string) []string {
	s.t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(3 * time.Second)
	for {
		for len(s.pending) > 0 {
			p := s.pending[0]
			s.pending = s.pending[1:]
			switch {
			case p == "2" && s.eio == 4:
				s.post("3")
				continue
			case p == "3" && s.eio == 3, p == "6":
				continue
			}
			p = strings.TrimSuffix(p, "\n") // googollee ends JSON packets with a newline
			m := re.FindStringSubmatch(p)
			if m == nil {
				s.t.Fatalf("got packet %q, want one matching %s", p, pattern)
			}
			return m
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("no packet matching %s within 3 s", pattern)
		}
		code, body := httpGet(s.t, s.url)
		if code != http.StatusOK {
			s.t.Fatalf("GET %s = %d %q while waiting for %s", s.url, code, body, pattern)
		}
		s.pending = append(s.pending, s.decode(body)...)
	}
}

// TestContractPeersLifecycle checks the launch contract of every contract peer: a restart binds
// the same port (the port argument is honoured), and closing stdin ends the process.
func TestContractPeersLifecycle(t *testing.T) {
	eachContractPeer(t, func(t *testing.T, name string, f contractFeatures, p *Peer) {
		port := p.Port
		p.Restart(t)
		if p.Port != port || !p.Running() {
			t.Fatalf("after restart: port %d (want %d), running %v", p.Port, port, p.Running())
		}
		openSession(t, p.URL+"/socket.io/", f.eio)
		closeStdinAndWait(t, p)
	})
}

func TestContractPeerNotInstalled(t *testing.T) {
	t.Parallel()
	err := launchUninstalled(t, "go-zishang-v3", "main.go")
	if err == nil || !strings.Contains(err.Error(), "make peers") || !strings.Contains(err.Error(), "peers/install.sh go-zishang-v3") {
		t.Errorf("error without a built binary = %v, want install instructions", err)
	}
}
