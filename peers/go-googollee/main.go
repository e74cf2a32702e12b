// Command go-googollee is siokit's sioconform contract server (docs/conformance.md §1) on
// github.com/googollee/go-socket.io v1.7.0. The library speaks Engine.IO v3 / Socket.IO protocol
// v4 only (and does not check the EIO query parameter: EIO=4 requests get v3 behaviour).
//
// Launch contract (see ../README.md): `bin/go-googollee [port]`; the port comes from the
// argument, else env PORT (0 or absent = the OS picks). It binds 127.0.0.1, prints exactly one
// stdout line "LISTENING <port>" once listening, and exits when stdin reaches EOF (unless
// IGNORE_STDIN=1) and on SIGTERM/SIGINT. A bind error exits 3 (stderr names EADDRINUSE), bad
// options exit 2.
//
// One HTTP server, two paths:
//
//	/engine.io/  Engine.IO (v3) echo server
//	/socket.io/  Socket.IO server: "/" (auth, message, message-with-ack, request-ack),
//	             "/custom" (auth, message)
//
// Settings: pingInterval 300 ms, pingTimeout 200 ms, every origin allowed (env PING_INTERVAL,
// PING_TIMEOUT override them). The library has no maxHttpBufferSize and no connectTimeout.
//
// Handlers are reflection-typed with a fixed arity: events carry at most maxArgs arguments
// (trailing nulls are dropped when echoing), message-with-ack always acks with exactly three
// arguments and request-ack reports at most three answer arguments. No admin, disconnect-me
// or csr extension: the library cannot refuse a namespace with an error packet, cannot
// disconnect a single namespace and has no connection state recovery.
package main

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	socketio "github.com/googollee/go-socket.io"
	"github.com/googollee/go-socket.io/engineio"
	"github.com/googollee/go-socket.io/engineio/transport"
	"github.com/googollee/go-socket.io/engineio/transport/polling"
	"github.com/googollee/go-socket.io/engineio/transport/websocket"
)

const name = "go-googollee contract peer"

func fail(code int, format string, args ...any) {
	fmt.Fprintf(os.Stderr, name+": "+format+"\n", args...)
	os.Exit(code)
}

// envInt returns the non-negative integer in env variable key, or def when it is unset.
func envInt(key string, def int64) int64 {
	v := os.Getenv(key)
	if v == "" {
		return def
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		fail(2, "invalid %s=%q", key, v)
	}
	return n
}

// trim drops trailing nil arguments (the fixed-arity handlers fill missing ones with nil).
func trim(args ...any) []any {
	for len(args) > 0 && args[len(args)-1] == nil {
		args = args[:len(args)-1]
	}
	return args
}

// options returns the Engine.IO options of the contract (CORS: every origin).
func options() *engineio.Options {
	allow := func(*http.Request) bool { return true }
	return &engineio.Options{
		PingInterval: time.Duration(envInt("PING_INTERVAL", 300)) * time.Millisecond,
		PingTimeout:  time.Duration(envInt("PING_TIMEOUT", 200)) * time.Millisecond,
		Transports: []transport.Transport{
			&polling.Transport{Client: &http.Client{Timeout: time.Minute}, CheckOrigin: allow},
			&websocket.Transport{CheckOrigin: allow},
		},
	}
}

// basicHandlers registers auth-on-connect and message → message-back on namespace nsp.
func basicHandlers(srv *socketio.Server, nsp string) {
	srv.OnConnect(nsp, func(s socketio.Conn) error {
		// The CONNECT payload is discarded by the library: auth is always {}.
		// Emit asynchronously: for "/" the handler runs before the connection's writer loop
		// starts (its write channel is unbuffered, a synchronous Emit would deadlock the
		// connection); for other namespaces the CONNECT reply is written only after the handler
		// returns, and the short delay lets it go first.
		go func() {
			time.Sleep(5 * time.Millisecond)
			s.Emit("auth", map[string]any{})
		}()
		return nil
	})
	srv.OnEvent(nsp, "message", func(s socketio.Conn, a, b, c, d, e, f any) {
		s.Emit("message-back", trim(a, b, c, d, e, f)...)
	})
	srv.OnError(nsp, func(socketio.Conn, error) {})
	srv.OnDisconnect(nsp, func(socketio.Conn, string) {})
}

func main() {
	portArg := os.Getenv("PORT")
	if len(os.Args) > 1 {
		portArg = os.Args[1]
	}
	if portArg == "" {
		portArg = "0"
	}
	port, err := strconv.Atoi(portArg)
	if err != nil || port < 0 || port > 65535 {
		fail(2, "invalid port %q", portArg)
	}
	log.SetOutput(os.Stderr)

	srv := socketio.NewServer(options())
	basicHandlers(srv, "/")
	basicHandlers(srv, "/custom")
	srv.OnEvent("/", "message-with-ack", func(s socketio.Conn, a, b, c any) (any, any, any) {
		return a, b, c
	})
	// server-ack extension.
	srv.OnEvent("/", "request-ack", func(s socketio.Conn, a, b, c any) {
		args := append(trim(a, b, c), func(x, y, z any) {
			s.Emit("ack-response", trim(x, y, z)...)
		})
		s.Emit("ack-request", args...)
	})
	go func() { _ = srv.Serve() }()

	eio := engineio.NewServer(options())
	go func() {
		for {
			conn, err := eio.Accept()
			if err != nil {
				return
			}
			go echo(conn)
		}
	}()

	mux := http.NewServeMux()
	mux.Handle("/socket.io/", srv)
	mux.Handle("/engine.io/", eio)

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		code := ""
		if errors.Is(err, syscall.EADDRINUSE) {
			code = "EADDRINUSE "
		}
		fail(3, "listen 127.0.0.1:%d: %s%v", port, code, err)
	}
	go func() { _ = http.Serve(ln, mux) }()
	fmt.Printf("LISTENING %d\n", ln.Addr().(*net.TCPAddr).Port)

	stop := make(chan struct{}, 1)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, syscall.SIGINT)
	go func() { <-sigs; stop <- struct{}{} }()
	if os.Getenv("IGNORE_STDIN") != "1" {
		go func() { _, _ = io.Copy(io.Discard, os.Stdin); stop <- struct{}{} }()
	}
	<-stop
	_ = ln.Close()
	os.Exit(0)
}

// echo sends every Engine.IO message of conn back with the same frame type.
func echo(conn engineio.Conn) {
	defer conn.Close()
	for {
		typ, r, err := conn.NextReader()
		if err != nil {
			return
		}
		data, err := io.ReadAll(r)
		_ = r.Close()
		if err != nil {
			return
		}
		w, err := conn.NextWriter(typ)
		if err != nil {
			return
		}
		_, _ = w.Write(data)
		if err := w.Close(); err != nil {
			return
		}
	}
}
