package engineio_test

import (
	"fmt"

	"github.com/siokit/siokit/protocol/engineio"
)

func Example() {
	// A v4 polling response: a message, a ping and a binary message.
	body := []byte("4hello\x1e2\x1ebAQIDBA==")
	err := engineio.ParsePayload(engineio.V4, body, false, func(p engineio.Packet) error {
		if p.Binary {
			fmt.Printf("%s % x\n", p.Type, p.Data)
		} else {
			fmt.Printf("%s %q\n", p.Type, p.Data)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}

	// The same packets framed for a v3 server, and a v4 pong frame.
	pkts := []engineio.Packet{
		{Type: engineio.Message, Data: []byte("hello")},
		{Type: engineio.Ping},
		{Type: engineio.Message, Binary: true, Data: []byte{1, 2, 3, 4}},
	}
	fmt.Printf("%q\n", engineio.AppendPayload(nil, engineio.V3, pkts))
	frame, binary := engineio.AppendFrame(nil, engineio.V4, engineio.Packet{Type: engineio.Pong})
	fmt.Printf("%q binary=%v\n", frame, binary)

	// Output:
	// message "hello"
	// ping ""
	// message 01 02 03 04
	// "6:4hello1:210:b4AQIDBA=="
	// "3" binary=false
}

func ExampleParseHandshake() {
	open := []byte(`0{"sid":"lv_VI97HAXpY6yYWAAAC","upgrades":["websocket"],"pingInterval":25000,"pingTimeout":20000,"maxPayload":1000000}`)
	p, err := engineio.ParseFrame(engineio.V4, open, false)
	if err != nil || p.Type != engineio.Open {
		fmt.Println("not an open packet", err)
		return
	}
	h, err := engineio.ParseHandshake(p.Data)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(h.SID, h.PingIntervalDuration(), h.PingTimeoutDuration(), h.CanUpgrade("websocket"))

	_, err = engineio.ParseHandshake([]byte(`{"sid":"x","pingInterval":0,"pingTimeout":1}`))
	fmt.Println(err)

	// Output:
	// lv_VI97HAXpY6yYWAAAC 25s 20s true
	// engineio: eio_bad_handshake: "pingInterval" is not a positive integer in range (offset 0)
}
