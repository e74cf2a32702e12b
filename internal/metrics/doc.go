// Package metrics owns sioload's measurements: latency HdrHistograms
// (microseconds, 1 µs .. 1 h, 3 significant digits), counters, errors by
// kind and disconnect reasons.
//
// # Recording
//
// A [Recorder] holds a fixed number of [Shard]s, one per worker slot; each
// virtual client records into the shard its number maps to, under that
// shard's own mutex. There is never one histogram per connection, and
// shards are merged only when a [Result] is taken (every progress tick and
// at the end), so recording stays cheap and contention low.
//
// # Results
//
// A [Result] is the whole outcome of a run: merged histograms, counters,
// errors and the thresholds to judge. It serializes to JSON with each
// histogram in hdrhistogram's compressed V2 encoding (base64), so that
// results of several runs can be read back and [Merge]d. [Result.Summarize]
// turns it into the numbers reports print, and evaluates the thresholds.
// [Result.Judge] decides whether the run failed (no client connected,
// errors above the scenario's bound).
//
// # Error causes
//
// [Shard.ErrorCause] counts an error with its cause: per kind a bounded
// sample ([Causes]: the first message, at most [MaxCauses] distinct ones
// with counts, the rest as Other), mergeable across shards and results.
// [CauseText] masks URL userinfo and drops what differs per connection.
//
// The package depends on hdrhistogram-go only; the load engine feeds it,
// the reports render it.
package metrics
