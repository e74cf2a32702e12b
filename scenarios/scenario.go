package scenarios

import "time"

// Scenario is one parsed and validated scenario file. Its yaml tags are
// the file's keys (docs/sioload.md §1), read by internal/yamldoc.
type Scenario struct {
	Name        string `yaml:"name"`
	Description string `yaml:"description"`
	// Target is the server URL; "" means the built-in target.
	Target string `yaml:"target"`
	// Targets names several server URLs instead of Target (the nodes of a cluster, reached
	// directly): client i uses Targets[i % len(Targets)].
	Targets []string `yaml:"targets"`
	// Path is the Engine.IO request path (default "/socket.io/").
	Path string `yaml:"path"`
	// EIO is the Engine.IO protocol version, 4 (default) or 3.
	EIO int `yaml:"eio"`
	// Transport is "websocket" (default), "polling" or "upgrade".
	Transport string `yaml:"transport"`
	// Query and Headers values are templates, rendered once per client.
	Query   map[string]string `yaml:"query"`
	Headers map[string]string `yaml:"headers"`
	// Auth is the default CONNECT payload; string leaves are templates.
	Auth        map[string]any `yaml:"auth"`
	SourceAddrs []string       `yaml:"source_addrs"`
	Load        Load           `yaml:"load"`
	Flow        []Step         `yaml:"flow"`
	Thresholds  []Threshold    `yaml:"thresholds"`
	Faults      []Fault        `yaml:"faults"`
	// MaxErrorRate is the errors per operation above which the run has
	// failed (DefaultMaxErrorRate unless set; 1 turns the check off).
	MaxErrorRate float64 `yaml:"max_error_rate"`
	// Timeouts bound each connection phase of every client, independently
	// of the load phase; zero fields take the client's defaults.
	Timeouts Timeouts `yaml:"timeouts"`
	// MaxMessageSize caps one received polling body or WebSocket message,
	// in bytes; 0 means twice the server's advertised maxPayload (at least
	// 2000000). A larger one ends that session with an explained error.
	MaxMessageSize int64 `yaml:"max_message_size"`
	// File is the path the scenario was loaded from (or the name given
	// to Parse); errors and reports refer to it.
	File string

	// AuthT is Auth compiled, set by Parse.
	AuthT *Value

	// TLS configures certificate checks for https and wss targets.
	TLS TLS `yaml:"tls"`

	// lines maps field paths ("load.clients") to their line, for the
	// errors of Validate.
	lines map[string]int
}

// TLS is a scenario's tls section. The zero value verifies the server's
// certificate against the system roots (which SSL_CERT_FILE and
// SSL_CERT_DIR replace, as everywhere in Go on Linux).
type TLS struct {
	// Insecure accepts any certificate: for test servers with
	// self-signed ones. The connection is still encrypted.
	Insecure bool `yaml:"insecure"`
	// CAFile is a PEM file of CA certificates trusted in addition to the
	// system roots. Parse resolves it against the scenario file's folder.
	CAFile string `yaml:"ca_file"`
}

// DefaultMaxErrorRate is the max_error_rate of a scenario that sets none:
// a run with more than 10 % failed operations has failed.
const DefaultMaxErrorRate = 0.1

// Timeouts bound the connection phases. A stuck phase is counted as one
// error of its kind when its timeout expires.
type Timeouts struct {
	// Handshake bounds the Engine.IO open (default 20s, the reference
	// client's "timeout").
	Handshake time.Duration `yaml:"handshake"`
	// Upgrade bounds the WebSocket upgrade of transport "upgrade" (10s).
	Upgrade time.Duration `yaml:"upgrade"`
	// Connect bounds the wait for each namespace CONNECT answer (20s).
	Connect time.Duration `yaml:"connect"`
}

