package scenarios

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"strings"
)

// Config returns the TLS configuration of the section: nil when it asks
// for nothing (Go's defaults: the system roots, SSL_CERT_FILE), else one
// config to share between every client of the run: the transport pools
// its HTTP clients per *tls.Config, so one config per client would defeat
// the pooling.
func (t TLS) Config() (*tls.Config, error) {
	if !t.Insecure && t.CAFile == "" {
		return nil, nil
	}
	c := &tls.Config{InsecureSkipVerify: t.Insecure}
	if t.CAFile != "" {
		pool, err := LoadCA(t.CAFile)
		if err != nil {
			return nil, err
		}
		c.RootCAs = pool
	}
	return c, nil
}

// LoadCA reads a PEM file of CA certificates and returns the system roots
// plus those certificates (only those when the system has no pool). A
// file without a single PEM certificate is an error: a typo in the path
// of a key file, say, must not silently trust nothing.
func LoadCA(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("%s: no PEM certificate in the file", path)
	}
	return pool, nil
}

// interfaceAddrs lists this host's addresses; tests replace it.
var interfaceAddrs = net.InterfaceAddrs

// checkSourceAddr checks one source_addrs entry: an IP address of this
// host, of the family of the target when the target is an IP literal (the
// built-in target listens on 127.0.0.1). Without this check a typo or a
// foreign address made every connection fail with a bind error counted
// as a handshake error.
func checkSourceAddr(a, target string) error {
	ip := net.ParseIP(a)
	if ip == nil {
		return fmt.Errorf("not an IP address: %q", a)
	}
	if !ip.IsUnspecified() && !(ip.To4() != nil && ip.IsLoopback()) {
		// 127.0.0.0/8 is all local on Linux; anything else must be an
		// address of an interface.
		addrs, err := interfaceAddrs()
		if err != nil {
			return fmt.Errorf("cannot list this host's addresses: %v", err)
		}
		found := false
		var have []string
		for _, ad := range addrs {
			if n, ok := ad.(*net.IPNet); ok {
				have = append(have, n.IP.String())
				found = found || n.IP.Equal(ip)
			}
		}
		if !found {
			return fmt.Errorf("%s is not an address of this host (it has %s)", a, strings.Join(have, ", "))
		}
	}
	host := "127.0.0.1" // the built-in target
	if target != "" {
		u, err := url.Parse(target)
		if err != nil {
			return nil // the target's own check reports it
		}
		host = u.Hostname()
	}
	if tip := net.ParseIP(host); tip != nil && !ip.IsUnspecified() && (tip.To4() == nil) != (ip.To4() == nil) {
		return errors.New(family(ip) + " address " + a + " cannot reach the " + family(tip) + " target " + host)
	}
	return nil
}

func family(ip net.IP) string {
	if ip.To4() != nil {
		return "IPv4"
	}
	return "IPv6"
}
