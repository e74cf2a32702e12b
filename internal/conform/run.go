package conform

import (
	"context"
	"fmt"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

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
	var prefixes []string
	switch eio {
	case 4:
		prefixes = []string{"eio4.", "sio5."}
	case 3:
		prefixes = []string{"eio3.", "sio4."}
	}
	var out []*Case
	for _, c := range cases {
		if c.Side == "client" {
			continue // played by RunClient (SelectClient)
		}
		if prefixes != nil && !strings.HasPrefix(c.ID, prefixes[0]) && !strings.HasPrefix(c.ID, prefixes[1]) {
			continue
		}
		if len(only) > 0 && !matchAny(only, c.ID) {
			continue
		}
		if matchAny(skip, c.ID) || c.Slow && !slow {
			continue
		}
		out = append(out, c)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out
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
	base, err := url.Parse(strings.TrimRight(cfg.URL, "/"))
	if err != nil || (base.Scheme != "http" && base.Scheme != "https") || base.Host == "" {
		return nil, fmt.Errorf("conform: bad target URL %q: want http(s)://host[:port]", cfg.URL)
	}
	rep := &Report{Target: RedactURL(cfg.URL), EIO: cfg.EIO, Started: time.Now()}
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
