package workers

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/siokit/siokit/internal/load"
	"github.com/siokit/siokit/internal/metrics"
	"github.com/siokit/siokit/scenarios"
)

// RunOptions configures Run.
type RunOptions struct {
	// Exe is the sioload binary each worker runs (os.Executable()).
	Exe string
	// Args is a worker's command line after Exe: "run", the scenario file
	// and the flags that change the scenario (--target, --clients, ...).
	// Run adds those of each worker: --segment, --start-at, --out,
	// --quiet, --progress-fd and, when planned, --source-addrs.
	Args []string
	// Workers is the number of worker processes (at least 1).
	Workers int
	// Target is the URL the workers load (their --target), "" when the
	// scenario's targets list is used; it decides the source addresses.
	Target string
	// StartAt is the workers' common start; zero means shortly after they
	// are started (startLead).
	StartAt time.Time
	// Progress, if set, is called every ProgressInterval (default 1 s)
	// with the workers' latest progress merged.
	Progress         func(load.Progress)
	ProgressInterval time.Duration
	// Abort, when closed after ctx ended, asks the workers once more to
	// stop at once (a second Ctrl-C: they skip closing their connections).
	Abort <-chan struct{}
	// Log gets one line per notable thing: the source addresses given,
	// a worker that died.
	Log io.Writer
	// Dir is where the workers write their parts; a temporary directory,
	// removed afterwards, when "".
	Dir string
}

// startLead is how long after starting the workers they start their
// load together, per worker on top of a base: a busy machine takes a
// while to start processes, and a worker started after --start-at
// would refuse it.
func startLead(n int) time.Duration { return 2*time.Second + time.Duration(n)*250*time.Millisecond }

// Lost says which worker's results are missing and why, for the merged
// result's stop reason.
type Lost struct {
	Index, Count int
	Why          string
}

func (l Lost) String() string {
	return fmt.Sprintf("worker %d of %d died: %s; its clients' results are missing", l.Index, l.Count, l.Why)
}

// worker is one child process and what it reported.
type worker struct {
	i    int
	cmd  *exec.Cmd
	out  string // its --out part
	tail tail
	err  error // from Wait
	last *load.Progress
	lost bool // died: its progress no longer counts
}

