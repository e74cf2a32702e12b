package conform

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"

	"github.com/siokit/siokit/protocol/engineio"
	"github.com/siokit/siokit/protocol/socketio"
	"github.com/siokit/siokit/protocol/transport"
)

func eioVersion(eio int) engineio.Version {
	if eio == 3 {
		return engineio.V3
	}
	return engineio.V4
}

// sioVersion is the Socket.IO protocol carried by an Engine.IO version.
func sioVersion(eio int) socketio.Version {
	if eio == 3 {
		return socketio.V4
	}
	return socketio.V5
}

// packetText renders an Engine.IO packet as it would look in a v4 text
// payload (binary as b<hex>), for messages.
func packetText(pk engineio.Packet) string {
	if pk.Binary {
		return fmt.Sprintf("%s binary %s", pk.Type, hexShort(pk.Data))
	}
	return strconv.Itoa(int(pk.Type)) + string(pk.Data)
}

func hexShort(b []byte) string {
	// Three characters a byte: what shorten keeps, and one byte more so
	// that it still marks the cut.
	s := hex.EncodeToString(b[:min(len(b), traceMax/3+1)])
	var sb strings.Builder
	for i := 0; i < len(s); i += 2 {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(s[i : i+2])
	}
	return shorten(sb.String())
}

// match checks one Engine.IO packet.
func (m *pktMatcher) match(pk engineio.Packet, eio int, sub subster, c caps) error {
	if m.typ != "" && pk.Type.String() != m.typ {
		return mis(m.typ, packetText(pk), "want a %s packet, got %s", m.typ, quoteShort(packetText(pk)))
	}
	if m.hasBin {
		if !pk.Binary || !bytes.Equal(pk.Data, m.binHex) {
			return mis("binary "+hexShort(m.binHex), packetText(pk), "want binary %s, got %s", hexShort(m.binHex), quoteShort(packetText(pk)))
		}
	}
	if m.data != nil {
		if pk.Binary {
			return mis(m.data.describe(), packetText(pk), "want text data %s, got a binary packet", m.data.describe())
		}
		if err := m.data.match(string(pk.Data), true, sub, c); err != nil {
			return prefixErr(err, "packet data: ")
		}
	}
	if m.json != nil {
		if err := matchJSONText(m.json, pk.Data, m.exactKeys, sub, c); err != nil {
			return prefixErr(err, pk.Type.String()+" packet: ")
		}
	}
	if m.sio != nil {
		if pk.Type != engineio.Message || pk.Binary {
			return mis("a Socket.IO packet", packetText(pk), "want a text message packet, got %s", quoteShort(packetText(pk)))
		}
		if err := m.sio.match(pk.Data, eio, sub, c); err != nil {
			return err
		}
	}
	return nil
}

// prefixErr adds context to a mismatch message.
func prefixErr(err error, prefix string) error {
	if mm, ok := err.(*mismatch); ok {
		mm.msg = prefix + mm.msg
	}
	return err
}

// matchPackets checks a decoded payload against the list, in order or as
// a multiset.
func matchPackets(list []*pktMatcher, unordered bool, pkts []engineio.Packet, eio int, sub subster, c caps) error {
	got := make([]string, len(pkts))
	for i, pk := range pkts {
		got[i] = packetText(pk)
	}
	gotText := strings.Join(got, " | ")
	if len(list) != len(pkts) {
		return mis(fmt.Sprintf("%d packets", len(list)), gotText, "want %d packets, got %d: %s", len(list), len(pkts), shorten(gotText))
	}
	if !unordered {
		for i, m := range list {
			if err := m.match(pkts[i], eio, sub, c); err != nil {
				err = prefixErr(err, fmt.Sprintf("packet %d: ", i))
				if mm, ok := err.(*mismatch); ok && mm.got == "" {
					mm.got = gotText
				}
				return err
			}
		}
		return nil
	}
	used := make([]bool, len(pkts))
	for i, m := range list {
		found := false
		for j, pk := range pkts {
			if !used[j] && m.match(pk, eio, sub, caps{}) == nil {
				_ = m.match(pk, eio, sub, c)
				used[j], found = true, true
				break
			}
		}
		if !found {
			return mis(fmt.Sprintf("packet matcher %d", i), gotText, "no packet matches matcher %d among %s", i, shorten(gotText))
		}
	}
	return nil
}

