package conform

import (
	"context"

	"go.yaml.in/yaml/v3"

	"github.com/siokit/siokit/internal/yamldoc"
)

// action is one step kind of docs/conformance.md §3: how its body is read
// from a case file and how it runs. Each kind is one entry of actionList.
type action struct {
	parse func(d *yamldoc.Decoder, v *yaml.Node, field string, s *step)
	run   func(r *runner, ctx context.Context, s *step) error
}

// actionList holds every step kind, in the order messages list them.
var actionList = []struct {
	name string
	action
}{
	{"http", action{parseHTTPReq, func(r *runner, ctx context.Context, s *step) error {
		if s.async {
			return r.startAsync(ctx, s)
		}
		resp, err := r.doHTTP(ctx, s.http)
		return r.checkHTTP(s.expect, resp, err, s.http.abortAfter > 0)
	}}},
	{"ws_open", action{parseWSOpen, func(r *runner, ctx context.Context, s *step) error { return r.wsOpen(ctx, s.wsOpen, s.expect) }}},
	{"ws_send", action{parseWSSend, func(r *runner, _ context.Context, s *step) error { return r.wsSend(s.wsSend) }}},
	{"ws_expect", action{parseWSExpect, func(r *runner, ctx context.Context, s *step) error { return r.wsExpect(ctx, s.wsExpect) }}},
	{"ws_silent", action{parseWSSilent, func(r *runner, ctx context.Context, s *step) error { return r.wsSilent(ctx, s.wsSilent) }}},
	{"ws_close", action{parseWSClose, func(r *runner, _ context.Context, s *step) error { return r.wsClose(s.wsClose) }}},
	{"sleep", action{parseSleep, func(_ *runner, ctx context.Context, s *step) error { return sleepCtx(ctx, s.sleep) }}},
	{"wait", action{parseWait, func(r *runner, ctx context.Context, s *step) error { return r.wait(ctx, s.wait) }}},
	{"pending", action{parsePending, func(r *runner, _ context.Context, s *step) error { return r.checkPending(s.pending) }}},
	{"parallel", action{parseParallel, func(r *runner, ctx context.Context, s *step) error { return r.parallel(ctx, s.parallel) }}},
	{"poll_until", action{parsePollUntil, func(r *runner, ctx context.Context, s *step) error { return r.pollUntil(ctx, s.pollUntil) }}},
	{"eio_open_polling", action{parseOpenPolling, func(r *runner, ctx context.Context, s *step) error { return r.openPolling(ctx, s.openPoll) }}},
	{"eio_open_ws", action{parseOpenWS, func(r *runner, ctx context.Context, s *step) error { return r.openWS(ctx, s.openWS) }}},
	{"sio_connect_ws", action{parseSIOConnect, func(r *runner, ctx context.Context, s *step) error { return r.sioConnect(ctx, s.sioConnect) }}},
}

// actions are the names of the step kinds, for messages; stepActions finds
// a kind by name. Both are filled from actionList by init: running a
// parallel step runs steps, so a table built by its own initializer would
// depend on itself.
var (
	actions     []string
	stepActions = map[string]action{}
)

func init() {
	for _, a := range actionList {
		actions = append(actions, a.name)
		stepActions[a.name] = a.action
	}
}