// Run runs s as opts.Workers processes of the sioload binary, worker i
// running segment i/N, all starting at one instant, and returns their
// merged result: what one process would have returned (metrics.Merge,
// the merge of sioload report). When ctx ends (Ctrl-C) every worker is
// asked to stop (SIGINT) and writes its partial result. A worker that
// dies (kill -9, a crash) costs its part only: the others run on and the
// merged result is partial, its stop reason naming the lost worker.
// Run returns an error only when the workers could not be started.
func Run(ctx context.Context, s *scenarios.Scenario, opts RunOptions) (*metrics.Result, error) {
	n := opts.Workers
	if n < 1 {
		return nil, fmt.Errorf("workers: want at least 1 worker, got %d", n)
	}
	if err := load.CheckSegment(s, load.Segment{Index: 0, Count: n}); err != nil {
		return nil, err
	}
	logw := opts.Log
	if logw == nil {
		logw = io.Discard
	}
	if opts.ProgressInterval <= 0 {
		opts.ProgressInterval = time.Second
	}
	dir := opts.Dir
	if dir == "" {
		d, err := os.MkdirTemp("", "sioload-workers-")
		if err != nil {
			return nil, fmt.Errorf("workers: %w", err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	plan, note := SourcePlan(s, opts.Target, n, LocalPorts())
	if note != "" {
		fmt.Fprintf(logw, "sioload: note: %s\n", note)
	}
	if plan != nil {
		fmt.Fprintf(logw, "sioload: %d workers, each with source addresses of its own: %s ... %s\n", n, strings.Join(Addresses(plan[0]), ","), strings.Join(Addresses(plan[n-1]), ","))
	}
	at := opts.StartAt
	if at.IsZero() {
		at = time.Now().Add(startLead(n))
	}

	var mu sync.Mutex // guards every worker's last
	ws := make([]*worker, n)
	exited := make(chan *worker, n)
	for i := range n {
		w := &worker{i: i, out: filepath.Join(dir, fmt.Sprintf("part-%d-of-%d.json", i, n))}
		args := append(append([]string(nil), opts.Args...),
			"--segment", fmt.Sprintf("%d/%d", i, n), "--start-at", at.Format(time.RFC3339Nano),
			"--out", w.out, "--quiet", "--progress-fd", "3")
		if plan != nil {
			args = append(args, "--source-addrs", strings.Join(plan[i], ","))
		}
		pr, pw, err := os.Pipe()
		if err != nil {
			stopAll(ws, syscall.SIGKILL)
			return nil, fmt.Errorf("workers: %w", err)
		}
		w.cmd = exec.Command(opts.Exe, args...)
		w.cmd.Stdout = nil // the summary: the merged one is what counts
		w.cmd.Stderr = &w.tail
		w.cmd.ExtraFiles = []*os.File{pw}
		w.cmd.Env = childEnv(n)
		if opts.Target != "" {
			// Not on the command line, which every local user can read
			// (ps): a target URL may carry a password or a token.
			w.cmd.Env = append(w.cmd.Env, TargetEnv+"="+opts.Target)
		}
		// A process group of its own: a Ctrl-C at the terminal reaches the
		// parent only, which forwards it once per press; and the worker
		// dies with the parent rather than load on, unwatched.
		w.cmd.SysProcAttr = childAttr()
		if err := w.cmd.Start(); err != nil {
			pr.Close()
			pw.Close()
			stopAll(ws, syscall.SIGKILL)
			return nil, fmt.Errorf("workers: starting worker %d: %w", i, err)
		}
		pw.Close()
		ws[i] = w
		go func() {
			defer pr.Close()
			sc := bufio.NewScanner(pr)
			sc.Buffer(make([]byte, 64<<10), 16<<20)
			for sc.Scan() {
				var p load.Progress
				if json.Unmarshal(sc.Bytes(), &p) == nil && p.Snapshot != nil {
					mu.Lock()
					if !w.lost {
						w.last = &p
					}
					mu.Unlock()
				}
			}
		}()
		go func() { w.err = w.cmd.Wait(); exited <- w }()
	}

	tick := time.NewTicker(opts.ProgressInterval)
	defer tick.Stop()
	done, lost := 0, map[int]Lost{}
	stopping, aborting := ctx.Done(), (<-chan struct{})(nil)
	for done < n {
		select {
		case <-stopping:
			stopping, aborting = nil, opts.Abort
			stopAll(ws, syscall.SIGINT)
		case <-aborting:
			aborting = nil
			stopAll(ws, syscall.SIGINT) // the second: no closing
		case w := <-exited:
			done++
			w.cmd.Process = nil // reaped: never signalled again
			if !written(w.out) {
				l := Lost{Index: w.i, Count: n, Why: w.why()}
				lost[w.i] = l
				fmt.Fprintf(logw, "sioload: %s\n", l)
				// Its counts are gone from the result: not from the
				// progress either.
				mu.Lock()
				w.last, w.lost = nil, true
				mu.Unlock()
			}
		case <-tick.C:
			if opts.Progress == nil {
				continue
			}
			mu.Lock()
			p, ok := mergeProgress(ws, at)
			mu.Unlock()
			if ok {
				opts.Progress(p)
			}
		}
	}

	var parts []*metrics.Result
	for _, w := range ws {
		if _, ok := lost[w.i]; ok {
			continue
		}
		r, err := readPart(w.out)
		if err != nil {
			lost[w.i] = Lost{Index: w.i, Count: n, Why: err.Error()}
			continue
		}
		parts = append(parts, r)
	}
	res := metrics.Merge(parts...)
	if res.Scenario == "" {
		// Nothing came back: still a result that says what it was of.
		res.Scenario, res.Transport, res.Target, res.Start = s.Name, s.Transport, opts.Target, at
		if res.Target == "" {
			res.Target = strings.Join(s.Targets, ", ")
		}
		res.Segment = &metrics.Segment{Index: 0, Count: n}
	}
	if len(lost) > 0 {
		var why []string
		for i := range n {
			if l, ok := lost[i]; ok {
				why = append(why, l.String())
			}
		}
		if res.StopReason != "" {
			why = append(why, res.StopReason)
		}
		res.Partial, res.StopReason = true, strings.Join(why, "; ")
	}
	res.Judge(s.MaxErrorRate)
	return res, nil
}

// why says how a worker that left no result ended: its exit status and
// the last line it wrote on stderr.
func (w *worker) why() string {
	why := "exited without writing its results"
	var ee *exec.ExitError
	switch {
	case errors.As(w.err, &ee):
		why = ee.ProcessState.String() // "signal: killed", "exit status 2"
	case w.err != nil:
		why = w.err.Error()
	}
	if l := w.tail.lastLine(); l != "" {
		why += " (" + l + ")"
	}
	return why
}

// stopAll sends sig to every worker still running.
func stopAll(ws []*worker, sig syscall.Signal) {
	for _, w := range ws {
		if w != nil && w.cmd != nil && w.cmd.Process != nil {
			_ = w.cmd.Process.Signal(sig)
		}
	}
}

// mergeProgress merges the workers' latest progress into one report:
// the snapshots merged as report merges results, the phase of the first
// worker that reported. ok is false before any worker reported.
func mergeProgress(ws []*worker, at time.Time) (load.Progress, bool) {
	var first *load.Progress
	var snaps []*metrics.Result
	for _, w := range ws {
		if w == nil || w.last == nil {
			continue
		}
		if first == nil {
			first = w.last
		}
		snaps = append(snaps, w.last.Snapshot)
	}
	if first == nil {
		return load.Progress{}, false
	}
	p := *first
	p.Snapshot = metrics.Merge(snaps...)
	p.Elapsed = max(time.Since(at), 0)
	return p, true
}

// written reports whether a worker wrote its part (atomically: the file
// exists only whole).
func written(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// readPart reads a worker's part.
func readPart(path string) (*metrics.Result, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var r metrics.Result
	if err := json.Unmarshal(b, &r); err != nil {
		return nil, fmt.Errorf("its result %s: %w", filepath.Base(path), err)
	}
	if why := metrics.NotResult(&r); why != "" {
		return nil, fmt.Errorf("its result %s: %s", filepath.Base(path), why)
	}
	return &r, nil
}

// ProgressWriter returns a load.Options.Progress that writes each report
// to w as one JSON line: what a worker sends its parent (sioload run
// --progress-fd). The writing is done apart, and a report the writer has
// not taken yet is replaced by the next one: a parent slow to read must
// not hold up the run's progress loop, which also closes the timeline's
// intervals. Write errors are dropped: a parent gone does not stop the
// run, its results still go to --out.
func ProgressWriter(w io.Writer) func(load.Progress) {
	lines := make(chan []byte, 1)
	go func() {
		for b := range lines {
			_, _ = w.Write(b)
		}
	}()
	return func(p load.Progress) {
		b, err := json.Marshal(p)
		if err != nil {
			return
		}
		b = append(b, '\n')
		for {
			select {
			case lines <- b:
				return
			default:
			}
			select {
			case <-lines: // stale: the newer report replaces it
			default:
			}
		}
	}
}

// tail keeps the last tailSize bytes written to it: a worker's stderr,
// whose last line says why it ended.
type tail struct {
	mu sync.Mutex
	b  []byte
}

const tailSize = 4096

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > tailSize {
		t.b = append([]byte(nil), t.b[len(t.b)-tailSize:]...)
	}
	return len(p), nil
}

func (t *tail) lastLine() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.Split(strings.TrimSpace(string(t.b)), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}

// TargetEnv names the environment variable that hands a worker its
// target URL; sioload run reads it, with --segment, when --target is not
// given.
const TargetEnv = "SIOLOAD_WORKER_TARGET"

// childEnv is the environment of one of n workers: this process's, with
// GOMAXPROCS set to its share of the cores (at least 1) unless already
// set. Each Go process otherwise runs as many threads as there are cores:
// N workers on C cores would be N×C runnable threads, and on a saturated
// machine the handoffs of threads in syscalls make more still, until
// heartbeats miss their deadlines (seen at 100,000 clients on 2 cores).
func childEnv(n int) []string {
	env := os.Environ()
	if os.Getenv("GOMAXPROCS") == "" {
		env = append(env, fmt.Sprintf("GOMAXPROCS=%d", max(1, runtime.NumCPU()/n)))
	}
	return env
}
