package conform

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/siokit/siokit/protocol/socketio"
	"github.com/siokit/siokit/protocol/transport"
)

// DefaultParallel is how many cases run at once when Config.Parallel is 0.
const DefaultParallel = 8

// Config says where and how to run cases.
type Config struct {
	// URL is the target's origin, e.g. "http://127.0.0.1:3000" (no path).
	URL string
	// EIO is the Engine.IO version the run selected (recorded in the Report).
	EIO int
	// Parallel caps how many cases run at once; 0 means DefaultParallel.
	Parallel int
	// Progress, if set, is called once per finished case, from one
	// goroutine at a time.
	Progress func(Result)
	// ShowSecrets keeps credentials (CONNECT auth values, token-like query
	// values, Authorization and Cookie headers) in the results; by default
	// they are masked. URL userinfo is never shown.
	ShowSecrets bool
	// Settings are the server's settings the cases judge against; nil
	// means the contract's (ContractSettings). Cases timed for the
	// contract's settings get n/a when a setting they depend on differs.
	Settings *Settings
	// Absent maps a case path ("/engine.io/") to why nothing serves it
	// (found by RunPreflight): its cases get n/a with that message.
	Absent map[string]string
	// Preflight makes Run find out first what the target is (RunPreflight):
	// a target that is no Engine.IO server, or that advertises settings
	// other than the contract's while Settings is nil and
	// SettingsFromHandshake false, is an error (nothing can be judged); a
	// Socket.IO-only target gets its /engine.io/ cases n/a, and Notice
	// hears the one line saying so.
	Preflight bool
	// SettingsFromHandshake takes pingInterval, pingTimeout and maxPayload
	// from the server's handshake (with Preflight).
	SettingsFromHandshake bool
	// Notice, if set, receives the preflight's one-line finding.
	Notice func(string)
}

// Select keeps the cases of one Engine.IO version (4: eio4.* and sio5.*;
// 3: eio3.* and sio4.*; 0: all), then those matching any only pattern (all
// when only is empty) and none of the skip patterns. Patterns are globs
// whose '*' also matches dots; a pattern without glob characters also
// selects everything below it ("eio4.handshake" selects
// "eio4.handshake.polling.ok"). Slow cases are left out (SelectSlow keeps
// them). The result is sorted by ID.
func Select(cases []*Case, eio int, only, skip []string) []*Case {
	return selectCases(cases, eio, only, skip, false)
}

// SelectSlow is Select with the slow cases kept (sioconform --slow).
func SelectSlow(cases []*Case, eio int, only, skip []string) []*Case {
	return selectCases(cases, eio, only, skip, true)
}

