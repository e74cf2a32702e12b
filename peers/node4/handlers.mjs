// The handler contract of the Node test peers (peers/README.md "Handler contract"), shared by
// node4/server.mjs and cluster/node.mjs so that a cluster node answers exactly like node4.
// No imports: the importing peer brings its own socket.io.

// splitAck removes a trailing ack callback from an event's arguments.
export function splitAck(args) {
  if (args.length > 0 && typeof args[args.length - 1] === "function") {
    return [args.slice(0, -1), args[args.length - 1]];
  }
  return [args, null];
}

// safeEmit emits and turns a thrown error (e.g. reserved event name) into an error object.
export function safeEmit(target, event, args) {
  try {
    target.emit(event, ...args);
    return null;
  } catch (err) {
    return { error: err.message };
  }
}

// Handlers shared by every namespace.
export function basicHandlers(socket) {
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
// onChange, if given, is called after every count that changes (the cluster peer persists the
// counters with it, so that a node killed by a failover test leaves them behind).
export function countWire(servers, onChange = () => {}) {
  const wire = { connections: 0, eventsIn: 0, acksIn: 0, eventsOut: 0, acksOut: 0, statsCalls: 0 };
  const isStatsEvent = (d) => /^2\d*\["stats"/.test(d);
  for (const srv of servers) {
    srv.engine.on("connection", (conn) => {
      wire.connections++;
      onChange(wire);
      conn.on("packet", (p) => {
        if (p.type !== "message" || typeof p.data !== "string") return;
        const k = p.data[0];
        if (k === "2" || k === "5") {
          if (!isStatsEvent(p.data)) wire.eventsIn++;
        } else if (k === "3" || k === "6") wire.acksIn++;
        else return;
        onChange(wire);
      });
      conn.on("packetCreate", (p) => {
        if (p.type !== "message" || typeof p.data !== "string") return;
        const k = p.data[0];
        if (k === "2" || k === "5") wire.eventsOut++;
        else if (k === "3" || k === "6") wire.acksOut++;
        else return;
        onChange(wire);
      });
    });
  }
  return wire;
}

// Full handler set of "/" (main and CSR server); wire is countWire's counters, for "stats".
export function mainHandlers(socket, wire) {
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

// adminGuard is the /admin namespace middleware: auth.token must be "secret".
export function adminGuard(socket, next) {
  if (socket.handshake.auth && socket.handshake.auth.token === "secret") return next();
  const err = new Error("not authorized");
  err.data = { code: 401 };
  next(err);
}

// csrHandlers are the extra "/" handlers of the connection-state-recovery server (/csr/).
export function csrHandlers(socket) {
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
}
