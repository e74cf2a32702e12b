// siokit test peer: one node of a Socket.IO 4.8.4 cluster (Engine.IO v4 / Socket.IO v5), sharing
// rooms and broadcasts with its siblings through @socket.io/redis-adapter over redis-server.
// Three of these run behind nginx or HAProxy (internal/testpeer's StartCluster).
//
// Launch contract (same as node4, see ../README.md):
//   node node.mjs [port]          port from argv[2] or env PORT; 0 or absent = let the OS pick
//   binds 127.0.0.1 and prints exactly one stdout line "LISTENING <port>" once listening
//   (and, with REDIS_URL, once both Redis clients are connected);
//   exits when stdin closes (unless IGNORE_STDIN=1) and on SIGTERM/SIGINT.
//
// Path /socket.io/ with namespaces "/", "/custom", "/admin" and node4's handler contract
// (../node4/handlers.mjs). Each node says which node it is: the header "X-Siokit-Node: <name>"
// on every HTTP response (polling, handshake, WebSocket 101, 404) and, on "/", an event
// "node" with the name right after "auth".
//
// Environment:
//   NODE_NAME       the node's name (required), e.g. "n1"
//   REDIS_URL       e.g. redis://127.0.0.1:6379; absent = no adapter (each node broadcasts only
//                   to its own clients: the "no adapter" variant)
//   PING_INTERVAL, PING_TIMEOUT (ms; default 25000 / 20000), COOKIE=1 (engine.io "io" cookie)
//   COUNTS_FILE     a file that holds the node's wire counters (the "stats" answer) as JSON,
//                   rewritten synchronously on every change: a node killed with SIGKILL leaves
//                   its last counts behind for the failover tests to compare with sioload's
import { openSync, writeSync } from "node:fs";
import { createServer } from "node:http";
import { Server } from "socket.io";
import { createClient } from "redis";
import { createAdapter } from "@socket.io/redis-adapter";
import { adminGuard, basicHandlers, countWire, mainHandlers } from "../node4/handlers.mjs";
import { servePeer } from "../node4/lifecycle.mjs";

function fail(msg) {
  process.stderr.write(`cluster node: ${msg}\n`);
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
const nodeName = process.env.NODE_NAME;
if (!nodeName || !/^[\w.-]{1,32}$/.test(nodeName)) fail(`NODE_NAME must be 1-32 word characters, got ${JSON.stringify(nodeName)}`);

const NODE_HEADER = "X-Siokit-Node";

const opts = { cors: { origin: "*" } };
if (envInt("PING_INTERVAL") !== undefined) opts.pingInterval = envInt("PING_INTERVAL");
if (envInt("PING_TIMEOUT") !== undefined) opts.pingTimeout = envInt("PING_TIMEOUT");
if (process.env.COOKIE === "1") opts.cookie = true;

const httpServer = createServer((req, res) => {
  res.writeHead(404, { "Content-Type": "text/plain", [NODE_HEADER]: nodeName });
  res.end("not found");
});

let pub = null;
let sub = null;
if (process.env.REDIS_URL) {
  pub = createClient({ url: process.env.REDIS_URL });
  sub = pub.duplicate();
  // A Redis that goes away must not crash the node (failover tests stop it on purpose);
  // the clients reconnect by themselves.
  pub.on("error", (err) => process.stderr.write(`cluster node ${nodeName}: redis pub: ${err.message}\n`));
  sub.on("error", (err) => process.stderr.write(`cluster node ${nodeName}: redis sub: ${err.message}\n`));
  try {
    await Promise.all([pub.connect(), sub.connect()]);
  } catch (err) {
    fail(`connecting to ${process.env.REDIS_URL}: ${err.message}`);
  }
  opts.adapter = createAdapter(pub, sub);
}

const io = new Server(httpServer, opts);
// "headers" fires for every engine.io HTTP response and for the WebSocket 101.
io.engine.on("headers", (headers) => {
  headers[NODE_HEADER] = nodeName;
});

let persist;
if (process.env.COUNTS_FILE) {
  const fd = openSync(process.env.COUNTS_FILE, "w");
  // One pwrite at offset 0 per change, padded so that a shorter text leaves no tail behind.
  persist = (w) => writeSync(fd, JSON.stringify(w).padEnd(256), 0);
}
const wire = countWire([io], persist);
io.on("connection", (socket) => {
  mainHandlers(socket, wire);
  socket.emit("node", nodeName);
});
io.of("/custom").on("connection", basicHandlers);
const admin = io.of("/admin");
admin.use(adminGuard);
admin.on("connection", basicHandlers);

servePeer(httpServer, port, `cluster node ${nodeName}`, () => {
  // The Redis clients go with the process (disconnect() rejects pending commands loudly).
  io.close();
});
