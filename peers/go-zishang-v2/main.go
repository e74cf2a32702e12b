// Command go-zishang-v2 is siokit's sioconform contract server (docs/conformance.md §1) on
// github.com/zishang520/socket.io/v2 v2.5.0 (with github.com/zishang520/engine.io/v2 v2.5.0).
//
// Launch contract (see ../README.md): `bin/go-zishang-v2 [port]`; the port comes from the
// argument, else env PORT (0 or absent = the OS picks). It binds 127.0.0.1, prints exactly one
// stdout line "LISTENING <port>" once listening, and exits when stdin reaches EOF (unless
// IGNORE_STDIN=1) and on SIGTERM/SIGINT. A bind error exits 3 (stderr names EADDRINUSE), bad
// options exit 2.
//
// One HTTP server, two paths:
//
//	/engine.io/  Engine.IO echo server
//	/socket.io/  Socket.IO server: "/" (auth, message, message-with-ack, request-ack,
//	             disconnect-me), "/custom" (auth, message), "/admin" (token "secret")
//
// No /csr/ server: v2.5.0's connection-state-recovery adapter (SessionAwareAdapter) panics at
// construction under Go 1.26 ("runtime.AddCleanup: cleanup function closes over ptr" in
// engine.io/v2 utils.Timer.Unref), so the csr extension is not offered.
//
// Settings: pingInterval 300 ms, pingTimeout 200 ms, maxHttpBufferSize 1e6, connectTimeout 1000 ms,
// CORS "*" (env PING_INTERVAL, PING_TIMEOUT, MAX_HTTP_BUFFER_SIZE, CONNECT_TIMEOUT override them).
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	econfig "github.com/zishang520/engine.io/v2/config"
	eiotypes "github.com/zishang520/engine.io/v2/engine"
	"github.com/zishang520/engine.io/v2/types"
	"github.com/zishang520/socket.io/v2/socket"
)

const name = "go-zishang-v2 contract peer"

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

var (
	pingInterval   = time.Duration(envInt("PING_INTERVAL", 300)) * time.Millisecond
	pingTimeout    = time.Duration(envInt("PING_TIMEOUT", 200)) * time.Millisecond
	maxBuffer      = envInt("MAX_HTTP_BUFFER_SIZE", 1_000_000)
	connectTimeout = time.Duration(envInt("CONNECT_TIMEOUT", 1000)) * time.Millisecond
)

// serverOptions returns the Socket.IO options of the contract, mounted at path.
func serverOptions(path string) *socket.ServerOptions {
	opts := socket.DefaultServerOptions()
	opts.SetPath(path)
	opts.SetServeClient(false)
	opts.SetPingInterval(pingInterval)
	opts.SetPingTimeout(pingTimeout)
	opts.SetMaxHttpBufferSize(maxBuffer)
	opts.SetConnectTimeout(connectTimeout)
	opts.SetCors(&types.Cors{Origin: "*"})
	return opts
}

// auth returns the socket's handshake auth, {} when none.
func auth(c *socket.Socket) any {
	if a := c.Handshake().Auth; a != nil {
		return a
	}
	return map[string]any{}
}

// splitAck removes a trailing ack callback from an event's arguments.
func splitAck(args []any) ([]any, socket.Ack) {
	if n := len(args); n > 0 {
		if ack, ok := args[n-1].(socket.Ack); ok {
			return args[:n-1], ack
		}
	}
	return args, nil
}

// basicHandlers: auth on connect, message → message-back.
func basicHandlers(c *socket.Socket) {
	_ = c.Emit("auth", auth(c))
	_ = c.On("message", func(raw ...any) {
		args, _ := splitAck(raw)
		_ = c.Emit("message-back", args...)
	})
}

// mainHandlers are the handlers of "/" on /socket.io/ and /csr/.
func mainHandlers(c *socket.Socket) {
	basicHandlers(c)
	_ = c.On("message-with-ack", func(raw ...any) {
		args, ack := splitAck(raw)
		if ack != nil {
			ack(args, nil)
		}
	})
	// server-ack extension.
	_ = c.On("request-ack", func(raw ...any) {
		args, _ := splitAck(raw)
		_ = c.Emit("ack-request", append(args, socket.Ack(func(answer []any, err error) {
			if err == nil {
				_ = c.Emit("ack-response", answer...)
			}
		}))...)
	})
	// disconnect-me extension.
	_ = c.On("disconnect-me", func(...any) { c.Disconnect(false) })
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

	httpServer := types.NewWebServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "not found", http.StatusNotFound)
	}))

	// Engine.IO echo server: server options for the engine, attach options for the path
	// (DefaultAttachOptions adds the trailing slash: "/engine.io/").
	eopts := econfig.DefaultServerOptions()
	eopts.SetPingInterval(pingInterval)
	eopts.SetPingTimeout(pingTimeout)
	eopts.SetMaxHttpBufferSize(maxBuffer)
	eopts.SetCors(&types.Cors{Origin: "*"})
	aopts := econfig.DefaultAttachOptions()
	aopts.SetPath("/engine.io")
	eio := eiotypes.NewServer(eopts)
	eio.Attach(httpServer, aopts)
	_ = eio.On("connection", func(a ...any) {
		s := a[0].(eiotypes.Socket)
		_ = s.On("message", func(args ...any) {
			if len(args) > 0 {
				if r, ok := args[0].(io.Reader); ok {
					s.Send(r, nil, nil)
				}
			}
		})
	})

	io4 := socket.NewServer(httpServer, serverOptions("/socket.io"))
	_ = io4.On("connection", func(a ...any) { mainHandlers(a[0].(*socket.Socket)) })
	_ = io4.Of("/custom", nil).On("connection", func(a ...any) { basicHandlers(a[0].(*socket.Socket)) })
	admin := io4.Of("/admin", nil)
	admin.Use(func(c *socket.Socket, next func(*socket.ExtendedError)) {
		if a, ok := c.Handshake().Auth.(map[string]any); ok && a["token"] == "secret" {
			next(nil)
			return
		}
		next(socket.NewExtendedError("not authorized", map[string]any{"code": 401}))
	})
	_ = admin.On("connection", func(a ...any) { basicHandlers(a[0].(*socket.Socket)) })

	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		code := ""
		if errors.Is(err, syscall.EADDRINUSE) {
			code = "EADDRINUSE "
		}
		fail(3, "listen 127.0.0.1:%d: %s%v", port, code, err)
	}
	srv := &http.Server{Handler: httpServer}
	go func() { _ = srv.Serve(ln) }()
	httpServer.Emit("listening") // engine.io servers initialise on this event
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
	time.Sleep(50 * time.Millisecond)
	os.Exit(0)
}
