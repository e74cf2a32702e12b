package scenarios

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestTemplateFieldsChecked: a template naming a field Vars lacks is a
// file:line error when the scenario loads, not an emit_error per client.
func TestTemplateFieldsChecked(t *testing.T) {
	for src, want := range map[string]string{
		good + "  - emit: {event: e, args: [{seq: \"{{.Sq}}\"}]}\n":              `t.yaml:5: flow[1].emit.args: seq: bad template "{{.Sq}}": unknown field .Sq (want one of .Binary, .Client, .Payload, .SendTime, .Seq)`,
		good + "query: {token: \"{{.Clinet}}\"}\n":                               `t.yaml:5: query.token: bad template "{{.Clinet}}": unknown field .Clinet`,
		good + "  - emit: {event: e, args: [\"{{if .Seq}}{{.Nope}}{{end}}\"]}\n": "unknown field .Nope",
		good + "  - emit: {event: e, args: [\"{{$.Sek}}\"]}\n":                   "unknown field $.Sek",
	} {
		_, err := Parse("t.yaml", []byte(src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v\nwant %q", err, want)
		}
	}
	// Every field and method of Vars is accepted, also inside range/with.
	ok := good + "  - emit: {event: e, args: [\"{{.Client}} {{.Seq}} {{.SendTime}} {{.Payload 3}} {{$.Seq}}\", \"{{.Binary 2}}\", \"{{with .Seq}}{{.}}{{end}}\"]}\n"
	if _, err := Parse("t.yaml", []byte(ok)); err != nil {
		t.Errorf("valid templates refused: %v", err)
	}
}

func TestSourceAddrs(t *testing.T) {
	ifaces, err := net.InterfaceAddrs()
	if err != nil {
		t.Fatal(err)
	}
	has6 := false
	for _, a := range ifaces {
		if n, ok := a.(*net.IPNet); ok && n.IP.Equal(net.IPv6loopback) {
			has6 = true
		}
	}
	for _, c := range []struct{ target, addrs, want string }{
		{"", `["127.0.0.1", "127.0.0.2"]`, ""},
		{"", `["127.0.0.1", "not-an-ip"]`, `t.yaml:6: source_addrs[1]: not an IP address: "not-an-ip"`},
		{"", `["192.0.2.7"]`, "t.yaml:6: source_addrs[0]: 192.0.2.7 is not an address of this host (it has "},
		{"", `["::1"]`, "source_addrs[0]: IPv6 address ::1 cannot reach the IPv4 target 127.0.0.1"},
		{"http://127.0.0.1:3000", `["::1"]`, "IPv6 address ::1 cannot reach the IPv4 target 127.0.0.1"},
		{"http://[::1]:3000", `["127.0.0.1"]`, "IPv4 address 127.0.0.1 cannot reach the IPv6 target ::1"},
		{"http://localhost:3000", `["127.0.0.3"]`, ""},
	} {
		src := good + "target: " + c.target + "\nsource_addrs: " + c.addrs + "\n"
		if c.target == "" {
			src = good + "\nsource_addrs: " + c.addrs + "\n"
		}
		_, err := Parse("t.yaml", []byte(src))
		if c.want == "" && err != nil || c.want != "" && (err == nil || !strings.Contains(err.Error(), c.want)) {
			t.Errorf("%s %s: got %v, want %q", c.target, c.addrs, err, c.want)
		}
	}
	// ::1 against an IPv6 target: fine where the host has ::1.
	_, err = Parse("t.yaml", []byte(good+"target: http://[::1]:3000\nsource_addrs: [\"::1\"]\n"))
	if has6 && err != nil || !has6 && (err == nil || !strings.Contains(err.Error(), "::1 is not an address of this host")) {
		t.Errorf("::1 to [::1] (host has ::1: %v): %v", has6, err)
	}
}

// writeCA writes a self-signed certificate as PEM and returns its path.
func writeCA(t *testing.T, dir string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "siokit test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "ca.pem")
	os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	return p
}

func TestTLSSection(t *testing.T) {
	dir := t.TempDir()
	writeCA(t, dir)
	os.WriteFile(filepath.Join(dir, "junk.pem"), []byte("not pem\n"), 0o644)
	scen := filepath.Join(dir, "s.yaml")
	os.WriteFile(scen, []byte(good+"tls: {insecure: true, ca_file: ca.pem}\n"), 0o644)
	s, err := LoadFile(scen)
	if err != nil {
		t.Fatal(err)
	}
	if !s.TLS.Insecure || s.TLS.CAFile != filepath.Join(dir, "ca.pem") {
		t.Errorf("tls %+v", s.TLS)
	}
	c, err := s.TLS.Config()
	if err != nil || c == nil || !c.InsecureSkipVerify || c.RootCAs == nil {
		t.Errorf("config %+v, %v", c, err)
	}
	if c, err := (TLS{}).Config(); c != nil || err != nil {
		t.Errorf("empty section: %v %v", c, err)
	}
	for src, want := range map[string]string{
		"tls: {ca_file: missing.pem}\n": "s.yaml:5: tls.ca_file: open " + filepath.Join(dir, "missing.pem") + ": no such file",
		"tls: {ca_file: junk.pem}\n":    "s.yaml:5: tls.ca_file: " + filepath.Join(dir, "junk.pem") + ": no PEM certificate",
		"tls: {insecure: yes}\n":        `s.yaml:5: tls.insecure: want true or false, got "yes"`,
		"tls: {verify: false}\n":        "s.yaml:5: tls.verify: unknown key",
	} {
		_, err := Parse(scen, []byte(good+src))
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: got %v, want %q", src, err, want)
		}
	}
}
