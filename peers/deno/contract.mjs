// siokit sioconform contract server (docs/conformance.md §1) on socket.io 4.8.4 / engine.io 6.6.12.
// The same file runs under Deno (peers/deno) and Bun (peers/bun); both copies must stay identical.
//
// Launch contract (see ../README.md):
//   deno run -A contract.mjs [port] / bun contract.mjs [port]
//   port from argv or env PORT; 0 or absent = let the OS pick; binds 127.0.0.1 and prints exactly one
//   stdout line "LISTENING <port>" once listening; exits when stdin closes (unless IGNORE_STDIN=1) and
//   on SIGTERM/SIGINT.
//
// One HTTP server, three paths:
//   /engine.io/  Engine.IO server echoing every message (text as text, binary as binary)
//   /socket.io/  Socket.IO server: "/" (auth, message, message-with-ack, request-ack, disconnect-me),
//                "/custom" (auth, message), "/admin" (token "secret" required)
//   /csr/        Socket.IO server with connection state recovery: "/" handlers plus tick, drop-me
// Settings: pingInterval 300, pingTimeout 200, maxHttpBufferSize 1e6, connectTimeout 1000, cors "*"
// (env PING_INTERVAL, PING_TIMEOUT, MAX_HTTP_BUFFER_SIZE, CONNECT_TIMEOUT override them).
import { createServer } from "node:http";
import process from "node:process";
import { attach } from "engine.io";
import { Server } from "socket.io";

const NAME = typeof globalThis.Deno !== "undefined" ? "deno" : typeof globalThis.Bun !== "undefined" ? "bun" : "node";

function fail(msg) {
  process.stderr.write(`${NAME} contract peer: ${msg}\n`);
  process.exit(2);
}

function envInt(name, def) {
  const v = process.env[name];
  if (v === undefined || v === "") return def;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) fail(`invalid ${name}=${JSON.stringify(v)}`);
  return n;
}

// argv: node/bun put the script at argv[1]; Deno's process.argv mimics that too.
const portArg = process.argv[2] ?? process.env.PORT ?? "0";
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid port ${JSON.stringify(portArg)}`);

const engineOpts = {
  pingInterval: envInt("PING_INTERVAL", 300),
  pingTimeout: envInt("PING_TIMEOUT", 200),
  maxHttpBufferSize: envInt("MAX_HTTP_BUFFER_SIZE", 1e6),
  cors: { origin: "*" },
  // Three engine.io servers share the HTTP server: none may destroy upgrades meant for another.
  destroyUpgrade: false,
};
const ioOpts = { ...engineOpts, connectTimeout: envInt("CONNECT_TIMEOUT", 1000) };

const PATHS = ["/engine.io/", "/socket.io/", "/csr/"];

const httpServer = createServer((req, res) => {
  // Reached only for paths no engine.io server owns.
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
});

// Engine.IO echo server.
const eio = attach(httpServer, { ...engineOpts, path: "/engine.io/" });
eio.on("connection", (socket) => {
  socket.on("message", (data) => socket.send(data));
});

const io = new Server(httpServer, { ...ioOpts, path: "/socket.io/" });
const csr = new Server(httpServer, {
  ...ioOpts,
  path: "/csr/",
  connectionStateRecovery: { maxDisconnectionDuration: 120000, skipMiddlewares: true },
});

httpServer.on("upgrade", (req, socket) => {
  if (PATHS.some((p) => req.url.startsWith(p))) return;
  socket.on("error", () => {});
  socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
});

// splitAck removes a trailing ack callback from an event's arguments.
function splitAck(args) {
  if (args.length > 0 && typeof args[args.length - 1] === "function") {
    return [args.slice(0, -1), args[args.length - 1]];
  }
  return [args, null];
}

// Handlers of every namespace: auth on connect, message → message-back.
function basicHandlers(socket) {
  socket.emit("auth", socket.handshake.auth ?? {});
  socket.on("message", (...raw) => {
    const [args] = splitAck(raw);
    socket.emit("message-back", ...args);
  });
}

// Handlers of "/" (main and CSR server).
function mainHandlers(socket) {
  basicHandlers(socket);
  socket.on("message-with-ack", (...raw) => {
    const [args, ack] = splitAck(raw);
    if (ack) ack(...args);
  });
  // server-ack extension: ask the client for an ack, report its answer as ack-response.
  socket.on("request-ack", (...raw) => {
    const [args] = splitAck(raw);
    socket.emit("ack-request", ...args, (...answer) => {
      socket.emit("ack-response", ...answer);
    });
  });
  // disconnect-me extension.
  socket.on("disconnect-me", () => socket.disconnect());
}

io.on("connection", mainHandlers);
io.of("/custom").on("connection", basicHandlers);

// admin extension.
const admin = io.of("/admin");
admin.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === "secret") return next();
  const err = new Error("not authorized");
  err.data = { code: 401 };
  next(err);
});
admin.on("connection", basicHandlers);

// csr extension.
csr.on("connection", (socket) => {
  mainHandlers(socket);
  // tick(n) emits n "tick" events with a per-session counter (1..n on the first call; kept in
  // socket.data, so it continues after a recovery). An optional ack gets the last counter value.
  socket.on("tick", (...raw) => {
    const [[n], ack] = splitAck(raw);
    const count = Math.max(0, Math.min(Number(n) || 0, 1000000));
    if (socket.data.ticks === undefined) socket.data.ticks = 0;
    for (let i = 0; i < count; i++) {
      socket.data.ticks += 1;
      socket.emit("tick", socket.data.ticks);
    }
    if (ack) ack(socket.data.ticks);
  });
  // drop-me closes the underlying Engine.IO connection (recoverable); an optional ack goes first.
  socket.on("drop-me", (...raw) => {
    const [, ack] = splitAck(raw);
    if (ack) ack("ok");
    socket.conn.close();
  });
});

let stopping = false;
function shutdown(code) {
  if (stopping) return;
  stopping = true;
  try {
    io.close();
    csr.close();
    eio.close();
  } catch {
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
  process.stderr.write(`${NAME} contract peer: listen 127.0.0.1:${port}: ${err.code || ""} ${err.message}\n`);
  process.exit(3);
});
httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
});
