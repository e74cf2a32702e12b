package conform

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/siokit/siokit/internal/redact"
)

// What a report shows of what went over the wire. A server can answer a
// megabyte body or frame to every request; copied whole into each message,
// diff and trace line, a 307-case report grew to several megabytes (issue 9
// item 6). So every body, frame and value shown is capped at the source
// (shorten) to a prefix plus its length and a sha256 prefix, enough to tell
// two bodies apart and to check one against a capture; and every line of a
// result is capped again at the end (sanitize), whatever produced it, and
// a case's trace is kept to a byte budget (a server flooding small frames
// would otherwise fill it), so that a report of 307 failed cases stays
// under 1 MB.
const (
	// maxShown is the prefix of a body, frame or value a message or trace shows.
	maxShown = 80
	// maxLine caps any one line of a message, diff or trace summary.
	maxLine = 256
	// maxTrace is the budget of a case's trace, in bytes of summaries plus
	// entryCost per entry (what an entry's time, direction and connection
	// take in a report): the first two thirds and the last third are kept
	// around a marker entry. A flood of tiny frames is cut like a huge one.
	maxTrace  = 1500
	entryCost = 60
)

// capN returns s when it has at most n bytes, else its first n bytes (cut
// at a rune boundary) followed by "…" and s's length and sha256 prefix.
func capN(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	sum := sha256.Sum256([]byte(s))
	return fmt.Sprintf("%s… (%d bytes, sha256 %s)", s[:cut], len(s), hex.EncodeToString(sum[:6]))
}

// capQuoted is s Go-quoted, capped like capN: the quoted prefix, then the
// length and sha256 prefix of s itself.
func capQuoted(s string) string {
	if len(s) <= maxShown {
		return strconv.Quote(s)
	}
	c := capN(s, maxShown)
	i := strings.LastIndex(c, "… (")
	return strconv.Quote(c[:i]) + c[i:]
}

// capLines caps every line of s at about maxLine bytes. A long line keeps
// its start and its end around the marker: an error message ends with its
// cause ("...: connection reset").
func capLines(s string) string {
	if len(s) <= maxLine {
		return s
	}
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if len(l) <= maxLine {
			continue
		}
		head := capN(l, maxLine*2/3)
		tail := len(l) - maxLine/3
		for tail < len(l) && !utf8.RuneStart(l[tail]) {
			tail++
		}
		lines[i] = head + " …" + l[tail:]
	}
	return strings.Join(lines, "\n")
}

// Secrets. A case may send credentials (the admin extension's token, or a
// user's own cases against a production server: a CONNECT auth payload, a
// token in the query, an Authorization or Cookie header), and servers echo
// them back (the contract's `auth` event). Reports are CI artefacts, so by
// default every such value is masked wherever it shows (Config.ShowSecrets
// keeps them); URL userinfo is never shown.

// masked replaces a secret value.
const masked = "***"

// connectStart finds a Socket.IO CONNECT packet carrying a JSON payload, as
// sent in a frame or in a polling body (after a record separator or an EIO3
// length prefix): 40{...} or 40/nsp,{...}.
var connectStart = regexp.MustCompile(`(?:^|\x1e|:|\\u001e)40(?:/[^,{"]*,)?\{`)

// RedactURL masks any userinfo of the URLs in s (internal/redact, the
// one implementation both tools use).
func RedactURL(s string) string { return redact.Userinfo(s) }

