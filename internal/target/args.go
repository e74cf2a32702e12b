package target

import (
	"encoding/json"
	"errors"
	"strconv"

	"github.com/siokit/siokit/protocol/server"
)

// nodeErr words a reserved-name refusal as Node's emit throws it.
func nodeErr(event string, err error) error {
	if errors.Is(err, server.ErrReservedEvent) {
		return errMsg(strconv.Quote(event) + " is a reserved event name")
	}
	return err
}

type errMsg string

func (e errMsg) Error() string { return string(e) }

// splitName splits a JSON array of arguments into a leading event name
// (which must be a string, as the Node peer demands) and the rest as a JSON
// array. Placeholders keep their numbers, so attachments still line up.
func splitName(args []byte) (string, []byte, error) {
	var raw []json.RawMessage
	if err := json.Unmarshal(args, &raw); err != nil || len(raw) == 0 {
		return "", nil, errMsg("event name must be a string")
	}
	var name string
	if err := json.Unmarshal(raw[0], &name); err != nil {
		return "", nil, errMsg("event name must be a string")
	}
	return name, joinArray(raw[1:]), nil
}

func joinArray(raw []json.RawMessage) []byte {
	b := []byte{'['}
	for i, r := range raw {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, r...)
	}
	return append(b, ']')
}

// rawString renders a JSON value as JavaScript's String() would for the
// usual cases: strings unquoted, anything else as its JSON text.
func rawString(r json.RawMessage) string {
	var s string
	if json.Unmarshal(r, &s) == nil {
		return s
	}
	return string(r)
}

func firstAsString(args []byte) string {
	var raw []json.RawMessage
	if json.Unmarshal(args, &raw) != nil || len(raw) == 0 {
		return "undefined"
	}
	return rawString(raw[0])
}

var okArgs = []byte(`["ok"]`)

func ackOK(m interface{ AckRaw([]byte, [][]byte) error }) error {
	return m.AckRaw(okArgs, nil)
}

// ackResult acks "ok" on success, else {error: message}, when an ack was
// asked for.
func ackResult(m interface {
	WantsAck() bool
	AckRaw([]byte, [][]byte) error
	Ack(...any) error
}, err error) {
	if !m.WantsAck() {
		return
	}
	if err == nil {
		_ = m.AckRaw(okArgs, nil)
		return
	}
	var em errMsg
	msg := err.Error()
	if errors.As(err, &em) {
		msg = string(em)
	}
	_ = m.Ack(map[string]string{"error": msg})
}
