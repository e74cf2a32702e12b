// siokit test peer: Node socket.io 4.x (Engine.IO v4 / Socket.IO v5, EIO3 with ALLOW_EIO3=1).
//
// Launch contract (see ../README.md):
//   node server.mjs [port]        port from argv[2] or env PORT; 0 or absent = let the OS pick
//   binds 127.0.0.1 and prints exactly one stdout line "LISTENING <port>" once listening;
//   exits when stdin closes (unless IGNORE_STDIN=1) and on SIGTERM/SIGINT.
//
// Two socket.io servers share one HTTP server:
//   path /socket.io/  main server: namespaces "/", "/custom", "/admin"
//   path /csr/        connection-state-recovery server: namespace "/" only
//
// Environment (absent = socket.io / engine.io default; numbers in ms or bytes):
//   PING_INTERVAL, PING_TIMEOUT, CONNECT_TIMEOUT, MAX_HTTP_BUFFER_SIZE,
//   ALLOW_EIO3=1, COOKIE=1 (engine.io "io" cookie, for sticky sessions),
//   TRANSPORTS (comma list, e.g. "websocket"),
//   CSR_MAX_DISCONNECTION_DURATION (default 120000).
import { createServer } from "node:http";
import { Server } from "socket.io";

function fail(msg) {
  process.stderr.write(`node4 peer: ${msg}\n`);
  process.exit(2);
}

function envInt(name) {
  const v = process.env[name];
  if (v === undefined || v === "") return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) fail(`invalid ${name}=${JSON.stringify(v)}`);
  return n;
}

const portArg = process.argv[2] ?? process.env.PORT ?? "0";
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) fail(`invalid port ${JSON.stringify(portArg)}`);

const common = {
  cors: { origin: "*" },
  // Two engine.io servers share the HTTP server: neither may destroy upgrade
  // requests meant for the other path (unknown paths are refused below).
  destroyUpgrade: false,
};
const setIf = (key, value) => {
  if (value !== undefined) common[key] = value;
};
setIf("pingInterval", envInt("PING_INTERVAL"));
setIf("pingTimeout", envInt("PING_TIMEOUT"));
setIf("connectTimeout", envInt("CONNECT_TIMEOUT"));
setIf("maxHttpBufferSize", envInt("MAX_HTTP_BUFFER_SIZE"));
if (process.env.ALLOW_EIO3 === "1") common.allowEIO3 = true;
if (process.env.COOKIE === "1") common.cookie = true;
if (process.env.TRANSPORTS) common.transports = process.env.TRANSPORTS.split(",").map((s) => s.trim());

const csrMaxDisconnection = envInt("CSR_MAX_DISCONNECTION_DURATION") ?? 120000;

const PATHS = ["/socket.io/", "/csr/"];

const httpServer = createServer((req, res) => {
  // Reached only for paths neither engine.io server owns.
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
});

const io = new Server(httpServer, { ...common });
const csr = new Server(httpServer, {
  ...common,
  path: "/csr",
  connectionStateRecovery: { maxDisconnectionDuration: csrMaxDisconnection, skipMiddlewares: true },
});

// With destroyUpgrade:false nobody closes upgrade requests for unknown paths; do it here.
const wsEnabled = !common.transports || common.transports.includes("websocket");
// (404 for an unknown path, 400 for a known path when TRANSPORTS excludes websocket.)
httpServer.on("upgrade", (req, socket) => {
  const known = PATHS.some((p) => req.url.startsWith(p));
  if (known && wsEnabled) return;
  socket.on("error", () => {});
  const status = known ? "400 Bad Request" : "404 Not Found";
  socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
});

// splitAck removes a trailing ack callback from an event's arguments.
function splitAck(args) {
  if (args.length > 0 && typeof args[args.length - 1] === "function") {
    return [args.slice(0, -1), args[args.length - 1]];
  }
  return [args, null];
}

// safeEmit emits and turns a thrown error (e.g. reserved event name) into an error object.
function safeEmit(target, event, args) {
  try {
    target.emit(event, ...args);
    return null;
  } catch (err) {
    return { error: err.message };
  }
}

// Handlers shared by every namespace.
function basicHandlers(socket) {
  socket.emit("auth", socket.handshake.auth);
  socket.on("message", (...raw) => {
    const [args] = splitAck(raw);
    socket.emit("message-back", ...args);
  });
}

