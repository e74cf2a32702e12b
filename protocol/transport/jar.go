package transport

import (
	"strings"
	"sync"

	"github.com/valyala/fasthttp"
)

// Jar holds the cookies one Engine.IO session received, so that load
// balancers that pin sessions by cookie see them on every later request.
// It ignores domains, paths and expiry: one Jar serves one session on one
// server. It is safe for concurrent use.
type Jar struct {
	mu      sync.Mutex
	cookies map[string]string
	header  string
}

// Header returns the Cookie header value, or "" when the jar is empty.
func (j *Jar) Header() string {
	if j == nil {
		return ""
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.header
}

// Set stores a cookie, replacing any earlier value of the same name.
func (j *Jar) Set(name, value string) {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.cookies == nil {
		j.cookies = map[string]string{}
	}
	j.cookies[name] = value
	var b strings.Builder
	for k, v := range j.cookies {
		if b.Len() > 0 {
			b.WriteString("; ")
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(v)
	}
	j.header = b.String()
}

// storeFrom records the Set-Cookie headers of a polling response.
func (j *Jar) storeFrom(h *fasthttp.ResponseHeader) {
	if j == nil {
		return
	}
	h.VisitAllCookie(func(_, v []byte) {
		c := fasthttp.AcquireCookie()
		if c.ParseBytes(v) == nil {
			j.Set(string(c.Key()), string(c.Value()))
		}
		fasthttp.ReleaseCookie(c)
	})
}

// storeHeader records Set-Cookie values from a net/http header (the
// WebSocket handshake response).
func (j *Jar) storeHeader(values []string) {
	if j == nil {
		return
	}
	for _, v := range values {
		c := fasthttp.AcquireCookie()
		if c.Parse(v) == nil {
			j.Set(string(c.Key()), string(c.Value()))
		}
		fasthttp.ReleaseCookie(c)
	}
}
