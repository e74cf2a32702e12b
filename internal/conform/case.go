package conform

import (
	"regexp"
	"time"
)

// DefaultTimeout bounds a whole case when its file sets no timeout.
const DefaultTimeout = 5 * time.Second

// Case is one loaded case (docs/conformance.md §2) with the file and line it
// came from, for messages.
type Case struct {
	ID          string
	Description string
	Spec        string
	// Strength is the strength of the rule the case checks: must, should
	// or open. A broken rule yields fail, warn or info.
	Strength Strength
	// Rule is the sentence (quoted or paraphrased) of the spec or of the
	// reference's documented behaviour that the case checks; Spec names
	// where it comes from.
	Rule string
	// Official names the official test-suite test this case is the
	// equivalent of, if any.
	Official string
	// Server is "engineio" or "socketio".
	Server string
	// EIO is the Engine.IO version the case speaks (4 or 3).
	EIO int
	// Path is the request path, e.g. "/engine.io/".
	Path string
	// Serial cases never run alongside other cases.
	Serial bool
	// Slow cases take tens of seconds (a server's upgrade timeout): Select
	// leaves them out, SelectSlow keeps them (sioconform --slow).
	Slow bool
	// Side is "client" for a client case (sioconform plays the server and
	// drives a client program, docs/conformance.md §6.7), "" for a server
	// case.
	Side string
	// Transport is what a client case asks its program for
	// (SIOCONFORM_TRANSPORT): polling, websocket or upgrade.
	Transport string
	// Env is what a client case sets of the contract's optional
	// environment (docs/conformance.md §6.1: SIOCONFORM_AUTH, _NAMESPACE,
	// _RECONNECTION_*), added to the program's environment.
	Env map[string]string
	// Timeout bounds the whole case.
	Timeout time.Duration
	File    string
	Line    int

	steps []*step
}

// kv is one ordered query parameter or header.
type kv struct{ K, V string }

// strMatcher is a string matcher (docs/conformance.md §4.1).
type strMatcher struct {
	kind    string // "exact", "prefix", "contains", "pattern", "any", "absent"
	val     string
	re      *regexp.Regexp // compiled at load time unless val holds a variable
	capture string
}

// jsonMatcher is a JSON matcher (docs/conformance.md §4.2).
type jsonMatcher struct {
	kind    string // "literal", "object", "array", "type", "range", "pattern", "any", "one_of", "unordered"
	lit     any    // literal scalar: string, float64, bool or nil
	keys    []string
	fields  []*jsonMatcher
	elems   []*jsonMatcher
	typ     string
	min     float64
	max     float64
	re      *regexp.Regexp
	reSrc   string
	capture string
}

// pktMatcher matches one Engine.IO packet (docs/conformance.md §4.3).
type pktMatcher struct {
	typ       string // "" = any
	data      *strMatcher
	binHex    []byte
	hasBin    bool
	json      *jsonMatcher
	exactKeys bool
	sio       *sioMatcher
}

// sioMatcher matches one Socket.IO packet (docs/conformance.md §4.4).
type sioMatcher struct {
	typ         string // "" = any
	nsp         *string
	id          *int64
	noID        bool
	attachments *int
	data        *jsonMatcher
	exactKeys   bool
}