// noteSecrets records the secret values in something the case sent: query
// parameters and CONNECT payload values in text, headers in h.
func (r *runner) noteSecrets(text string, h http.Header) {
	var found []string
	for _, v := range redact.SecretParams(text) {
		if u, err := url.QueryUnescape(v); err == nil && u != v {
			found = append(found, u)
		}
		found = append(found, v)
	}
	for _, loc := range connectStart.FindAllStringIndex(text, -1) {
		dec := json.NewDecoder(strings.NewReader(text[loc[1]-1:]))
		dec.UseNumber()
		var v any
		if dec.Decode(&v) == nil {
			found = appendLeaves(found, v)
		}
	}
	for _, k := range []string{"Authorization", "Cookie", "Proxy-Authorization"} {
		for _, v := range h.Values(k) {
			if k != "Cookie" {
				found = append(found, v)
			}
			if _, cred, ok := strings.Cut(v, " "); ok && k != "Cookie" {
				found = append(found, cred)
			}
			if k == "Cookie" {
				for _, part := range strings.Split(v, ";") {
					// io is Engine.IO's sticky-session cookie: the sid, no secret.
					if name, val, ok := strings.Cut(strings.TrimSpace(part), "="); ok && name != "io" {
						found = append(found, val)
					}
				}
			}
		}
	}
	if len(found) == 0 {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, s := range found {
		// Shorter values (a 1, a true) would mask unrelated text; they are
		// no credentials either.
		if len(s) >= 3 && s != masked {
			r.secrets[s] = true
		}
	}
}

// appendLeaves appends every string and number below v (object values,
// array items), never object keys.
func appendLeaves(out []string, v any) []string {
	switch x := v.(type) {
	case string:
		return append(out, x, strings.Trim(fmt.Sprintf("%q", x), `"`))
	case json.Number:
		return append(out, x.String())
	case map[string]any:
		for _, e := range x {
			out = appendLeaves(out, e)
		}
	case []any:
		for _, e := range x {
			out = appendLeaves(out, e)
		}
	}
	return out
}

// sanitize is the one step every result goes through before it is
// reported: secrets masked (unless show), URL userinfo removed, every line
// capped.
func sanitize(res *Result, secrets map[string]bool, show bool) {
	var mask func(string) string
	if !show && len(secrets) > 0 {
		// Longest first, so that a value containing another is masked whole;
		// a value cut by a cap ("sec…") is masked too.
		list := make([]string, 0, len(secrets))
		for s := range secrets {
			list = append(list, s)
		}
		sort.Slice(list, func(i, j int) bool {
			return len(list[i]) > len(list[j]) || len(list[i]) == len(list[j]) && list[i] < list[j]
		})
		var pairs []string
		for _, s := range list {
			pairs = append(pairs, s, masked)
		}
		rep := strings.NewReplacer(pairs...)
		mask = func(t string) string {
			t = rep.Replace(t)
			if strings.Contains(t, "…") {
				for _, s := range list {
					for k := len(s) - 1; k >= 3; k-- {
						t = strings.ReplaceAll(t, s[:k]+"…", masked+"…")
					}
				}
			}
			return t
		}
	}
	// Capped first: the patterns below are cheap on short lines and slow
	// on megabytes; a secret cut by the cap is still masked (see mask).
	clean := func(t string) string {
		t = capLines(t)
		if mask != nil {
			t = mask(t)
		}
		if !show {
			return redact.String(t)
		}
		return redact.Userinfo(t)
	}
	res.Message = clean(res.Message)
	res.Diff = clean(res.Diff)
	for i := range res.Trace {
		res.Trace[i].Summary = clean(res.Trace[i].Summary)
	}
	res.Trace = budgetTrace(res.Trace)
}

// budgetTrace keeps a trace within maxTrace bytes of summaries: entries
// from the start up to two thirds of it, from the end up to a third, and
// between them one entry saying how many were left out.
func budgetTrace(tr []TraceEntry) []TraceEntry {
	cost := func(e TraceEntry) int { return len(e.Summary) + entryCost }
	total := 0
	for _, e := range tr {
		total += cost(e)
	}
	if total <= maxTrace {
		return tr
	}
	head, used := 0, 0
	for head < len(tr) && used+cost(tr[head]) <= maxTrace*2/3 {
		used += cost(tr[head])
		head++
	}
	tail, used := len(tr), 0
	for tail > head && used+cost(tr[tail-1]) <= maxTrace/3 {
		tail--
		used += cost(tr[tail])
	}
	if tail <= head {
		return tr
	}
	left, bytes := tail-head, 0
	for _, e := range tr[head:tail] {
		bytes += len(e.Summary)
	}
	out := append([]TraceEntry(nil), tr[:head]...)
	out = append(out, TraceEntry{At: tr[head].At, Dir: "-", Kind: "elided", Conn: "-",
		Summary: fmt.Sprintf("… %d trace entries (%d bytes) left out", left, bytes)})
	return append(out, tr[tail:]...)
}
