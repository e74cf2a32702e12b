package metrics

import (
	"regexp"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Bounds of the error-cause samples (docs/sioload.md §2): a server that
// fails in a thousand different ways must not grow the result without
// limit.
const (
	// MaxCauses is how many distinct messages are kept per error kind;
	// further messages are only counted (Other).
	MaxCauses = 8
	// MaxCauseLen caps a message's length in bytes.
	MaxCauseLen = 240
)

// Cause is one error message and how many errors of its kind had it.
type Cause struct {
	Message string `json:"message"`
	Count   int64  `json:"count"`
}

// Causes samples the messages of one error kind: the first one seen, and
// up to MaxCauses distinct messages with their counts (the most frequent
// ones once merged); Other counts the errors whose message was not kept.
type Causes struct {
	First     string    `json:"first"`
	FirstTime time.Time `json:"first_time"`
	Top       []Cause   `json:"top"`
	Other     int64     `json:"other,omitempty"`
}

// add counts one message; at is when it happened.
func (c *Causes) add(msg string, at time.Time) {
	if c.First == "" || at.Before(c.FirstTime) {
		c.First, c.FirstTime = msg, at
	}
	for i := range c.Top {
		if c.Top[i].Message == msg {
			c.Top[i].Count++
			return
		}
	}
	if len(c.Top) < MaxCauses {
		c.Top = append(c.Top, Cause{Message: msg, Count: 1})
		return
	}
	c.Other++
}

// merge adds o's samples to c, keeping the MaxCauses most frequent
// messages (the others go to Other).
func (c *Causes) merge(o *Causes) {
	if o == nil {
		return
	}
	if o.First != "" && (c.First == "" || o.FirstTime.Before(c.FirstTime)) {
		c.First, c.FirstTime = o.First, o.FirstTime
	}
	c.Other += o.Other
next:
	for _, oc := range o.Top {
		for i := range c.Top {
			if c.Top[i].Message == oc.Message {
				c.Top[i].Count += oc.Count
				continue next
			}
		}
		c.Top = append(c.Top, oc)
	}
	sort.SliceStable(c.Top, func(i, j int) bool { return c.Top[i].Count > c.Top[j].Count })
	if len(c.Top) > MaxCauses {
		for _, x := range c.Top[MaxCauses:] {
			c.Other += x.Count
		}
		c.Top = c.Top[:MaxCauses:MaxCauses]
	}
}

// clone returns a deep copy, sorted most frequent first.
func (c *Causes) clone() *Causes {
	out := &Causes{First: c.First, FirstTime: c.FirstTime, Other: c.Other, Top: append([]Cause(nil), c.Top...)}
	sort.SliceStable(out.Top, func(i, j int) bool { return out.Top[i].Count > out.Top[j].Count })
	return out
}

// Counted is the number of errors the sample accounts for.
func (c *Causes) Counted() int64 {
	n := c.Other
	for _, x := range c.Top {
		n += x.Count
	}
	return n
}

var (
	// scheme://user:pw@ → scheme://***@ (secrets never in reports).
	reUserinfo = regexp.MustCompile(`([A-Za-z][A-Za-z0-9+.-]*://)[^/?#@\s"]*@`)
	// A URL's query holds the session id (different for every client)
	// and maybe tokens: dropped.
	reQuery = regexp.MustCompile(`(://[^\s"?]*)\?[^\s"]*`)
	// "read tcp 127.0.0.1:40312->127.0.0.1:3000": the local port differs
	// for every connection.
	reLocal = regexp.MustCompile(`[0-9A-Fa-f.:\[\]]+:\d+->`)
)

// CauseText turns an error message into the text kept in a report: URL
// userinfo masked, URL queries and local addresses dropped (so that the
// same failure of many clients is one message), capped at MaxCauseLen.
func CauseText(msg string) string {
	if strings.Contains(msg, "@") {
		msg = reUserinfo.ReplaceAllString(msg, "${1}***@")
	}
	if strings.Contains(msg, "?") {
		msg = reQuery.ReplaceAllStringFunc(msg, func(m string) string {
			i := strings.IndexByte(m, '?')
			tail := ""
			if strings.HasSuffix(m, ":") { // "URL: cause" unquoted
				tail = ":"
			}
			return m[:i] + "?…" + tail
		})
	}
	if strings.Contains(msg, "->") {
		msg = reLocal.ReplaceAllString(msg, "")
	}
	msg = strings.Join(strings.Fields(msg), " ") // one line
	if len(msg) > MaxCauseLen {
		cut := MaxCauseLen
		for cut > 0 && !utf8.RuneStart(msg[cut]) {
			cut--
		}
		msg = msg[:cut] + "…"
	}
	if msg == "" {
		msg = "(no message)"
	}
	return msg
}
