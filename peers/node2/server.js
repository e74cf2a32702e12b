// siokit test peer: Node socket.io 2.x (Engine.IO v3 / Socket.IO protocol v4).
//
// Launch contract (see ../README.md):
//   node server.js [port]         port from argv[2] or env PORT; 0 or absent = let the OS pick
//   binds 127.0.0.1 and prints exactly one stdout line "LISTENING <port>" once listening;
//   exits when stdin closes (unless IGNORE_STDIN=1) and on SIGTERM/SIGINT.
//
// One socket.io server on path /socket.io/: namespaces "/", "/custom", "/admin".
//
// Environment (absent = socket.io 2.5 / engine.io 3.6 default; numbers in ms or bytes):
//   PING_INTERVAL, PING_TIMEOUT, MAX_HTTP_BUFFER_SIZE, TRANSPORTS (comma list).
"use strict";

const http = require("http");
const Server = require("socket.io");

function fail(msg) {
  process.stderr.write("node2 peer: " + msg + "\n");
  process.exit(2);
}

function envInt(name) {
  const v = process.env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) fail("invalid " + name + "=" + JSON.stringify(v));
  return n;
}

const portArg = process.argv[2] !== undefined ? process.argv[2] : process.env.PORT !== undefined ? process.env.PORT : "0";
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail("invalid port " + JSON.stringify(portArg));

const opts = {};
const setIf = (key, value) => {
  if (value !== undefined) opts[key] = value;
};
setIf("pingInterval", envInt("PING_INTERVAL"));
setIf("pingTimeout", envInt("PING_TIMEOUT"));
setIf("maxHttpBufferSize", envInt("MAX_HTTP_BUFFER_SIZE"));
if (process.env.TRANSPORTS) opts.transports = process.env.TRANSPORTS.split(",").map((s) => s.trim());

const httpServer = http.createServer((req, res) => {
  // Reached only for paths engine.io does not own.
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
});

const io = new Server(httpServer, opts);

// Engine.IO query keys that socket.io 2.x merges into handshake.query.
const ENGINE_KEYS = new Set(["EIO", "transport", "t", "b64", "sid", "j"]);

// auth returns the namespace query without the Engine.IO keys: v2 has no handshake.auth,
// clients send auth data as a query string (0/admin?token=secret,) instead.
function auth(socket) {
  const out = {};
  const q = socket.handshake.query || {};
  for (const k of Object.keys(q)) {
    if (!ENGINE_KEYS.has(k)) out[k] = q[k];
  }
  return out;
}

function splitAck(args) {
  if (args.length > 0 && typeof args[args.length - 1] === "function") {
    return [args.slice(0, -1), args[args.length - 1]];
  }
  return [args, null];
}

function safeEmit(target, event, args) {
  try {
    target.emit(event, ...args);
    return null;
  } catch (err) {
    return { error: err.message };
  }
}

function basicHandlers(socket) {
  socket.emit("auth", auth(socket));
  socket.on("message", (...raw) => {
    const [args] = splitAck(raw);
    socket.emit("message-back", ...args);
  });
}

function mainHandlers(socket) {
  basicHandlers(socket);

  socket.on("message-with-ack", (...raw) => {
    const [args, ack] = splitAck(raw);
    if (ack) ack(...args);
  });

  socket.on("echo", (...raw) => {
    const [args, ack] = splitAck(raw);
    socket.emit("echo", ...args);
    if (ack) ack();
  });

  socket.on("echo-ack", (...raw) => {
    const [args, ack] = splitAck(raw);
    if (ack) ack(...args);
  });

  socket.on("server-emit", (...raw) => {
    const [[event, ...rest], ack] = splitAck(raw);
    const err = typeof event === "string" ? safeEmit(socket, event, rest) : { error: "event name must be a string" };
    if (ack) ack(err || "ok");
  });

  socket.on("server-ack", (...raw) => {
    const [[event, ...rest], ack] = splitAck(raw);
    if (typeof event !== "string") {
      if (ack) ack({ error: "event name must be a string" });
      return;
    }
    // v2 has no timeout()/emitWithAck(): manual 5 s timer, same error text as socket.io 4.
    let done = false;
    const timer = setTimeout(() => {
      if (done) return;
      done = true;
      if (ack) ack({ error: "operation has timed out" });
    }, 5000);
    const err = safeEmit(socket, event, [
      ...rest,
      (...response) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (ack) ack(...response);
      },
    ]);
    if (err && !done) {
      done = true;
      clearTimeout(timer);
      if (ack) ack(err);
    }
  });

  socket.on("disconnect-me", (...raw) => {
    const [[close]] = splitAck(raw);
    socket.disconnect(close === true);
  });

  socket.on("join", (...raw) => {
    const [[room], ack] = splitAck(raw);
    socket.join(String(room), () => {
      if (ack) ack("ok");
    });
  });

  socket.on("leave", (...raw) => {
    const [[room], ack] = splitAck(raw);
    socket.leave(String(room), () => {
      if (ack) ack("ok");
    });
  });

  socket.on("broadcast", (...raw) => {
    const [[room, event, ...rest], ack] = splitAck(raw);
    const err =
      typeof event === "string" ? safeEmit(socket.nsp.to(String(room)), event, rest) : { error: "event name must be a string" };
    if (ack) ack(err || "ok");
  });
}

io.on("connection", mainHandlers);
io.of("/custom").on("connection", basicHandlers);

const admin = io.of("/admin");
admin.use((socket, next) => {
  if (socket.handshake.query && socket.handshake.query.token === "secret") return next();
  next(new Error("not authorized"));
});
admin.on("connection", basicHandlers);

let stopping = false;
function shutdown(code) {
  if (stopping) return;
  stopping = true;
  try {
    io.close();
  } catch (e) {
    // exiting anyway
  }
  setTimeout(() => process.exit(code), 50);
}

process.on("SIGTERM", () => shutdown(0));
process.on("SIGINT", () => shutdown(0));
if (process.env.IGNORE_STDIN !== "1") {
  process.stdin.on("end", () => shutdown(0));
  process.stdin.on("close", () => shutdown(0));
  process.stdin.on("error", () => shutdown(0));
  process.stdin.resume();
}

httpServer.on("error", (err) => {
  process.stderr.write("node2 peer: listen 127.0.0.1:" + port + ": " + (err.code || "") + " " + err.message + "\n");
  process.exit(3);
});
httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write("LISTENING " + httpServer.address().port + "\n");
});
