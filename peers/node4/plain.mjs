// The plain official-contract server: exactly the servers the official protocol test
// suites run against (engine.io-protocol and socket.io-protocol, test-suite/README.md),
// on one HTTP server, with none of sioconform's optional extensions (no /admin, no
// request-ack, no disconnect-me, no /csr/, no cookie). sioconform must give every case
// that needs an extension n/a here, never fail (issue 9, item 1).
//
// Launch contract: the same as server.mjs and contract.mjs (../README.md).
//   node plain.mjs [port]   port from argv[2] or env PORT; 0 or absent = let the OS pick
//   binds 127.0.0.1, prints "LISTENING <port>"; exits on stdin EOF (unless IGNORE_STDIN=1)
//   and on SIGTERM/SIGINT.
// ALLOW_EIO3=1 sets allowEIO3 (the Engine.IO v3 suite's server option).
import { createServer } from "node:http";
import { Server as EngineServer } from "engine.io";
import { Server } from "socket.io";
import { servePeer } from "./lifecycle.mjs";

const portArg = process.argv[2] ?? process.env.PORT ?? "0";
const port = Number(portArg);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`node4 plain: invalid port ${JSON.stringify(portArg)}\n`);
  process.exit(2);
}
const allowEIO3 = process.env.ALLOW_EIO3 === "1";

const httpServer = createServer((req, res) => {
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found");
});

// engine.io-protocol test-suite: "a server listening ... with pingInterval 300,
// pingTimeout 200, maxPayload 1e6, cors origin *", echoing every message.
const engine = new EngineServer({
  pingInterval: 300,
  pingTimeout: 200,
  maxHttpBufferSize: 1e6,
  cors: { origin: "*" },
  allowEIO3,
});
engine.attach(httpServer, { path: "/engine.io", destroyUpgrade: false });
engine.on("connection", (socket) => {
  socket.on("data", (...args) => socket.send(...args));
});

// socket.io-protocol test-suite server, verbatim apart from sharing the HTTP server
// (the suite's own code passes maxPayload, which socket.io ignores; maxHttpBufferSize
// defaults to 1e6).
const io = new Server(httpServer, {
  pingInterval: 300,
  pingTimeout: 200,
  maxPayload: 1000000,
  connectTimeout: 1000,
  cors: { origin: "*" },
  allowEIO3,
  destroyUpgrade: false,
});

io.on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
  socket.on("message", (...args) => {
    socket.emit("message-back", ...args);
  });
  socket.on("message-with-ack", (...args) => {
    const ack = args.pop();
    ack(...args);
  });
});

io.of("/custom").on("connection", (socket) => {
  socket.emit("auth", socket.handshake.auth);
});

// With destroyUpgrade:false nobody ends upgrade requests for unknown paths; do it here.
httpServer.on("upgrade", (req, socket) => {
  if (req.url.startsWith("/engine.io/") || req.url.startsWith("/socket.io/")) return;
  socket.on("error", () => {});
  socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
});

servePeer(httpServer, port, "node4 plain", () => {
  engine.close();
  io.close();
});
