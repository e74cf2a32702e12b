package scenarios

import (
	"errors"
	"fmt"

	"github.com/siokit/siokit/protocol/socketio"
)

// CheckTarget reports whether raw is a target a run can dial: an http,
// https, ws or wss URL with a host (socketio.ParseTarget, the one parser
// of target URLs). The scenario's target fields and sioload's --target
// are held to it.
func CheckTarget(raw string) error {
	_, err := socketio.ParseTarget(raw)
	return err
}

// Validate checks the semantic rules that the YAML types alone do not:
// required fields, enumerations, model parameters and step arguments. It
// runs as part of Parse; call it again after changing a Scenario (for
// example after command-line overrides).
func (s *Scenario) Validate() error {
	v := &validator{s: s}
	if s.Name == "" {
		v.errf("name", "", "is required")
	}
	if s.Target != "" && CheckTarget(s.Target) != nil {
		v.errf("target", "", "want an http, https, ws or wss URL, got %q", s.Target)
	}
	for i, t := range s.Targets {
		if CheckTarget(t) != nil {
			v.errf(fmt.Sprintf("targets[%d]", i), "targets", "want an http, https, ws or wss URL, got %q", t)
		}
	}
	if s.Target != "" && len(s.Targets) > 0 {
		v.errf("targets", "", "set target or targets, not both")
	}
	if s.EIO != 3 && s.EIO != 4 {
		v.errf("eio", "", "want 4 or 3, got %d", s.EIO)
	}
	switch s.Transport {
	case TransportWebSocket, TransportPolling, TransportUpgrade:
	default:
		v.errf("transport", "", "want websocket, polling or upgrade, got %q", s.Transport)
	}
	l := s.Load
	switch l.Model {
	case ModelClosed:
		if l.Clients <= 0 {
			v.errf("load.clients", "load", "the closed model needs clients > 0")
		}
		if l.Ramp+l.Hold <= 0 {
			v.errf("load.hold", "load", "the closed model needs ramp or hold > 0")
		}
	case ModelOpen:
		if l.ArrivalRate <= 0 {
			v.errf("load.arrival_rate", "load", "the open model needs arrival_rate > 0")
		}
		if l.Duration <= 0 {
			v.errf("load.duration", "load", "the open model needs duration > 0")
		}
		if l.MaxClients <= 0 {
			v.errf("load.max_clients", "load", "must be > 0")
		}
	default:
		v.errf("load.model", "load", "want closed or open, got %q", l.Model)
	}
	if len(s.Flow) == 0 {
		v.errf("flow", "", "needs at least one step")
	} else if s.Flow[0].Kind != StepConnect {
		v.stepErr(s.Flow[0], "flow[0]", "the first step must be connect")
	}
	v.steps(s.Flow, "flow")
	for i, a := range s.SourceAddrs {
		f := fmt.Sprintf("source_addrs[%d]", i)
		if err := checkSourceAddr(a, s.Target); err != nil {
			v.errf(f, "source_addrs", "%v", err)
		}
	}
	if s.TLS.CAFile != "" {
		if _, err := LoadCA(s.TLS.CAFile); err != nil {
			v.errf("tls.ca_file", "tls", "%v", err)
		}
	}
	for i, f := range s.Faults {
		if f.Drop == 0 && !f.RestartTarget && f.Exec == "" {
			v.errf("faults", "", "faults[%d]: needs drop, restart_target or exec", i)
		}
		if f.RestartTarget && s.Target != "" {
			v.errf("faults", "", "faults[%d]: restart_target works with the built-in target only", i)
		}
		// Faults run during the load, not its grace: one due later would
		// silently never happen (a --duration that shortens a shipped
		// scenario), and a threshold on what it causes fail unexplained.
		if end := s.Load.Phase(); end > 0 && f.At >= end {
			v.errf(fmt.Sprintf("faults[%d].at", i), "faults", "%v is not before the load ends, at %v (%s): the fault would never run", f.At, end, phaseText(s.Load))
		}
		// A restart holds the fault plan for its down time (the target is
		// gone): a fault due meanwhile would run late, at a time the
		// file does not say.
		// Faults run in time order, file order among equals.
		for j, g := range s.Faults {
			after := f.At > g.At || f.At == g.At && j < i
			if j != i && g.RestartTarget && after && f.At < g.At+g.Down {
				v.errf(fmt.Sprintf("faults[%d].at", i), "faults", "%v falls in faults[%d]'s restart (at %v, down %v): the fault would run late, at %v; put it after", f.At, j, g.At, g.Down, g.At+g.Down)
			}
		}
	}
	if !(s.MaxErrorRate >= 0 && s.MaxErrorRate <= 1) { // NaN too
		v.errf("max_error_rate", "", "want a fraction of operations from 0 to 1, got %v", s.MaxErrorRate)
	}
	return errors.Join(v.errs...)
}

// phaseText says what makes up Load.Phase, for errors.
func phaseText(l Load) string {
	if l.Model == ModelOpen {
		return "load.duration"
	}
	return fmt.Sprintf("load.ramp %v + load.hold %v", l.Ramp, l.Hold)
}

type validator struct {
	s    *Scenario
	errs []error
}

// errf reports a problem of field, at its line or else at the line of
// fallback (a parent field).
func (v *validator) errf(field, fallback, format string, args ...any) {
	line, ok := v.s.lines[field]
	if !ok {
		line = v.s.lines[fallback]
	}
	v.errs = append(v.errs, &FieldError{File: v.s.File, Line: line, Field: field, Problem: fmt.Sprintf(format, args...)})
}

func (v *validator) stepErr(st Step, field, format string, args ...any) {
	v.errs = append(v.errs, &FieldError{File: v.s.File, Line: st.Line, Field: field, Problem: fmt.Sprintf(format, args...)})
}

func (v *validator) steps(steps []Step, field string) {
	for i, st := range steps {
		f := fmt.Sprintf("%s[%d].%s", field, i, st.Kind)
		switch st.Kind {
		case StepEmit, StepEmitAck, StepWait, StepBroadcast:
			if st.Event == "" {
				v.stepErr(st, f+".event", "is required")
			}
		}
		switch st.Kind {
		case StepThink:
			if st.ThinkMax != 0 && st.ThinkMax < st.Think {
				v.stepErr(st, f+".max", "must not be below min")
			}
		case StepLoop:
			if len(st.Steps) == 0 {
				v.stepErr(st, f+".steps", "needs at least one step")
			}
			v.steps(st.Steps, f+".steps")
		case StepBroadcast:
			if st.Room == "" {
				v.stepErr(st, f+".room", "is required")
			}
		}
	}
}