// Wire counters for the "stats" event (load tests compare them with what sioload counted):
// Socket.IO packets each engine.io server wrote and read, by kind, counted on the engine.io
// socket so that room broadcasts count once per receiver. Binary attachments (non-string
// packets) are not counted; "stats" requests and their acks are left out.
const wire = { connections: 0, eventsIn: 0, acksIn: 0, eventsOut: 0, acksOut: 0, statsCalls: 0 };
const isStatsEvent = (d) => /^2\d*\["stats"/.test(d);
for (const srv of [io, csr]) {
  srv.engine.on("connection", (conn) => {
    wire.connections++;
    conn.on("packet", (p) => {
      if (p.type !== "message" || typeof p.data !== "string") return;
      const k = p.data[0];
      if (k === "2" || k === "5") {
        if (!isStatsEvent(p.data)) wire.eventsIn++;
      } else if (k === "3" || k === "6") wire.acksIn++;
    });
    conn.on("packetCreate", (p) => {
      if (p.type !== "message" || typeof p.data !== "string") return;
      const k = p.data[0];
      if (k === "2" || k === "5") wire.eventsOut++;
      else if (k === "3" || k === "6") wire.acksOut++;
    });
  });
}

// Full handler set of "/" (main and CSR server).
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
    if (ack) ack(err ?? "ok");
  });

  socket.on("server-ack", (...raw) => {
    const [[event, ...rest], ack] = splitAck(raw);
    if (typeof event !== "string") {
      if (ack) ack({ error: "event name must be a string" });
      return;
    }
    try {
      // Like emitWithAck, but keeps every argument of the client's answer.
      socket.timeout(5000).emit(event, ...rest, (err, ...response) => {
        if (!ack) return;
        if (err) ack({ error: err.message });
        else ack(...response);
      });
    } catch (err) {
      if (ack) ack({ error: err.message });
    }
  });

  socket.on("disconnect-me", (...raw) => {
    const [[close]] = splitAck(raw);
    socket.disconnect(close === true);
  });

  socket.on("join", (...raw) => {
    const [[room], ack] = splitAck(raw);
    socket.join(String(room));
    if (ack) ack("ok");
  });

  socket.on("leave", (...raw) => {
    const [[room], ack] = splitAck(raw);
    socket.leave(String(room));
    if (ack) ack("ok");
  });

  // stats: acks the wire counters above (global to the process, both paths), without this
  // request and without the acks of earlier stats requests.
  socket.on("stats", (...raw) => {
    const [, ack] = splitAck(raw);
    if (!ack) return;
    ack({ ...wire, acksOut: wire.acksOut - wire.statsCalls++ });
  });

  socket.on("broadcast", (...raw) => {
    const [[room, event, ...rest], ack] = splitAck(raw);
    const err =
      typeof event === "string" ? safeEmit(socket.nsp.to(String(room)), event, rest) : { error: "event name must be a string" };
    if (ack) ack(err ?? "ok");
  });
}

io.on("connection", mainHandlers);
io.of("/custom").on("connection", basicHandlers);

const admin = io.of("/admin");
admin.use((socket, next) => {
  if (socket.handshake.auth && socket.handshake.auth.token === "secret") return next();
  const err = new Error("not authorized");
  err.data = { code: 401 };
  next(err);
});
admin.on("connection", basicHandlers);

csr.on("connection", (socket) => {
  mainHandlers(socket);

  // tick(n[, intervalMs]) emits n "tick" events whose argument is a per-session counter
  // (kept in socket.data, so it survives recovery); with intervalMs > 0 one event per interval.
  // The optional ack is called with the last counter value once all n are emitted.
  socket.on("tick", (...raw) => {
    const [[n, intervalMs], ack] = splitAck(raw);
    const count = Math.max(0, Math.min(Number(n) || 0, 1000000));
    if (socket.data.ticks === undefined) socket.data.ticks = 0;
    const data = socket.data;
    const one = () => {
      data.ticks += 1;
      socket.emit("tick", data.ticks);
    };
    const interval = Number(intervalMs) || 0;
    if (interval <= 0) {
      for (let i = 0; i < count; i++) one();
      if (ack) ack(data.ticks);
      return;
    }
    let sent = 0;
    if (count === 0) {
      if (ack) ack(data.ticks);
      return;
    }
    const timer = setInterval(() => {
      one();
      if (++sent >= count) {
        clearInterval(timer);
        if (ack) ack(data.ticks);
      }
    }, interval);
  });

  // drop-me closes the underlying Engine.IO connection ("forced close": recoverable).
  // An optional ack is flushed before the transport closes.
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
  } catch {
    // exiting anyway
  }
  // Give the close packets / frames a moment to be written, then go.
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
  process.stderr.write(`node4 peer: listen 127.0.0.1:${port}: ${err.code || ""} ${err.message}\n`);
  process.exit(3);
});
httpServer.listen(port, "127.0.0.1", () => {
  process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
});
