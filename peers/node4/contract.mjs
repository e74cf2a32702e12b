// siokit sioconform contract server (docs/conformance.md §1): the official
// protocol test-suite servers plus the optional extensions, on one HTTP server.
//
// Launch contract (same as server.mjs, see ../README.md):
//   node contract.mjs [port]      port from argv[2] or env PORT; 0 or absent = let the OS pick
//   binds 127.0.0.1 and prints exactly one stdout line "LISTENING <port>" once listening;
//   exits when stdin closes (unless IGNORE_STDIN=1) and on SIGTERM/SIGINT.
//
// Paths:
//   /engine.io/   Engine.IO echo server (the Engine.IO v4/v3 suites' server)
//   /socket.io/   Socket.IO server of the v5 suite + extensions admin, server-ack, disconnect-me
//   /csr/         Socket.IO server with connection state recovery (extension csr)
//
// Fixed settings: pingInterval 300, pingTimeout 200, maxHttpBufferSize 1e6, cors "*",
// connectTimeout 1000 (Socket.IO). ALLOW_EIO3=1 sets allowEIO3 on every server.
// WITHOUT=admin,server-ack,disconnect-me,csr leaves those extensions out (sioconform's
// tests check that every case needing one says n/a without it); COOKIE=1 sets engine.io's
// sticky-session cookie (the cookie extension) on every server.
import { createServer } from "node:http";
import { Server as EngineServer } from "engine.io";
import { Server } from "socket.io";

function fail(msg) {
  process.stderr.write(`node4 contract: ${msg}\n`);
  process.exit(2);
}

const portArg = process.argv[2] ?? process.env.PORT ?? "0";
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid port ${JSON.stringify(portArg)}`);

const allowEIO3 = process.env.ALLOW_EIO3 === "1";
const EXTENSIONS = ["admin", "server-ack", "disconnect-me", "csr"];
const without = new Set((process.env.WITHOUT ?? "").split(",").filter((x) => x !== ""));
for (const x of without) if (!EXTENSIONS.includes(x)) fail(`WITHOUT: unknown extension ${JSON.stringify(x)}`);
const has = (ext) => !without.has(ext);

// Settings every server shares. Three engine.io servers live on one HTTP
// server, so none may destroy upgrade requests meant for another path.
const engineCommon = {
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1e6,
  cors: { origin: "*" },
  allowEIO3,
  ...(process.env.COOKIE === "1" ? { cookie: true } : {}),
};

const PATHS = ["/engine.io/", "/socket.io/", "/csr/"];

const httpServer = createServer((req, res) => {
  // Reached only for paths no engine.io server owns.
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
});

// --- /engine.io/: echo every message back unchanged (text as text, binary as binary).
const engine = new EngineServer(engineCommon);
engine.attach(httpServer, { path: "/engine.io", destroyUpgrade: false });
engine.on("connection", (socket) => {
  socket.on("message", (data) => socket.send(data));
});

// --- /socket.io/: the Socket.IO v5 suite's server plus extensions.
const io = new Server(httpServer, { ...engineCommon, connectTimeout: 1000, destroyUpgrade: false });

// splitAck removes a trailing ack callback from an event's arguments.
function splitAck(args) {
  if (args.length > 0 && typeof args[args.length - 1] === "function") {
    return [args.slice(0, -1), args[args.length - 1]];
  }
  return [args, null];
}

function sendAuth(socket) {
  socket.emit("auth", socket.handshake.auth);
}

// mainHandlers are the "/" handlers of the contract (official + extensions).
function mainHandlers(socket) {
  sendAuth(socket);
  socket.on("message", (...raw) => {
    const [args] = splitAck(raw);
    socket.emit("message-back", ...args);
  });
  socket.on("message-with-ack", (...raw) => {
    const [args, ack] = splitAck(raw);
    if (ack) ack(...args);
  });
  // Extension server-ack: the server asks the client for an ack, then reports the answer.
  if (has("server-ack")) {
    socket.on("request-ack", (...raw) => {
      const [args] = splitAck(raw);
      socket.emit("ack-request", ...args, (...answer) => {
        socket.emit("ack-response", ...answer);
      });
    });
  }
  // Extension disconnect-me: the server disconnects this socket (41).
  if (has("disconnect-me")) socket.on("disconnect-me", () => socket.disconnect());
}

io.on("connection", mainHandlers);
io.of("/custom").on("connection", sendAuth);

// Extension admin: a namespace middleware that wants auth.token == "secret".
if (has("admin")) {
  const admin = io.of("/admin");
  admin.use((socket, next) => {
    if (socket.handshake.auth && socket.handshake.auth.token === "secret") return next();
    const err = new Error("not authorized");
    err.data = { code: 401 };
    next(err);
  });
  admin.on("connection", (socket) => {
    sendAuth(socket);
    socket.on("message", (...raw) => {
      const [args] = splitAck(raw);
      socket.emit("message-back", ...args);
    });
  });
}

// --- /csr/: connection state recovery (extension csr).
const csr = has("csr") ? new Server(httpServer, {
  ...engineCommon,
  connectTimeout: 1000,
  destroyUpgrade: false,
  path: "/csr",
  connectionStateRecovery: { maxDisconnectionDuration: 120000, skipMiddlewares: true },
}) : null;
csr?.on("connection", (socket) => {
  mainHandlers(socket);
  // tick(n): n events "tick" with a per-session counter (kept in socket.data so it survives recovery).
  socket.on("tick", (...raw) => {
    const [[n]] = splitAck(raw);
    const count = Math.max(0, Math.min(Number(n) || 0, 100000));
    if (socket.data.ticks === undefined) socket.data.ticks = 0;
    for (let i = 0; i < count; i++) {
      socket.data.ticks += 1;
      socket.emit("tick", socket.data.ticks);
    }
  });
  // drop-me closes the Engine.IO connection ("forced close": recoverable).
  socket.on("drop-me", () => socket.conn.close());
});

// With destroyUpgrade:false nobody ends upgrade requests for unknown paths; do it here.
httpServer.on("upgrade", (req, socket) => {
  if (PATHS.some((p) => req.url.startsWith(p))) return;
  socket.on("error", () => {});
  socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
});

let stopping = false;
function shutdown(code) {
  if (stopping) return;
  stopping = true;
  try {
    engine.close();
    io.close();
    csr?.close();
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
  process.stderr.write(`node4 contract: listen 127.0.0.1:${port}: ${err.code || ""} ${err.message}\n`);
  process.exit(3);
});
httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
});
