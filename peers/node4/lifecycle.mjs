// The lifecycle every Node test peer shares with internal/testpeer: listen
// on 127.0.0.1, print "LISTENING <port>" once bound (the launcher waits for
// that line), and exit when told to (SIGTERM, SIGINT) or when the launcher
// goes away (stdin closes, unless IGNORE_STDIN=1), so that no peer outlives
// its test. A bind failure exits 3, which the launcher reads as "port taken".

export function servePeer(httpServer, port, name, close) {
  let stopping = false;
  const shutdown = (code) => {
    if (stopping) return;
    stopping = true;
    try {
      close();
    } catch {
      // exiting anyway
    }
    // Give the close packets / frames a moment to be written, then go.
    setTimeout(() => process.exit(code), 50);
  };
  process.on("SIGTERM", () => shutdown(0));
  process.on("SIGINT", () => shutdown(0));
  if (process.env.IGNORE_STDIN !== "1") {
    process.stdin.on("end", () => shutdown(0));
    process.stdin.on("close", () => shutdown(0));
    process.stdin.on("error", () => shutdown(0));
    process.stdin.resume();
  }
  httpServer.on("error", (err) => {
    process.stderr.write(`${name}: listen 127.0.0.1:${port}: ${err.code || ""} ${err.message}\n`);
    process.exit(3);
  });
  httpServer.listen(port, "127.0.0.1", () => {
    process.stdout.write(`LISTENING ${httpServer.address().port}\n`);
  });
}
