// Package workers runs sioload beyond one process on one machine: a
// scenario split over N child processes of the sioload binary (sioload
// run --workers), each running one execution segment ([load.Segment])
// with source addresses of its own, their live progress aggregated and
// their results merged into one; and the built-in target served by N
// processes (sioload serve --workers), on one port through SO_REUSEPORT
// for WebSocket and one port per process for long-polling.
//
// One process holds fewer connections than its open-files limit
// (RLIMIT_NOFILE) and one source address gives one destination about as
// many connections as there are ephemeral ports: this package is how a
// machine goes past both. Going past one machine is the Kubernetes
// Indexed Job of deploy/kubernetes, which runs the same segments.
package workers
