package socketio

import "math"

// reservedEvents are the names Node's socket.io-parser (4.2.4 and later)
// refuses as event names, because receiving them would fire the library's own
// lifecycle or EventEmitter hooks.
var reservedEvents = [...]string{
	"connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener",
}

// payloadChecks holds, per packet type, the shape rule for a payload that is
// present and valid JSON (socket.io-parser lib/index.ts isPayloadValid; socket.io-protocol v4). Offsets are relative
// to data.
var payloadChecks = [...]func(v Version, data []byte) *Error{
	Connect:      checkConnect,
	Disconnect:   checkDisconnect,
	Event:        checkEvent,
	Ack:          checkAck,
	ConnectError: checkConnectError,
	BinaryEvent:  checkEvent,
	BinaryAck:    checkAck,
}

func checkConnect(v Version, data []byte) *Error {
	if v == V4 {
		return newError(RuleBadPayload, 0, "a v4 CONNECT has no payload; auth travels as the namespace query")
	}
	if data[0] != '{' {
		return newError(RuleBadPayload, 0, "CONNECT payload must be an object")
	}
	return nil
}

func checkDisconnect(Version, []byte) *Error {
	return newError(RuleBadPayload, 0, "DISCONNECT has no payload")
}

// checkConnectError accepts a string as well as an object in both versions:
// v4 servers send strings, and Node's v5 parser still accepts them.
func checkConnectError(_ Version, data []byte) *Error {
	if data[0] != '{' && data[0] != '"' {
		return newError(RuleBadPayload, 0, "CONNECT_ERROR payload must be an object or a string")
	}
	return nil
}

func checkAck(_ Version, data []byte) *Error {
	if data[0] != '[' {
		return newError(RuleBadPayload, 0, "ACK payload must be an array")
	}
	return nil
}

// checkEvent enforces the spec's "non-empty array" whose first element, the
// event name, is a number or a string; v5 also refuses reserved names, v4
// parsers (socket.io-parser 3.x) never did.
func checkEvent(v Version, data []byte) *Error {
	if data[0] != '[' {
		return newError(RuleBadPayload, 0, "EVENT payload must be an array")
	}
	i := skipSpace(data, 1)
	switch c := data[i]; {
	case c == '-' || isDigit(c):
		return nil
	case c != '"':
		return newError(RuleBadPayload, i, "EVENT payload must start with the event name, a string or a number")
	case v == V4:
		return nil
	}
	end, _ := scanString(data, i)
	for _, name := range reservedEvents {
		if stringIs(data[i:end], name) {
			return newError(RuleReservedEvent, i, "event name "+name+" is reserved")
		}
	}
	return nil
}

// placeholder is an attachment reference {"_placeholder":true,"num":N}.
type placeholder struct {
	start, end int // span of the object in the payload
	num        int // attachment index; -1 when not a plain non-negative integer
}

// appendPlaceholders appends the placeholders of the valid JSON value at b[i:]
// in document order, the order Node numbers them in, and returns the offset
// just past the value. Like Node's reconstructPacket, it takes any object
// whose "_placeholder" member is true (the last one, as JSON.parse keeps the
// last duplicate) to stand for an attachment, and does not look inside it.
func appendPlaceholders(dst []placeholder, b []byte, i int) ([]placeholder, int) {
	i = skipSpace(b, i)
	switch b[i] {
	case '[':
		i = skipSpace(b, i+1)
		if b[i] == ']' {
			return dst, i + 1
		}
		for {
			dst, i = appendPlaceholders(dst, b, i)
			i = skipSpace(b, i)
			if b[i] == ']' {
				return dst, i + 1
			}
			i++ // ','
		}
	case '{':
		start, mark := i, len(dst)
		isPlaceholder, num := false, -1
		i = skipSpace(b, i+1)
		for b[i] != '}' {
			keyEnd, _ := scanString(b, i)
			key := b[i:keyEnd]
			val := skipSpace(b, skipSpace(b, keyEnd)+1) // past ':'
			dst, i = appendPlaceholders(dst, b, val)
			switch {
			case stringIs(key, "_placeholder"):
				isPlaceholder = string(b[val:i]) == "true"
			case stringIs(key, "num"):
				num = attachmentIndex(b[val:i])
			}
			i = skipSpace(b, i)
			if b[i] == ',' {
				i = skipSpace(b, i+1)
			}
		}
		i++
		if isPlaceholder {
			dst = append(dst[:mark], placeholder{start, i, num})
		}
		return dst, i
	}
	end, _ := scanValue(b, i, 0)
	return dst, end
}

// attachmentIndex parses a placeholder's num. Node accepts any number in
// range; here it must be written as a plain non-negative integer, which is
// what every encoder writes.
func attachmentIndex(b []byte) int {
	if len(b) == 0 || skipDigits(b, 0) != len(b) {
		return -1
	}
	if len(b) > 9 { // beyond any attachment count
		return math.MaxInt32
	}
	n := 0
	for _, c := range b {
		n = n*10 + int(c-'0')
	}
	return n
}

// checkPlaceholders enforces that the valid JSON data refers to each of n
// attachments exactly once. Node tolerates repeated and unused attachments;
// no encoder produces them, so they are treated as errors here.
func checkPlaceholders(data []byte, n int) *Error {
	var stack [16]placeholder
	phs := stack[:0]
	if len(data) > 0 {
		phs, _ = appendPlaceholders(phs, data, 0)
	}
	for _, ph := range phs {
		switch {
		case ph.num < 0:
			return newError(RuleBadPlaceholder, ph.start, "placeholder num is not a non-negative integer")
		case ph.num >= n:
			return newError(RuleBadPlaceholder, ph.start, "placeholder num out of range")
		}
	}
	// Past this check n is bounded by the size of data.
	if len(phs) < n {
		return newError(RuleBadPlaceholder, 0, "attachment without a placeholder")
	}
	seen := make([]bool, n)
	for _, ph := range phs {
		if seen[ph.num] {
			return newError(RuleBadPlaceholder, ph.start, "attachment referenced twice")
		}
		seen[ph.num] = true
	}
	return nil
}
