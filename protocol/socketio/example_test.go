package socketio_test

import (
	"fmt"

	"github.com/siokit/siokit/protocol/socketio"
)

// A client emits an event with a binary argument and an ack id; the server
// side reassembles it from the Engine.IO messages and reads it back.
func Example() {
	data, buffers, err := socketio.AppendArgs(nil, []any{"upload", "f.bin", []byte{1, 2, 3}})
	if err != nil {
		panic(err)
	}
	p := socketio.Packet{Type: socketio.BinaryEvent, Namespace: "/files", ID: 7, Data: data, Buffers: buffers}
	header, err := socketio.AppendPacket(nil, socketio.V5, &p)
	if err != nil {
		panic(err)
	}
	fmt.Printf("text:   %s\n", header)
	for _, b := range buffers {
		fmt.Printf("binary: % x\n", b)
	}

	dec := socketio.Decoder{Version: socketio.V5}
	got, _, _ := dec.Add(header, false)
	for _, b := range buffers {
		got, _, err = dec.Add(b, true)
	}
	if err != nil {
		panic(err)
	}
	name, rest, _ := socketio.EventName(got.Data)
	var name2 string
	var content []byte
	if err := socketio.Unmarshal(rest, got.Buffers, &[]any{&name2, &content}); err != nil {
		panic(err)
	}
	fmt.Printf("%s %s on %s, ack %d: %s % x\n", got.Type, name, got.Namespace, got.ID, name2, content)
	// Output:
	// text:   51-/files,7["upload","f.bin",{"_placeholder":true,"num":0}]
	// binary: 01 02 03
	// BINARY_EVENT upload on /files, ack 7: f.bin 01 02 03
}

// Conformance tests need packets a peer must refuse; the default path
// refuses to write them.
func ExampleEncoder() {
	p := socketio.Packet{Type: socketio.BinaryEvent, ID: socketio.NoID, Data: []byte(`["message"]`)}
	_, err := socketio.AppendPacket(nil, socketio.V5, &p)
	fmt.Println(err)

	enc := socketio.Encoder{Version: socketio.V5, AllowIllegalWrites: true}
	out, _ := enc.Append(nil, &p)
	fmt.Printf("%s\n", out)
	// Output:
	// socketio: sio_bad_attachments: a binary packet needs at least one attachment (offset 0)
	// 50-["message"]
}
