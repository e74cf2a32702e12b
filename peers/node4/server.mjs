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
import { adminGuard, basicHandlers, countWire, csrHandlers, mainHandlers as contractHandlers } from "./handlers.mjs";
import { servePeer } from "./lifecycle.mjs";

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

const wire = countWire([io, csr]);
const mainHandlers = (socket) => contractHandlers(socket, wire);

io.on("connection", mainHandlers);
io.of("/custom").on("connection", basicHandlers);

const admin = io.of("/admin");
admin.use(adminGuard);
admin.on("connection", basicHandlers);

csr.on("connection", (socket) => {
  mainHandlers(socket);
  csrHandlers(socket);
});

servePeer(httpServer, port, "node4 peer", () => {
  io.close();
  csr.close();
});
