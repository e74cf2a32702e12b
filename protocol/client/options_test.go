package client_test

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/engineio"
)

// tlsProxy terminates TLS on loopback with a self-signed certificate and
// forwards the plaintext to a peer, recording what clients sent and from
// which addresses, so tests can see the requests the client really made.
type tlsProxy struct {
	ln      net.Listener
	mu      sync.Mutex
	sent    bytes.Buffer
	remotes []string
}

func startTLSProxy(t *testing.T, target string) *tlsProxy {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "siokit test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:    x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	p := &tlsProxy{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			in, err := ln.Accept()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.remotes = append(p.remotes, in.RemoteAddr().String())
			p.mu.Unlock()
			go p.pipe(in, target)
		}
	}()
	return p
}

func (p *tlsProxy) pipe(in net.Conn, target string) {
	defer in.Close()
	out, err := net.Dial("tcp", target)
	if err != nil {
		return
	}
	defer out.Close()
	go func() { io.Copy(in, out); in.Close() }()
	buf := make([]byte, 32<<10)
	for {
		n, err := in.Read(buf)
		if n > 0 {
			p.mu.Lock()
			p.sent.Write(buf[:n])
			p.mu.Unlock()
			if _, err := out.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *tlsProxy) reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.sent.Reset()
	p.remotes = nil
}

func (p *tlsProxy) url() string { return "https://" + p.ln.Addr().String() }

func (p *tlsProxy) record() (string, []string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.sent.String(), append([]string(nil), p.remotes...)
}

// TestConnectionOptions checks the options that shape requests: TLS is
// verified unless InsecureSkipVerify is set explicitly, and query, headers,
// sticky-session cookies and the bound source address reach the server.
func TestConnectionOptions(t *testing.T) {
	p := testpeer.Start(t, "node4", "COOKIE=1")
	proxy := startTLSProxy(t, p.Addr)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, err := client.Dial(ctx, proxy.url(), &client.Options{Mode: client.PollingOnly, Reconnect: client.Reconnect{Disabled: true}})
	var uae x509.UnknownAuthorityError
	if err == nil || !(errors.As(err, &uae) || strings.Contains(err.Error(), "certificate")) {
		t.Fatalf("self-signed certificate accepted by default: %v", err)
	}

	for _, mode := range modes {
		t.Run(mode.String(), func(t *testing.T) {
			proxy.reset()
			c, err := client.Dial(ctx, proxy.url(), &client.Options{
				Mode:               mode,
				EIO:                engineio.V4,
				InsecureSkipVerify: true,
				Query:              url.Values{"tenant": {"t-42"}},
				Header:             http.Header{"X-Siokit-Test": {"hello"}},
				LocalAddr:          &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			root := c.Socket("/")
			if err := root.Connect(ctx, nil); err != nil {
				t.Fatal(err)
			}
			m, err := root.EmitWithAck(ctx, "message-with-ack", "over tls")
			if err != nil || string(m.Args) != `["over tls"]` {
				t.Fatalf("ack over TLS: %v %v", m, err)
			}
			sent, remotes := proxy.record()
			for _, want := range []string{"tenant=t-42&EIO=4", "X-Siokit-Test: hello"} {
				if !strings.Contains(sent, want) {
					t.Errorf("requests lack %q", want)
				}
			}
			if mode != client.WebSocketOnly && !strings.Contains(sent, "Cookie: io=") {
				t.Error("the sticky-session cookie set by the handshake was not sent back")
			}
			for _, r := range remotes {
				if !strings.HasPrefix(r, "127.0.0.2:") {
					t.Errorf("connection from %s, want source address 127.0.0.2", r)
				}
			}
		})
	}
}
