// siokit client peer (docs/conformance.md §6, the client contract) for socket.io-client.
// One file for every JavaScript client peer, so Node, Deno and Bun run exactly the same program:
//   node client.mjs 4          socket.io-client 4.8.4 on Node      (node4-client)
//   deno run -A client.mjs 4   the same on Deno                    (deno-client)
//   bun client.mjs 4           the same on Bun                     (bun-client)
//   node client.mjs 2          socket.io-client 2.5.0, EIO3/SIO4   (node2-client)
// The argument picks the npm alias (package.json) to load; the rest comes from the environment.
import { createRequire } from "node:module";
import process from "node:process";
import { Buffer } from "node:buffer";

const RUNTIME = typeof globalThis.Deno !== "undefined" ? "deno" : typeof globalThis.Bun !== "undefined" ? "bun" : "node";
const MAJOR = process.argv[2] ?? "4";

function log(msg) {
  process.stderr.write(`${RUNTIME} client ${MAJOR}: ${msg}\n`);
}

function fail(msg) {
  log(msg);
  process.exit(2);
}

if (MAJOR !== "4" && MAJOR !== "2") fail(`unknown library major ${JSON.stringify(MAJOR)} (want 4 or 2)`);

// createRequire from this file's folder: the aliases live in its node_modules on every runtime,
// and socket.io-client 2.x is CommonJS only.
const require = createRequire(import.meta.url);
const lib = require(MAJOR === "4" ? "socket.io-client-4" : "socket.io-client-2");

const env = process.env;
const url = env.SIOCONFORM_URL;
if (!url) fail("SIOCONFORM_URL is not set");
const transport = env.SIOCONFORM_TRANSPORT || "upgrade";
const eio = env.SIOCONFORM_EIO || "4";
const firstNsp = env.SIOCONFORM_NAMESPACE || "/";
let auth;
if (env.SIOCONFORM_AUTH) {
  try {
    auth = JSON.parse(env.SIOCONFORM_AUTH);
  } catch (e) {
    fail(`SIOCONFORM_AUTH is not JSON: ${e.message}`);
  }
  if (auth === null || typeof auth !== "object" || Array.isArray(auth)) fail("SIOCONFORM_AUTH must be a JSON object");
}
// Each library speaks one Engine.IO revision; asking for the other is "cannot", not a failure.
const wantEIO = MAJOR === "4" ? "4" : "3";
if (eio !== wantEIO) fail(`socket.io-client ${MAJOR}.x speaks only Engine.IO v${wantEIO}, not SIOCONFORM_EIO=${eio}`);

const transports = { polling: ["polling"], websocket: ["websocket"], upgrade: undefined }[transport];
if (!(transport in { polling: 1, websocket: 1, upgrade: 1 })) fail(`unknown SIOCONFORM_TRANSPORT=${JSON.stringify(transport)}`);

// Everything else stays at the library's defaults (reconnection, backoff, timeouts): cases test them,
// but for the reconnection settings a case may set (§6.1), the same option names in 4.x and 2.x.
const managerOpts = {};
if (transports) managerOpts.transports = transports;
const reconnection = {
  SIOCONFORM_RECONNECTION_DELAY: "reconnectionDelay",
  SIOCONFORM_RECONNECTION_DELAY_MAX: "reconnectionDelayMax",
  SIOCONFORM_RANDOMIZATION_FACTOR: "randomizationFactor",
};
for (const [name, opt] of Object.entries(reconnection)) {
  if (env[name] === undefined) continue;
  const v = Number(env[name]);
  if (!Number.isFinite(v) || v < 0) fail(`${name}=${JSON.stringify(env[name])} is not a number`);
  managerOpts[opt] = v;
}
const manager = new lib.Manager(url, managerOpts);

// {"$bin": base64} in commands stands for a binary argument; it must leave as real binary.
function decode(v) {
  if (Array.isArray(v)) return v.map(decode);
  if (v !== null && typeof v === "object") {
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === "$bin" && typeof v.$bin === "string") return Buffer.from(v.$bin, "base64");
    const out = {};
    for (const k of keys) out[k] = decode(v[k]);
    return out;
  }
  return v;
}

