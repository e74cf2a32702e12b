package engineio

import (
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"time"
)

// Handshake is the JSON data of the open packet (engine.io-protocol v4 and v3, "Handshake").
type Handshake struct {
	SID          string   `json:"sid"`                  // session id, sent back as the sid query value
	Upgrades     []string `json:"upgrades"`             // transports the current one may upgrade to
	PingInterval int      `json:"pingInterval"`         // ms
	PingTimeout  int      `json:"pingTimeout"`          // ms
	MaxPayload   int      `json:"maxPayload,omitempty"` // bytes; absent in v3 and before engine.io 6.2
}

// maxMillis keeps millisecond fields convertible to a time.Duration.
const maxMillis = math.MaxInt64 / int64(time.Millisecond)

// ParseHandshake decodes and validates open-packet data (the bytes after the
// '0'). It requires a JSON object with a non-empty string "sid" and positive
// integer "pingInterval" and "pingTimeout" written without fraction or
// exponent, as Node writes them. "upgrades" must be an array of strings if
// present; a missing key leaves Upgrades nil while "[]" gives an empty
// non-nil slice, so a strict caller can tell them apart. "maxPayload" is
// optional and must be a positive integer if present. Unknown keys are
// ignored so that newer servers still parse. Failures are *Error with
// RuleBadHandshake.
func ParseHandshake(data []byte) (Handshake, error) {
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		off := 0
		var se *json.SyntaxError
		if errors.As(err, &se) {
			off = int(se.Offset)
		}
		return Handshake{}, newError(RuleBadHandshake, off, "not a JSON object: "+err.Error())
	}
	if fields == nil { // the literal null decodes without error
		return Handshake{}, newError(RuleBadHandshake, 0, "not a JSON object: null")
	}

	var h Handshake
	var err error
	if h.SID, err = stringField(fields, "sid"); err != nil {
		return Handshake{}, err
	}
	if h.SID == "" {
		return Handshake{}, newError(RuleBadHandshake, 0, `"sid" is empty`)
	}
	if raw, ok := fields["upgrades"]; ok {
		if h.Upgrades, err = stringsField(raw); err != nil {
			return Handshake{}, err
		}
	}
	if h.PingInterval, err = millisField(fields, "pingInterval", true); err != nil {
		return Handshake{}, err
	}
	if h.PingTimeout, err = millisField(fields, "pingTimeout", true); err != nil {
		return Handshake{}, err
	}
	if h.MaxPayload, err = millisField(fields, "maxPayload", false); err != nil {
		return Handshake{}, err
	}
	return h, nil
}

// The json package quietly turns null into a zero value, so each field's
// raw JSON is checked for the right kind before it is decoded.

func stringField(fields map[string]json.RawMessage, key string) (string, error) {
	raw, ok := fields[key]
	if !ok {
		return "", newError(RuleBadHandshake, 0, strconv.Quote(key)+" is missing")
	}
	var s string
	if len(raw) == 0 || raw[0] != '"' || json.Unmarshal(raw, &s) != nil {
		return "", newError(RuleBadHandshake, 0, strconv.Quote(key)+" is not a string")
	}
	return s, nil
}

func stringsField(raw json.RawMessage) ([]string, error) {
	bad := newError(RuleBadHandshake, 0, `"upgrades" is not an array of strings`)
	var elems []json.RawMessage
	if len(raw) == 0 || raw[0] != '[' || json.Unmarshal(raw, &elems) != nil {
		return nil, bad
	}
	out := make([]string, len(elems))
	for i, e := range elems {
		if len(e) == 0 || e[0] != '"' || json.Unmarshal(e, &out[i]) != nil {
			return nil, bad
		}
	}
	return out, nil
}

// millisField reads a positive integer. It is used for maxPayload too,
// which is bytes, since the rule is the same.
func millisField(fields map[string]json.RawMessage, key string, required bool) (int, error) {
	raw, ok := fields[key]
	if !ok {
		if required {
			return 0, newError(RuleBadHandshake, 0, strconv.Quote(key)+" is missing")
		}
		return 0, nil
	}
	// Only plain digits: strconv would also take a sign, and JSON allows
	// fractions and exponents that Node never writes for these fields.
	for _, c := range raw {
		if c < '0' || c > '9' {
			return 0, newError(RuleBadHandshake, 0, strconv.Quote(key)+" is not a positive integer")
		}
	}
	n, err := strconv.ParseInt(string(raw), 10, 64)
	if err != nil || n <= 0 || n > maxMillis || n > math.MaxInt {
		return 0, newError(RuleBadHandshake, 0, strconv.Quote(key)+" is not a positive integer in range")
	}
	return int(n), nil
}

// PingIntervalDuration returns PingInterval as a time.Duration.
func (h Handshake) PingIntervalDuration() time.Duration {
	return time.Duration(h.PingInterval) * time.Millisecond
}

// PingTimeoutDuration returns PingTimeout as a time.Duration.
func (h Handshake) PingTimeoutDuration() time.Duration {
	return time.Duration(h.PingTimeout) * time.Millisecond
}

// CanUpgrade reports whether the server offered an upgrade to transport
// ("websocket", "webtransport").
func (h Handshake) CanUpgrade(transport string) bool {
	return slices.Contains(h.Upgrades, transport)
}

// MarshalJSON writes the handshake in Node's key order and writes nil
// Upgrades as [], since ParseHandshake (like any client) rejects null.
func (h Handshake) MarshalJSON() ([]byte, error) {
	type plain Handshake // drops this method, avoiding recursion
	if h.Upgrades == nil {
		h.Upgrades = []string{}
	}
	return json.Marshal(plain(h))
}