// Load is the load model of a scenario.
type Load struct {
	// Model is "closed" (default) or "open".
	Model string `yaml:"model"`
	// Clients is the closed model's concurrency at the end of the ramp.
	Clients int `yaml:"clients"`
	// Ramp and Hold are the closed model's phases.
	Ramp time.Duration `yaml:"ramp"`
	Hold time.Duration `yaml:"hold"`
	// ArrivalRate is the open model's new clients per second.
	ArrivalRate float64 `yaml:"arrival_rate"`
	// Duration is how long open-model arrivals go on.
	Duration time.Duration `yaml:"duration"`
	// MaxClients caps the open model's concurrent clients; arrivals
	// beyond it are dropped and counted (default 10000).
	MaxClients int `yaml:"max_clients"`
	// Grace is the time after the load for in-flight acks and events
	// (default 5s).
	Grace time.Duration `yaml:"grace"`
}

// Phase returns how long the load phase lasts (ramp+hold, or the open
// model's duration), grace excluded.
func (l Load) Phase() time.Duration {
	if l.Model == ModelOpen {
		return l.Duration
	}
	return l.Ramp + l.Hold
}

// Load models.
const (
	ModelClosed = "closed"
	ModelOpen   = "open"
)

// Transports.
const (
	TransportWebSocket = "websocket"
	TransportPolling   = "polling"
	TransportUpgrade   = "upgrade"
)

// StepKind names a flow step.
type StepKind string

// Step kinds.
const (
	StepConnect    StepKind = "connect"
	StepEmit       StepKind = "emit"
	StepEmitAck    StepKind = "emit_ack"
	StepWait       StepKind = "wait"
	StepThink      StepKind = "think"
	StepLoop       StepKind = "loop"
	StepBroadcast  StepKind = "broadcast"
	StepDisconnect StepKind = "disconnect"
	StepReconnect  StepKind = "reconnect"
)

// DefaultTimeout bounds emit_ack and wait steps that set no timeout.
const DefaultTimeout = 5 * time.Second

// Step is one flow step. Fields that do not apply to Kind are zero.
type Step struct {
	Kind StepKind
	// Line is the step's line in the scenario file.
	Line      int
	Namespace string
	Event     string
	// Args are YAML values; string leaves are templates. Compiled holds
	// them ready to render.
	Args []any
	Auth map[string]any
	// Timeout bounds emit_ack and wait (DefaultTimeout when unset).
	Timeout time.Duration
	// Match lists fields of a waited event's first argument that must
	// be equal (values templated).
	Match map[string]any
	// Think is a fixed pause, or the lower bound of a uniform one up to
	// ThinkMax.
	Think, ThinkMax time.Duration
	// Count, For and Rate bound and pace a loop of Steps.
	Count int
	For   time.Duration
	Rate  float64
	Steps []Step
	// Room and Every configure a broadcast step.
	Room  string
	Every time.Duration

	// ArgsT, AuthT and MatchT are the compiled templates of Args, Auth
	// and Match, set by Parse.
	ArgsT  *Value
	AuthT  *Value
	MatchT *Value
}

// Threshold is one pass/fail condition on the run's results, such as
// "p99(ack) < 50ms" (Stat "p99", Metric "ack") or "errors < 0.1%"
// (Stat "", Metric "errors", Unit "%").
type Threshold struct {
	Metric string
	Stat   string
	Op     string
	Value  float64
	// Unit is "", "us", "ms", "s" or "%", as written.
	Unit string
	// Source is the original text.
	Source string
}

// Fault is one entry of a fault plan.
type Fault struct {
	At            time.Duration `yaml:"at"`
	Drop          float64       `yaml:"drop"`
	RestartTarget bool          `yaml:"restart_target"`
	// Exec is a shell command run at At (`/bin/sh -c`), e.g. killing a node of a cluster,
	// stopping the adapter's Redis or reloading the proxy; disconnects within Down after it
	// starts are counted as deliberate, not as errors.
	Exec string        `yaml:"exec"`
	Down time.Duration `yaml:"down"`
}