// The reverse for reports: whatever binary type the runtime hands us becomes {"$bin": base64}.
function encode(v) {
  if (v instanceof ArrayBuffer) return { $bin: Buffer.from(v).toString("base64") };
  if (ArrayBuffer.isView(v)) return { $bin: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString("base64") };
  if (Array.isArray(v)) return v.map(encode);
  if (v !== null && typeof v === "object") {
    const out = {};
    for (const k of Object.keys(v)) out[k] = encode(v[k]);
    return out;
  }
  return v;
}

const sockets = new Map(); // namespace → socket

function open(nsp) {
  let socket = sockets.get(nsp);
  if (socket) {
    if (!socket.connected) socket.connect();
    return socket;
  }
  const opts = {};
  if (auth) {
    // v4 sends auth in the CONNECT packet; v2 has no payload, so it travels as the namespace query.
    if (MAJOR === "4") opts.auth = auth;
    else opts.query = new URLSearchParams(auth).toString();
  }
  socket = manager.socket(nsp, opts);
  sockets.set(nsp, socket);
  const answers = new Map(); // event → args to ack it with (sioconform:answer)

  const commands = {
    "sioconform:emit"(c) {
      const args = decode(Array.isArray(c.args) ? c.args : []);
      if (c.ack) {
        socket.emit(c.event, ...args, (...reply) => socket.emit("sioconform:ack", { event: c.event, args: encode(reply) }));
      } else {
        socket.emit(c.event, ...args);
      }
    },
    "sioconform:answer"(c) {
      answers.set(c.event, decode(Array.isArray(c.args) ? c.args : []));
    },
    "sioconform:join"(c) {
      open(c.nsp);
    },
    "sioconform:disconnect"(c) {
      socket.disconnect();
      if (c.exit) exit();
    },
  };

  // Called for every incoming event with its arguments and the ack function (or null).
  function onEvent(event, args, ack) {
    const cmd = commands[event];
    if (cmd) {
      if (ack && event === "sioconform:disconnect") {
        ack(); // acked first: afterwards the namespace is gone
        ack = null;
      }
      const c = args[0] !== null && typeof args[0] === "object" ? args[0] : {};
      try {
        cmd(c);
      } catch (e) {
        log(`${nsp}: command ${event} failed: ${e.message}`);
      }
      if (ack) ack();
      return;
    }
    socket.emit("sioconform:received", { event, args: encode(args), ack: ack !== null });
    if (ack && answers.has(event)) ack(...answers.get(event));
  }

  if (MAJOR === "4") {
    socket.onAny((event, ...args) => {
      const ack = args.length > 0 && typeof args[args.length - 1] === "function" ? args.pop() : null;
      onEvent(event, args, ack);
    });
  } else {
    // 2.x has no onAny: take the decoded packet where the library dispatches it (Socket#onevent).
    socket.onevent = function (packet) {
      const args = (packet.data || []).slice();
      const event = args.shift();
      onEvent(event, args, packet.id != null ? this.ack(packet.id) : null);
    };
  }
  socket.on("connect", () => log(`${nsp}: connect ${socket.id}`));
  socket.on("connect_error", (e) => log(`${nsp}: connect_error ${e && e.message}`));
  socket.on("error", (e) => log(`${nsp}: error ${JSON.stringify(e)}`)); // 2.x reports CONNECT_ERROR here
  socket.on("disconnect", (reason) => log(`${nsp}: disconnect ${reason}`));
  return socket;
}

let exiting = false;

// Leaves every namespace and lets the library close the Engine.IO session (it does so once the last
// namespace is gone, sending the DISCONNECT packets first). Exiting at once could cut an HTTP
// request carrying them, so the program ends when nothing is left to do, or after 3 s at most.
function exit() {
  if (exiting) return;
  exiting = true;
  manager.reconnection(false);
  for (const s of sockets.values()) if (s.connected) s.disconnect();
  process.stdin.pause();
  process.stdin.destroy?.();
  process.exitCode = 0;
  setTimeout(() => process.exit(0), 3000).unref?.();
}

manager.on("reconnect_attempt", (n) => log(`reconnect attempt ${n}`));
manager.on("reconnect", (n) => log(`reconnected after ${n} attempts`));
open(firstNsp);

// A closed stdin means sioconform is gone: never outlive it.
process.stdin.on("end", exit);
process.stdin.on("error", exit);
process.stdin.resume();