// match checks the text of one Socket.IO packet (without the Engine.IO '4').
func (m *sioMatcher) match(text []byte, eio int, sub subster, c caps) error {
	pk, err := socketio.ParsePacket(sioVersion(eio), text)
	if err != nil {
		return mis("a Socket.IO packet", string(text), "not a valid Socket.IO packet %s: %v", quoteShort(string(text)), err)
	}
	got := string(text)
	if m.typ != "" && pk.Type.String() != m.typ {
		return mis(m.typ, got, "want a %s packet, got %s %s", m.typ, pk.Type, quoteShort(got))
	}
	if m.nsp != nil {
		want, err := sub(*m.nsp)
		if err != nil {
			return err
		}
		if pk.Namespace != want {
			return mis("namespace "+want, got, "want namespace %s, got %s in %s", want, pk.Namespace, quoteShort(got))
		}
	}
	if m.noID && pk.ID != socketio.NoID {
		return mis("no ack id", got, "want no ack id, got %d in %s", pk.ID, quoteShort(got))
	}
	if m.id != nil && pk.ID != *m.id {
		return mis(fmt.Sprintf("ack id %d", *m.id), got, "want ack id %d, got %s", *m.id, quoteShort(got))
	}
	if m.attachments != nil && pk.Attachments != *m.attachments {
		return mis(fmt.Sprintf("%d attachments", *m.attachments), got, "want %d attachments, got %d in %s", *m.attachments, pk.Attachments, quoteShort(got))
	}
	if m.data != nil {
		if pk.Data == nil {
			return mis(m.data.describe(), got, "want data %s, got none in %s", shorten(m.data.describe()), quoteShort(got))
		}
		if err := matchJSONText(m.data, pk.Data, m.exactKeys, sub, c); err != nil {
			return prefixErr(err, pk.Type.String()+" data: ")
		}
	}
	return nil
}

// frameText renders a frame for messages and traces.
func frameText(f transport.Frame) string {
	switch f.Kind {
	case transport.TextFrame:
		return "text " + strconv.Quote(string(f.Data))
	case transport.BinaryFrame:
		return "binary " + hexShort(f.Data)
	case transport.CloseFrame:
		return fmt.Sprintf("close %d", f.Code)
	}
	return f.Kind.String()
}

// describe renders what a frame matcher wants.
func (m *frameMatch) describe() string {
	switch {
	case m.hasClose && m.close:
		if m.code != 0 {
			return fmt.Sprintf("close %d", m.code)
		}
		return "close"
	case m.text != nil:
		return "text " + m.text.describe()
	case m.hasBin:
		return "binary " + hexShort(m.binHex)
	case m.packet != nil:
		return "an Engine.IO packet"
	case m.sio != nil:
		return "a Socket.IO packet"
	}
	return "a frame"
}

// match checks one WebSocket frame.
func (m *frameMatch) match(f transport.Frame, eio int, sub subster, c caps) error {
	got := frameText(f)
	want := m.describe()
	if m.hasClose && m.close {
		if f.Kind != transport.CloseFrame {
			return mis(want, got, "want the connection to close, got %s", shorten(got))
		}
		if m.code != 0 && f.Code != m.code {
			return mis(want, got, "want close code %d, got %d", m.code, f.Code)
		}
		return nil
	}
	if f.Kind == transport.CloseFrame {
		return mis(want, got, "want %s, but the connection closed (code %d)", shorten(want), f.Code)
	}
	if m.hasClose { // close: false just asserts the connection is still there
		return nil
	}
	switch {
	case m.text != nil:
		if f.Kind != transport.TextFrame {
			return mis(want, got, "want %s, got %s", shorten(want), shorten(got))
		}
		if err := m.text.match(string(f.Data), true, sub, c); err != nil {
			if mm, ok := err.(*mismatch); ok {
				mm.msg = "frame: " + mm.msg
			}
			return err
		}
	case m.hasBin:
		if f.Kind != transport.BinaryFrame || !bytes.Equal(f.Data, m.binHex) {
			return mis(want, got, "want %s, got %s", shorten(want), shorten(got))
		}
	case m.packet != nil:
		pk, err := engineio.ParseFrame(eioVersion(eio), f.Data, f.Kind == transport.BinaryFrame)
		if err != nil {
			return mis(want, got, "not an Engine.IO packet: %s: %v", shorten(got), err)
		}
		if err := m.packet.match(pk, eio, sub, c); err != nil {
			return err
		}
	case m.sio != nil:
		if f.Kind != transport.TextFrame || len(f.Data) == 0 || f.Data[0] != '4' {
			return mis(want, got, "want a Socket.IO packet (text frame starting with 4), got %s", shorten(got))
		}
		if err := m.sio.match(f.Data[1:], eio, sub, c); err != nil {
			return err
		}
	}
	return nil
}

// enginePacket is an Engine.IO packet.
type enginePacket = engineio.Packet

func decodePayload(eio int, body []byte, binary bool) ([]engineio.Packet, error) {
	return engineio.DecodePayload(eioVersion(eio), body, binary)
}
