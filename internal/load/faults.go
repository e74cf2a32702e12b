package load

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os/exec"
	"slices"
	"sync"
	"time"

	"github.com/siokit/siokit/internal/metrics"
)

// faults runs the scenario's fault plan on its own goroutine, each fault
// at its offset from the start (on a fixed schedule, like arrivals); the
// returned function waits for it to end (a fault in progress, such as a
// restart's down time, finishes first).
func (r *run) faults() (stop func()) {
	if len(r.s.Faults) == 0 {
		return func() {}
	}
	var wg sync.WaitGroup
	wg.Go(func() {
		// In time order, whatever the file's: one listed after a later
		// one would otherwise run late. i stays the file's index.
		order := make([]int, len(r.s.Faults))
		for i := range order {
			order[i] = i
		}
		slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(r.s.Faults[a].At, r.s.Faults[b].At) })
		for _, i := range order {
			f := r.s.Faults[i]
			if !sleepUntil(r.loadCtx, r.start.Add(f.At)) {
				return
			}
			if f.Drop > 0 {
				n := r.dropShare(f.Drop)
				r.tl.Mark(time.Now(), metrics.MarkFault, fmt.Sprintf("drop %g%% (%d clients)", 100*f.Drop, n))
			}
			if f.RestartTarget {
				r.tl.Mark(time.Now(), metrics.MarkFault, fmt.Sprintf("restart target, down %s", f.Down))
				r.restart(f.Down)
			}
			if f.Exec != "" {
				// Named by its place, not its words: a command may hold secrets.
				r.tl.Mark(time.Now(), metrics.MarkFault, fmt.Sprintf("exec faults[%d]", i))
				if settle := r.exec(i, f.Exec, f.Down); settle != nil {
					// Its down window runs beside the schedule: a later
					// fault (the restart of the node killed) is due on time.
					wg.Go(settle)
				}
			}
		}
	})
	return wg.Wait
}

// connected lists the clients whose session is up.
func (r *run) connected() []*vclient {
	r.mu.Lock()
	defer r.mu.Unlock()
	cs := make([]*vclient, 0, len(r.clients))
	for _, c := range r.clients {
		if c.up.Load() && !c.closing.Load() {
			cs = append(cs, c)
		}
	}
	return cs
}

// dropShare breaks the transport of a random share of the connected
// clients (rounded to the nearest client) and returns how many.
func (r *run) dropShare(share float64) int {
	cs := r.connected()
	n := int(math.Round(share * float64(len(cs))))
	rand.Shuffle(len(cs), func(i, j int) { cs[i], cs[j] = cs[j], cs[i] })
	for _, c := range cs[:n] {
		c.drop()
	}
	return n
}

// restart restarts the built-in target; every connected client's session
// ends, which is expected, not an error.
func (r *run) restart(down time.Duration) {
	for _, c := range r.connected() {
		c.expectDrop.Store(true)
	}
	shard := r.rec.Shard(0)
	shard.Add(metrics.Restarts, 1)
	if err := r.opts.Restart(down); err != nil {
		shard.ErrorCause("restart_error", err)
	}
}

// execTimeout bounds an exec fault's command.
const execTimeout = 60 * time.Second

// defaultExecDown is how long after an exec fault session ends count as deliberate when the
// fault sets no down.
const defaultExecDown = 5 * time.Second

// exec runs an exec fault's command. Which sessions it ends (a killed node's, a reloaded
// proxy's) is not known beforehand, so every connected client's next session end is deliberate
// for down after the start; the returned func takes the mark back from those still up then
// (nil when the load ended first).
func (r *run) exec(i int, command string, down time.Duration) (settle func()) {
	if down <= 0 {
		down = defaultExecDown
	}
	cs := r.connected()
	for _, c := range cs {
		c.expectDrop.Store(true)
	}
	shard := r.rec.Shard(0)
	ctx, cancel := context.WithTimeout(r.loadCtx, execTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "/bin/sh", "-c", command)
	cmd.WaitDelay = time.Second
	started := time.Now()
	// Output is discarded, as the command's words may hold secrets; the error ("exit status 1",
	// "signal: killed", a timeout) holds none and says why the fault did nothing.
	if err := cmd.Run(); err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			err = fmt.Errorf("still running after %v, killed", execTimeout)
		}
		shard.ErrorCause("exec_error", fmt.Errorf("faults[%d].exec: %w", i, err))
	}
	if r.loadCtx.Err() != nil {
		return nil
	}
	return func() {
		if !sleepUntil(r.loadCtx, started.Add(down)) {
			return
		}
		for _, c := range cs {
			if c.up.Load() {
				c.expectDrop.Store(false)
			}
		}
	}
}