func selectCases(cases []*Case, eio int, only, skip []string, slow bool) []*Case {
	prefixes := versionPrefixes("", eio)
	var out []*Case
	for _, c := range cases {
		if c.Side == "client" {
			continue // played by RunClient (SelectClient)
		}
		if selected(c.ID, prefixes, only, skip) && (slow || !c.Slow) {
			out = append(out, c)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
}

// versionPrefixes are the case ID prefixes of one Engine.IO version and
// the Socket.IO revision it carries (4: eio4. and sio5.; 3: eio3. and
// sio4.), each after side ("client." for client cases); nil for 0, all
// versions.
func versionPrefixes(side string, eio int) []string {
	switch eio {
	case 4:
		return []string{side + "eio4.", side + "sio5."}
	case 3:
		return []string{side + "eio3.", side + "sio4."}
	}
	return nil
}

// selected reports whether a case ID has one of prefixes (any when nil),
// matches only (any when empty) and no skip pattern.
func selected(id string, prefixes, only, skip []string) bool {
	if prefixes != nil && !slices.ContainsFunc(prefixes, func(p string) bool { return strings.HasPrefix(id, p) }) {
		return false
	}
	return (len(only) == 0 || matchAny(only, id)) && !matchAny(skip, id)
}

func matchAny(patterns []string, id string) bool {
	for _, p := range patterns {
		if globMatch(p, id) {
			return true
		}
	}
	return false
}

// globMatch is path.Match over IDs (which hold no '/', so '*' spans dots),
// plus prefix selection for plain names.
func globMatch(pattern, id string) bool {
	if ok, err := path.Match(pattern, id); err == nil && ok {
		return true
	}
	if !strings.ContainsAny(pattern, "*?[") {
		return strings.HasPrefix(id, strings.TrimSuffix(pattern, ".")+".")
	}
	return false
}

// Run runs the cases against cfg.URL and returns one Result per case, in
// the order given. Cases run concurrently up to cfg.Parallel, except serial
// ones, which run alone after the rest. The error is non-nil only when the
// target cannot be reached at all (checked by a handshake probe first) or
// the URL is unusable.
func Run(ctx context.Context, cases []*Case, cfg Config) (*Report, error) {
	base, err := targetBase(cfg.URL)
	if err != nil {
		return nil, err
	}
	rep := &Report{Target: RedactURL(cfg.URL), EIO: cfg.EIO, Started: time.Now(), CasesTotal: len(cases)}
	if err := probe(ctx, base, cfg.EIO); err != nil {
		return nil, err
	}
	if cfg.Preflight {
		pf, err := RunPreflight(ctx, cfg.URL, cfg.EIO)
		if err != nil {
			return nil, err
		}
		set, absent, notice, err := pf.judge(cfg.Settings, cfg.SettingsFromHandshake, rep.Target)
		if err != nil {
			return nil, err
		}
		cfg.Settings = set
		if len(absent) > 0 {
			merged := map[string]string{}
			for k, v := range cfg.Absent {
				merged[k] = v
			}
			for k, v := range absent {
				merged[k] = v
			}
			cfg.Absent = merged
		}
		if notice != "" && cfg.Notice != nil {
			cfg.Notice(notice)
		}
	}
	par := cfg.Parallel
	if par <= 0 {
		par = DefaultParallel
	}
	rep.Results = schedule(cases, par, cfg.Progress, func(c *Case) Result { return runCase(ctx, c, base, &cfg) })
	rep.Duration = time.Since(rep.Started)
	return rep, nil
}

// schedule runs every case through run, up to par at once, except the
// serial ones, which run alone after the rest: timing cases (a backoff
// measured to a few tens of ms) must not share a loaded machine's cores
// with the other cases' programs. progress, if set, hears each result, one
// call at a time. Results are in the order of cases.
func schedule(cases []*Case, par int, progress func(Result), run func(*Case) Result) []Result {
	results := make([]Result, len(cases))
	var progressMu sync.Mutex
	runOne := func(i int) {
		results[i] = run(cases[i])
		if progress != nil {
			progressMu.Lock()
			progress(results[i])
			progressMu.Unlock()
		}
	}
	sem := make(chan struct{}, par)
	var wg sync.WaitGroup
	var serial []int
	for i, c := range cases {
		if c.Serial {
			serial = append(serial, i)
			continue
		}
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			runOne(i)
		}()
	}
	wg.Wait()
	for _, i := range serial {
		runOne(i)
	}
	return results
}

// targetBase is the URL every request of a run is built on: the target
// as given, http(s) only (sioconform speaks to an HTTP server and picks
// the transport per case), without a trailing slash. Its parts are read
// by socketio.ParseTarget, the one parser of target URLs.
func targetBase(raw string) (*url.URL, error) {
	t, err := socketio.ParseTarget(strings.TrimRight(raw, "/"))
	if err != nil || t.Scheme != "http" && t.Scheme != "https" {
		return nil, fmt.Errorf("conform: bad target URL %q: want http(s)://host[:port]", RedactURL(raw))
	}
	return &url.URL{Scheme: t.Scheme, User: t.User, Host: t.Host, Path: t.Path, RawQuery: t.RawQuery, Fragment: t.Fragment}, nil
}

// CheckTarget validates a target URL the way the engine needs it from a
// user: an http(s) origin, no path, so that mistakes are usage errors
// before any case runs rather than an "unreachable" later.
func CheckTarget(raw string) error {
	t, err := socketio.ParseTarget(raw)
	if err != nil || t.Scheme != "http" && t.Scheme != "https" {
		return errors.New("want http(s)://host[:port]")
	}
	if strings.Trim(t.Path, "/") != "" || t.RawQuery != "" || t.Fragment != "" {
		return errors.New("want an origin without path or query: cases choose their own paths")
	}
	return nil
}

// probe checks that something answers HTTP at the target: a handshake GET
// on /socket.io/, else /engine.io/. Any HTTP status will do; only a
// transport failure (connection refused, DNS, timeout) makes it an error.
func probe(ctx context.Context, base *url.URL, eio int) error {
	if eio == 0 {
		eio = 4
	}
	var firstErr error
	for _, p := range []string{"/socket.io/", "/engine.io/"} {
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		u := base.String() + p + "?EIO=" + strconv.Itoa(eio) + "&transport=polling"
		_, err := transport.RawRequest(pctx, "GET", u, nil, nil, nil)
		cancel()
		if err == nil {
			return nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	return fmt.Errorf("conform: target %s unreachable: %w", base.Redacted(), firstErr)
}
