package metrics

import (
	"math/bits"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Histogram geometry (docs/sioload.md §2): microseconds, 1 µs .. 1 h, 3
// significant digits.
const (
	lowest  = 1
	highest = int64(time.Hour / time.Microsecond)
	sigfigs = 3
)

// Latency identifies a latency histogram.
type Latency uint8

// Latency metrics, named as in docs/sioload.md §2.
const (
	Handshake Latency = iota
	Upgrade
	Connect
	Ack
	Event
	FanoutFirst
	FanoutMedian
	FanoutLast
	Reconnect
	// FanoutReach is a ratio histogram: receivers per intended
	// receivers of one broadcast, in per mille.
	FanoutReach
	// FanoutSameNode and FanoutCrossNode are the delivery delays of broadcasts split by
	// whether the receiver's session is on the sender's node (nodes that name themselves, as
	// the cluster peer does with its "node" event).
	FanoutSameNode
	FanoutCrossNode
	numLatency
)

var latencyNames = [numLatency]string{"handshake", "upgrade", "connect", "ack", "event", "fanout_first", "fanout_median", "fanout_last", "reconnect", "fanout_reach", "fanout_same_node", "fanout_cross_node"}

// String returns the metric's name.
func (l Latency) String() string { return latencyNames[l] }

// LatencyNames lists the histogram names in report order.
func LatencyNames() []string { return latencyNames[:] }

// Counter identifies a counter.
type Counter uint8

// Counters, named as in docs/sioload.md §2. Operations counts every
// step that can fail (connect, emit, emit_ack, wait, broadcast,
// reconnect): it is the denominator of the "errors" percentage.
const (
	MessagesSent Counter = iota
	MessagesReceived
	BytesSent
	BytesReceived
	Acks
	AckTimeouts
	Operations
	ReconnectAttempts
	Reconnects
	Recovered
	DroppedIterations
	Iterations
	ClientsStarted
	// PacketsReceived counts every Engine.IO packet received (pings
	// included): with MessagesSent it is what tests compare with a
	// server's own wire counters.
	PacketsReceived
	// Broadcasts counts broadcast requests sent; FanoutReceived the
	// broadcast deliveries received (one per receiver).
	Broadcasts
	FanoutReceived
	// Lost and Duplicated count round-trip messages (an emit of event E
	// whose first argument has a numeric seq, echoed back as E with that
	// seq) that were sent but never came back, or came back more than
	// once: the loss across reconnects and restarts.
	Lost
	Duplicated
	// Dropped counts clients whose transport a fault or reconnect step
	// broke; Restarts the target restarts of the fault plan.
	Dropped
	Restarts
	// ReconnectFailed counts sessions lost unexpectedly (or by a fault)
	// that were not back by the end of the run: with Reconnects it gives
	// the reconnect success ratio.
	ReconnectFailed
	numCounters
)

var counterNames = [numCounters]string{"messages_sent", "messages_received", "bytes_sent", "bytes_received", "acks", "ack_timeouts", "operations", "reconnect_attempts", "reconnects", "recovered", "dropped_iterations", "iterations", "clients_started", "packets_received", "broadcasts", "fanout_received", "lost", "duplicated", "dropped", "restarts", "reconnect_failed"}

// String returns the counter's name.
func (c Counter) String() string { return counterNames[c] }

// CounterNames lists the counter names in report order.
func CounterNames() []string { return counterNames[:] }

// Error kinds (docs/sioload.md §2).
const (
	ErrConnect     = "connect_error"
	ErrAckTimeout  = "ack_timeout"
	ErrWaitTimeout = "wait_timeout"
	ErrEmit        = "emit_error"
	ErrHandshake   = "handshake_error"
	ErrDisconnect  = "disconnect"
	ErrUpgrade     = "upgrade_error"
	// ErrReconnect: a reconnect step's client was not connected again
	// (every namespace) within its timeout.
	ErrReconnect = "reconnect_timeout"
)

// maxEventNames bounds the per-event-name receive counts: a server that
// invents event names must not grow the map without limit.
const maxEventNames = 64

// Shard is one worker's set of histograms and counters. Its methods are
// safe for concurrent use.
type Shard struct {
	mu          sync.Mutex
	hist        [numLatency]*shardHist
	count       [numCounters]int64
	errors      map[string]int64
	causes      map[string]*Causes
	disconnects map[string]int64
	events      map[string]int64
	nodes       map[string]int64
}

func newHist() *hdrhistogram.Histogram { return hdrhistogram.New(lowest, highest, sigfigs) }

// Record adds one latency sample; values are clamped to the histogram's
// range rather than lost.
func (s *Shard) Record(l Latency, d time.Duration) {
	s.RecordValue(l, d.Microseconds())
}

// RecordValue adds one raw sample (microseconds, or per mille for
// FanoutReach).
func (s *Shard) RecordValue(l Latency, v int64) {
	v = min(max(v, 0), highest)
	s.mu.Lock()
	s.histLocked(l).record(v)
	s.mu.Unlock()
}

// histLocked returns the histogram of l, making it on first use; s.mu
// must be held.
func (s *Shard) histLocked(l Latency) *shardHist {
	h := s.hist[l]
	if h == nil {
		// Lazily: a run that never upgrades or broadcasts keeps no such
		// histograms (each is ~190 KB at this geometry).
		h = &shardHist{counts: make([]int64, countsLen)}
		s.hist[l] = h
	}
	return h
}

// The histogram geometry as hdrhistogram-go derives it from lowest (1:
// unit magnitude 0) and sigfigs (3: 2048 sub-buckets, the power of two
// holding 2×10³ values at unit resolution, each bucket after the first
// covering twice the range of the one before with the top half of them).
const (
	subHalfMag = 10
	subHalf    = 1 << subHalfMag
	subMask    = 2*subHalf - 1
)

// countsLen is the number of counts of a histogram at this geometry.
var countsLen = len(newHist().Export().Counts)

// countsIndex is where hdrhistogram-go keeps the count of v (0 <= v <=
// highest) at this geometry (its countsIndexFor; TestCountsIndex holds
// the two together).
func countsIndex(v int64) int {
	bucket := 64 - bits.LeadingZeros64(uint64(v)|subMask) - (subHalfMag + 1)
	return (bucket+1)<<subHalfMag + int(v>>bucket) - subHalf
}

// shardHist is a shard's histogram: the bare counts of an HdrHistogram
// at this geometry. A snapshot adds the shards' counts index by index
// instead of copying each shard's Histogram out (Export) and merging it
// value by value (Merge), which was most of a tick's cost; top bounds the
// addition to what was recorded.
type shardHist struct {
	counts []int64
	top    int // one past the highest index recorded
}

func (h *shardHist) record(v int64) {
	i := countsIndex(v)
	h.counts[i]++
	h.top = max(h.top, i+1)
}

// Add adds n to a counter.
func (s *Shard) Add(c Counter, n int64) {
	s.mu.Lock()
	s.count[c] += n
	s.mu.Unlock()
}

// AddPair adds na to counter a and nb to counter b under one lock: the
// hot path's hook events each move two counters (messages and bytes
// sent, bytes and packets received), and a lock per counter was most of
// their cost.
func (s *Shard) AddPair(a Counter, na int64, b Counter, nb int64) {
	s.mu.Lock()
	s.count[a] += na
	s.count[b] += nb
	s.mu.Unlock()
}

// Acked records one acknowledged round trip of latency d: the ack
// histogram's sample and the acks counter, under one lock (Record then
// Add took it twice on every ack).
func (s *Shard) Acked(d time.Duration) {
	v := min(max(d.Microseconds(), 0), highest)
	s.mu.Lock()
	s.histLocked(Ack).record(v)
	s.count[Acks]++
	s.mu.Unlock()
}

// Error counts one error of kind whose cause is unknown; prefer
// ErrorCause.
func (s *Shard) Error(kind string) { s.ErrorCause(kind, nil) }

// ErrorCause counts one error of kind and samples its cause's message
// (see Causes; nil samples nothing). The message is prepared before the
// shard is locked: the lock is held no longer than for a counter.
func (s *Shard) ErrorCause(kind string, cause error) {
	var msg string
	var now time.Time
	if cause != nil {
		msg, now = CauseText(cause.Error()), time.Now()
	}
	s.mu.Lock()
	if s.errors == nil {
		s.errors = map[string]int64{}
	}
	s.errors[kind]++
	if cause != nil {
		if s.causes == nil {
			s.causes = map[string]*Causes{}
		}
		c := s.causes[kind]
		if c == nil {
			c = &Causes{}
			s.causes[kind] = c
		}
		c.add(msg, now)
	}
	s.mu.Unlock()
}

// Disconnect counts one session end with its reason.
func (s *Shard) Disconnect(reason string) {
	s.mu.Lock()
	if s.disconnects == nil {
		s.disconnects = map[string]int64{}
	}
	s.disconnects[reason]++
	s.mu.Unlock()
}

// Received counts one received event (messages_received, and the count
// by event name).
func (s *Shard) Received(event string) {
	s.mu.Lock()
	s.count[MessagesReceived]++
	tallyCapped(&s.events, event)
	s.mu.Unlock()
}

// Node counts one session that landed on the named server node.
func (s *Shard) Node(name string) {
	s.mu.Lock()
	tallyCapped(&s.nodes, name)
	s.mu.Unlock()
}

// tallyCapped counts key in *m, making the map on first use; once it holds
// maxEventNames keys a new one counts as "(other)", so that a peer naming
// events (or nodes) freely cannot grow the result without bound.
func tallyCapped(m *map[string]int64, key string) {
	if *m == nil {
		*m = map[string]int64{}
	}
	if _, ok := (*m)[key]; !ok && len(*m) >= maxEventNames {
		key = "(other)"
	}
	(*m)[key]++
}

// Recorder collects a run's measurements over a fixed set of shards.
type Recorder struct {
	shards    []*Shard
	connected atomic.Int64
	peak      atomic.Int64
	// sums are Snapshot's scratch arrays, one per latency, kept for the
	// next tick: Import copies them, and a fresh ~190 KB array per
	// latency every second was most of a run's garbage and its page
	// faults. snapMu serialises the snapshots that share them.
	snapMu sync.Mutex
	sums   [numLatency][]int64
}

// NewRecorder returns a Recorder with n shards (at least 1).
func NewRecorder(n int) *Recorder {
	r := &Recorder{shards: make([]*Shard, max(n, 1))}
	for i := range r.shards {
		r.shards[i] = &Shard{}
	}
	return r
}

// Shard returns the shard of worker i (any non-negative number; it is
// reduced modulo the shard count).
func (r *Recorder) Shard(i int) *Shard { return r.shards[i%len(r.shards)] }

// Connected moves the clients_connected gauge by delta.
func (r *Recorder) Connected(delta int64) {
	n := r.connected.Add(delta)
	for {
		p := r.peak.Load()
		if n <= p || r.peak.CompareAndSwap(p, n) {
			return
		}
	}
}

// ClientsConnected returns the gauge's current value.
func (r *Recorder) ClientsConnected() int64 { return r.connected.Load() }

// Snapshot merges the shards into a new Result. It locks one shard at a
// time, so recording goes on meanwhile.
//
// The shards' histograms are bare counts of one geometry (shardHist),
// so they merge by adding them index by index: the snapshot is taken
// every tick.
func (r *Recorder) Snapshot() *Result {
	res := newResult()
	r.snapMu.Lock()
	defer r.snapMu.Unlock()
	var tops [numLatency]int // one past the highest index summed; 0: no histogram
	for _, s := range r.shards {
		s.mu.Lock()
		for i, h := range s.hist {
			if h == nil {
				continue
			}
			if r.sums[i] == nil {
				r.sums[i] = make([]int64, countsLen)
			}
			sum := r.sums[i][:h.top]
			for j, n := range h.counts[:h.top] {
				sum[j] += n
			}
			tops[i] = max(tops[i], h.top, 1)
		}
		for i, n := range s.count {
			res.Counters[counterNames[i]] += n
		}
		res.addTallies(s.errors, s.causes, s.disconnects, s.events, s.nodes)
		s.mu.Unlock()
	}
	for i, top := range tops {
		if top == 0 {
			continue
		}
		sum := r.sums[i]
		res.Latencies[Latency(i).String()] = &Histogram{hdrhistogram.Import(&hdrhistogram.Snapshot{
			LowestTrackableValue: lowest, HighestTrackableValue: highest, SignificantFigures: sigfigs, Counts: sum})}
		clear(sum[:top]) // Import copied it
	}
	res.ClientsConnected = r.connected.Load()
	res.PeakClients = r.peak.Load()
	return res
}

// mergeCauses merges c into m[kind] (a copy: m never aliases a shard).
func mergeCauses(m map[string]*Causes, kind string, c *Causes) {
	if c == nil {
		return
	}
	if m[kind] == nil {
		m[kind] = c.clone()
		return
	}
	m[kind].merge(c)
}

// addTallies adds one source's counts by name (a shard's, or another
// Result's when merging) to res; Snapshot and Merge share it so that both
// fold the same maps the same way.
func (res *Result) addTallies(errors map[string]int64, causes map[string]*Causes, disconnects, events, nodes map[string]int64) {
	addMap(res.Errors, errors)
	for k, c := range causes {
		mergeCauses(res.Causes, k, c)
	}
	addMap(res.Disconnects, disconnects)
	addMap(res.Events, events)
	if len(nodes) > 0 {
		if res.Nodes == nil {
			res.Nodes = map[string]int64{}
		}
		addMap(res.Nodes, nodes)
	}
}

func addMap(dst, src map[string]int64) {
	for k, v := range src {
		dst[k] += v
	}
}

// sortedKeys returns m's keys, sorted.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
