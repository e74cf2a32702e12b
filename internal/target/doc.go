// Package target is siokit's built-in load and test target: the handler
// contract of the Node test peers (peers/README.md, "Handler contract") on
// top of protocol/server, so that tests, scenarios and `sioload serve` can
// run against it or against Node interchangeably.
//
// It owns the contract handlers ("/", "/custom", "/admin"), the
// Engine.IO echo server of docs/conformance.md §1 on /engine.io/, and the
// load-specific extras: a reply Delay, the push handler (server-paced
// events carrying a sequence number and a send time), and fault injection
// (DropRatio, Stall). Protocol behaviour belongs to protocol/server.
package target
