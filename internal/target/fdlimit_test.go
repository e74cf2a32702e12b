package target_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/siokit/siokit/internal/target"
	"github.com/siokit/siokit/protocol/client"
	"github.com/siokit/siokit/protocol/prototest"
)

// fdHeadroom is how many descriptors the child target may open beyond
// those it has when it starts serving.
const fdHeadroom = 24

// TestServeKeepsConnectionsPastFDLimit runs the target in a child process
// whose RLIMIT_NOFILE leaves it fdHeadroom descriptors, opens more
// connections than that, and checks that the target refuses the excess
// (and says so), keeps the clients it had (a round trip each), does not
// exit, and accepts again once the excess is closed.
func TestServeKeepsConnectionsPastFDLimit(t *testing.T) {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFDLimitTarget$")
	cmd.Env = append(os.Environ(), "SIOKIT_HELPER_FDLIMIT=1")
	stdout, _ := cmd.StdoutPipe()
	stdin, _ := cmd.StdinPipe() // the child serves until stdin closes
	var logMu sync.Mutex
	var logBuf strings.Builder
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() {
		io.Copy(&lockedWriter{mu: &logMu, b: &logBuf}, stderr)
	}()
	addrc := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			if a, ok := strings.CutPrefix(sc.Text(), "ADDR "); ok {
				addrc <- a
			}
		}
		exited <- cmd.Wait()
	}()
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); <-exited })
	var url string
	select {
	case a := <-addrc:
		url = "http://" + a
	case err := <-exited:
		t.Fatalf("child exited: %v\n%s", err, logBuf.String())
	case <-time.After(60 * time.Second):
		t.Fatal("the child target did not start within 60 s")
	}
	childLog := func() string { logMu.Lock(); defer logMu.Unlock(); return logBuf.String() }

	// The clients that must survive.
	const keep = 4
	var socks []*client.Socket
	for range keep {
		c, s := roundTripClient(t, url)
		t.Cleanup(func() { c.Close() })
		socks = append(socks, s)
	}
	// More raw connections than the child has descriptors left.
	const excess = 3 * fdHeadroom
	var raws []net.Conn
	refused := 0 // the target resets the ones it cannot take, maybe while we dial
	for i := range excess {
		c, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "http://"), 10*time.Second)
		if errors.Is(err, syscall.ECONNRESET) {
			refused++
			continue
		}
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		raws = append(raws, c)
	}
	// The others it holds, or resets a bit later.
	var wg sync.WaitGroup
	var mu sync.Mutex
	for _, c := range raws {
		wg.Go(func() {
			c.SetReadDeadline(time.Now().Add(5 * time.Second))
			_, err := c.Read(make([]byte, 1))
			var ne net.Error
			if !(errors.As(err, &ne) && ne.Timeout()) {
				mu.Lock()
				refused++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if refused == 0 || refused == excess {
		t.Errorf("%d of %d excess connections were refused; want some refused and some held (headroom %d)", refused, excess, fdHeadroom)
	}
	for i, s := range socks {
		if err := roundTrip(s); err != nil {
			t.Errorf("client %d kept through the exhaustion: %v", i, err)
		}
	}
	select {
	case err := <-exited:
		t.Fatalf("the target exited at its fd limit: %v\n%s", err, childLog())
	default:
	}
	if log := childLog(); !strings.Contains(log, "refusing new connections") {
		t.Errorf("the target did not say it refuses connections; its log:\n%s", log)
	}

	for _, c := range raws {
		c.Close()
	}
	// Once the excess is gone the target accepts again (it closes its
	// side when it reads their EOF: retry within a generous bound).
	deadline := time.Now().Add(30 * time.Second)
	var err error
	for time.Now().Before(deadline) {
		if err = tryRoundTrip(url); err == nil {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("no new connection accepted 30 s after the excess closed: %v\n%s", err, childLog())
	}
	if log := childLog(); !strings.Contains(log, "accepting connections again") {
		t.Errorf("the target did not say it accepts again; its log:\n%s", log)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	b  *strings.Builder
}

func (w *lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func roundTripClient(t *testing.T, url string) (*client.Conn, *client.Socket) {
	t.Helper()
	c, err := client.New(url, &client.Options{Mode: client.WebSocketOnly, Reconnect: client.Reconnect{Disabled: true}})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s := c.Socket("/")
	prototest.OpenConnect(t, ctx, c, s, nil)
	if err := roundTrip(s); err != nil {
		t.Fatal(err)
	}
	return c, s
}

// roundTrip sends echo-ack and waits for the ack.
func roundTrip(s *client.Socket) error {
	done := make(chan error, 1)
	err := s.Send(client.Outgoing{Event: "echo-ack", Args: []byte(`[1]`), Timeout: 30 * time.Second,
		Ack: func(_ *client.Message, err error) { done <- err }})
	if err != nil {
		return err
	}
	return <-done
}

func tryRoundTrip(url string) error {
	c, err := client.New(url, &client.Options{Mode: client.WebSocketOnly, Reconnect: client.Reconnect{Disabled: true}})
	if err != nil {
		return err
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s := c.Socket("/")
	if err := c.Open(ctx); err != nil {
		return err
	}
	if err := s.Connect(ctx, nil); err != nil {
		return err
	}
	return roundTrip(s)
}

// TestHelperFDLimitTarget is not a test: run by
// TestServeKeepsConnectionsPastFDLimit in a child process, it lowers its
// descriptor limit, serves the target and prints its address.
func TestHelperFDLimitTarget(t *testing.T) {
	if os.Getenv("SIOKIT_HELPER_FDLIMIT") != "1" {
		t.Skip("helper process for TestServeKeepsConnectionsPastFDLimit")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Fatal(err)
	}
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = uint64(len(fds) + fdHeadroom)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	tg := target.New(target.Options{})
	errc := make(chan error, 1)
	go func() { errc <- tg.Serve(ln) }()
	fmt.Printf("ADDR %s\n", ln.Addr())
	go func() { io.Copy(io.Discard, os.Stdin); errc <- errors.New("stdin closed") }()
	err = <-errc
	tg.Close()
	if err.Error() != "stdin closed" {
		t.Fatalf("Serve returned: %v", err)
	}
}
