// Command echo is siokit's runnable example: it connects one virtual
// Socket.IO client to a server, exercises emit, ack and binary, and prints
// every phase the client's hook observed, with its time.
//
// With no -url it starts the Node socket.io 4.x test peer on loopback
// (install it first with `make peers`).
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/siokit/siokit/internal/testpeer"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/engineio"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "echo:", err)
		os.Exit(1)
	}
}

func run() error {
	target := flag.String("url", "", "server URL (default: start the Node peer on loopback)")
	mode := flag.String("mode", "polling+websocket", "transports: polling, websocket or polling+websocket")
	eio := flag.Int("eio", 4, "Engine.IO protocol version (4, or 3 for socket.io 2.x)")
	flag.Parse()

	modes := map[string]client.Mode{"polling": client.PollingOnly, "websocket": client.WebSocketOnly, "polling+websocket": client.PollingThenUpgrade}
	m, ok := modes[*mode]
	if !ok {
		return fmt.Errorf("unknown -mode %q", *mode)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if *target == "" {
		peer := "node4"
		if *eio == 3 {
			peer = "node2"
		}
		p, err := testpeer.Launch(ctx, peer)
		if err != nil {
			return err
		}
		defer p.Stop()
		*target = p.URL
		fmt.Printf("started %s peer at %s\n", peer, p.URL)
	}

	start := time.Now()
	hook := client.HookFunc(func(e client.Event) {
		if e.Kind == client.KindPacket {
			return // one line per heartbeat and message would drown the rest
		}
		fmt.Printf("%8.3fms  %-20s %s\n", float64(e.Time.Sub(start).Microseconds())/1000, e.Kind, describe(e))
	})
	c, err := client.New(*target, &client.Options{Mode: m, EIO: engineio.Version(*eio), Hook: hook})
	if err != nil {
		return err
	}
	defer c.Close()
	root := c.Socket("/")
	got := make(chan string, 4)
	root.On("message-back", func(msg *client.Message) { got <- string(msg.Args) })
	if err := c.Open(ctx); err != nil {
		return err
	}
	if err := root.Connect(ctx, nil); err != nil {
		return err
	}
	if err := root.Emit("message", "hello", 42); err != nil {
		return err
	}
	select {
	case a := <-got:
		fmt.Printf("           message-back         %s\n", a)
	case <-ctx.Done():
		return ctx.Err()
	}
	ack, err := root.EmitWithAck(ctx, "message-with-ack", map[string]any{"ping": true}, []byte{1, 2, 3})
	if err != nil {
		return err
	}
	var obj map[string]any
	var bin []byte
	if err := ack.Decode(&obj, &bin); err != nil {
		return err
	}
	fmt.Printf("           ack                  %v binary=%v\n", obj, bin)
	return nil
}

func describe(e client.Event) string {
	s := ""
	add := func(k string, v any) { s += fmt.Sprintf("%s=%v ", k, v) }
	if e.Transport != "" {
		add("transport", e.Transport)
	}
	if e.Namespace != "" {
		add("nsp", e.Namespace)
	}
	if e.Name != "" {
		add("event", e.Name)
	}
	if e.ID >= 0 && (e.Kind == client.KindEmit || e.Kind == client.KindAck) {
		add("id", e.ID)
	}
	if e.SID != "" {
		add("sid", e.SID)
	}
	if e.Duration > 0 {
		add("took", e.Duration.Round(time.Microsecond))
	}
	if e.Reason != "" {
		add("reason", e.Reason)
	}
	if e.Err != nil {
		add("err", e.Err)
	}
	return s
}
