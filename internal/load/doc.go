// Package load owns sioload's execution engine: it runs a
// [scenarios.Scenario] against a Socket.IO server with siokit's virtual
// client ([client.Conn]) and records what happens into [metrics].
//
// # Models
//
// The closed model ramps linearly from 0 to Load.Clients over Load.Ramp,
// then holds for Load.Hold; a client whose flow ends stays connected
// until the load ends (unless its flow disconnects), held by its
// connection alone: no goroutine of the runner's waits for it, which is
// what keeps an idle client cheap. The open model starts
// clients at Load.ArrivalRate per second for Load.Duration on a fixed
// schedule (start + n/rate, never accumulated sleeps); an arrival that
// would exceed Load.MaxClients concurrent clients is dropped and counted
// (dropped_iterations). Each client runs the flow once and disconnects.
//
// # Phases and cancellation
//
// When the load phase ends, loops stop at their next iteration and
// paced steps (think, broadcast every) stop, but an iteration already
// started runs to its end during Load.Grace (an emit's wait for its reply
// included), so that no reply is abandoned in flight. Then every connection is closed. Cancelling the
// context passed to [Run] stops everything at once; Run still returns the
// results gathered so far, marked partial.
//
// # Measurements
//
// Handshake, upgrade, connect and reconnect times, bytes, disconnect
// reasons and sent messages come from the client's [client.Hook] events.
// Ack latency is measured by the runner from the send time or, in a loop
// with a rate, from the iteration's intended start shifted by the
// step's offset in the iteration, so a late iteration shows as latency
// (no coordinated omission). Event latency is "now − t" for a received
// event whose first argument is an object with a numeric field t (Unix
// microseconds, as {{.SendTime}} renders it).
package load
