// Package redact masks secrets in text that siokit's commands print or
// write: URL userinfo (http://user:pw@host), the values of token-like
// query parameters (?token=..., &access_token=...), and literal values a
// caller registers (a scenario's Authorization header, its secret query
// values). Reports are shared in CI logs and tickets; what they must show
// is that a credential was sent, never the credential.
//
// It works on rendered text rather than on report structures, so that
// error messages quoting a request URL are covered as well as the fields
// that hold one. Stdlib only.
package redact

import (
	"encoding/json"
	"io"
	"regexp"
	"sort"
	"strings"
)

// Mask replaces every secret.
const Mask = "***"

// secretWords are substrings that make a query key or header name a
// secret wherever they occur in it (access_token, x-auth-token, password).
var secretWords = []string{"token", "auth", "passw", "secret", "session", "jwt", "apikey", "api_key", "api-key", "credential", "signature", "cookie"}

// secretNames are whole names, too short to match as substrings (sig
// would match "design").
var secretNames = []string{"key", "sig", "pwd", "pass"}

// IsSecretKey reports whether a query parameter or header name holds a
// secret by its name: token, auth, key, password, secret, session, sig,
// signature, jwt, access_token, Authorization, Cookie and the like. The
// Engine.IO parameters (EIO, transport, sid, t) are not secrets.
func IsSecretKey(name string) bool {
	k := strings.ToLower(name)
	for _, w := range secretWords {
		if strings.Contains(k, w) {
			return true
		}
	}
	for _, n := range secretNames {
		if k == n || strings.HasSuffix(k, "_"+n) || strings.HasSuffix(k, "-"+n) {
			return true
		}
	}
	return false
}

var (
	// userinfoRE matches a URL's scheme and userinfo: everything between
	// "//" and "@" that cannot be a path, query or quote.
	userinfoRE = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.\-]*://)[^/?#\s@"'<>\\]+@`)
	// queryRE matches one query parameter, key and value; "\u0026" is
	// "&" in JSON written with HTML escaping (json.Marshal's default).
	queryRE = regexp.MustCompile(`([?&;]|\\u0026)([A-Za-z0-9_.\-\[\]]+)=([^&#\s"'<>\\]*)`)
)

// Masker masks URL secrets plus the keys and literals registered with it.
// The zero value is not usable; New returns one. A Masker is safe for
// concurrent use once set up (Key and Literal are not).
type Masker struct {
	keys     map[string]bool
	literals []string
	repl     *strings.Replacer
}

// New returns a Masker of URL userinfo and secret-named query parameters.
func New() *Masker { return &Masker{keys: map[string]bool{}} }

// Key makes query parameter name secret even if IsSecretKey says no: a
// scenario's own parameter that the user marked (or that carries a
// header's value).
func (m *Masker) Key(name string) {
	m.keys[strings.ToLower(name)] = true
}

// MinLiteral is the shortest value Literal masks: masking "1" everywhere
// would destroy a report and protect nothing, and a short value could
// match inside the base64 of a saved histogram and corrupt it.
const MinLiteral = 6

// Literal masks every occurrence of s, as written and as it appears
// inside a JSON string. Values shorter than MinLiteral are ignored.
func (m *Masker) Literal(s string) {
	s = strings.TrimSpace(s)
	if len(s) < MinLiteral {
		return
	}
	m.literals = append(m.literals, s)
	if b, err := json.Marshal(s); err == nil {
		if esc := string(b[1 : len(b)-1]); esc != s {
			m.literals = append(m.literals, esc)
		}
	}
	// Longest first, so that a secret containing another is masked whole.
	sort.Slice(m.literals, func(i, j int) bool { return len(m.literals[i]) > len(m.literals[j]) })
	pairs := make([]string, 0, 2*len(m.literals))
	for _, l := range m.literals {
		pairs = append(pairs, l, Mask)
	}
	m.repl = strings.NewReplacer(pairs...)
}

// String returns s with every secret masked.
func (m *Masker) String(s string) string {
	if m == nil {
		m = std
	}
	if m.repl != nil {
		s = m.repl.Replace(s)
	}
	if strings.Contains(s, "@") {
		s = userinfoRE.ReplaceAllString(s, "${1}"+Mask+"@")
	}
	if strings.Contains(s, "=") {
		s = queryRE.ReplaceAllStringFunc(s, func(p string) string {
			sub := queryRE.FindStringSubmatch(p)
			if sub[3] == "" || sub[3] == Mask || !(IsSecretKey(sub[2]) || m.keys[strings.ToLower(sub[2])]) {
				return p
			}
			return sub[1] + sub[2] + "=" + Mask
		})
	}
	return s
}

// Userinfo masks only the userinfo of the URLs in s (http://***@host),
// for a report that keeps the other secrets on purpose (sioconform's
// --show-secrets): a password in a URL is never shown.
func Userinfo(s string) string {
	if !strings.Contains(s, "@") {
		return s
	}
	return userinfoRE.ReplaceAllString(s, "${1}"+Mask+"@")
}

// SecretParams returns the values of the secret-named query parameters
// (IsSecretKey) found anywhere in s, as written: a tool that must mask
// them where they reappear in other forms (a server's echo) registers
// them as literals.
func SecretParams(s string) []string {
	var out []string
	for _, sub := range queryRE.FindAllStringSubmatch(s, -1) {
		if sub[3] != "" && sub[3] != Mask && IsSecretKey(sub[2]) {
			out = append(out, sub[3])
		}
	}
	return out
}

// Bytes is String for a byte slice.
func (m *Masker) Bytes(b []byte) []byte { return []byte(m.String(string(b))) }

// Error returns an error whose message is err's, masked, and that still
// unwraps to err (exit codes and errors.Is keep working); nil stays nil.
func (m *Masker) Error(err error) error {
	if err == nil {
		return nil
	}
	return &maskedError{msg: m.String(err.Error()), err: err}
}

type maskedError struct {
	msg string
	err error
}

func (e *maskedError) Error() string { return e.msg }
func (e *maskedError) Unwrap() error { return e.err }

// Writer returns a writer that masks each Write before passing it on to
// w. A secret split across two Writes is not recognised: callers render a
// whole report or line into memory and write it at once.
func (m *Masker) Writer(w io.Writer) io.Writer { return &writer{m: m, w: w} }

type writer struct {
	m *Masker
	w io.Writer
}

func (w *writer) Write(p []byte) (int, error) {
	if _, err := w.w.Write(w.m.Bytes(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// std masks URL secrets only.
var std = New()

// String masks URL userinfo and secret-named query parameters in s.
func String(s string) string { return std.String(s) }

// Error is Masker.Error with URL masking only.
func Error(err error) error { return std.Error(err) }
