"""siokit sioconform contract server (docs/conformance.md section 1) on python-socketio.

Runs with Debian's interpreter and packages (apt: python3-socketio 5.7.2, python3-engineio 4.3.4,
python3-aiohttp 3.8.4):

    /usr/bin/python3 contract.py [port]

Launch contract (see ../README.md): port from argv[1] or env PORT (0 or absent = the OS picks);
binds 127.0.0.1 and prints exactly one stdout line "LISTENING <port>" once listening; exits when
stdin reaches EOF (unless IGNORE_STDIN=1) and on SIGTERM/SIGINT; a bind error exits 3 (stderr
names EADDRINUSE), bad options exit 2.

One aiohttp application, two paths:
  /engine.io/  engineio.AsyncServer echoing every message (text as text, binary as binary)
  /socket.io/  socketio.AsyncServer: "/" (auth, message, message-with-ack, request-ack,
               disconnect-me), "/custom" (auth, message), "/admin" (token "secret" required)
Settings: ping_interval 0.3 s, ping_timeout 0.2 s, max_http_buffer_size 1e6, CORS "*"
(env PING_INTERVAL, PING_TIMEOUT in ms and MAX_HTTP_BUFFER_SIZE override them).
python-socketio 5.7.2 has no connectTimeout and no connection state recovery (no /csr/), and its
handshake carries no maxPayload.
"""

import asyncio
import errno
import os
import signal
import sys
import threading

import engineio
import socketio
from aiohttp import web

NAME = "python contract peer"


def fail(msg, code=2):
    sys.stderr.write("%s: %s\n" % (NAME, msg))
    sys.stderr.flush()
    sys.exit(code)


def env_num(name, default):
    v = os.environ.get(name, "")
    if v == "":
        return default
    try:
        n = float(v)
    except ValueError:
        n = -1
    if n < 0:
        fail("invalid %s=%r" % (name, v))
    return n


def parse_port():
    arg = sys.argv[1] if len(sys.argv) > 1 else os.environ.get("PORT", "0")
    try:
        port = int(arg)
    except ValueError:
        port = -1
    if not 0 <= port <= 65535:
        fail("invalid port %r" % arg)
    return port


COMMON = dict(
    async_mode="aiohttp",
    ping_interval=env_num("PING_INTERVAL", 300) / 1000.0,
    ping_timeout=env_num("PING_TIMEOUT", 200) / 1000.0,
    max_http_buffer_size=int(env_num("MAX_HTTP_BUFFER_SIZE", 1000000)),
    cors_allowed_origins="*",
)


class ContractServer(socketio.AsyncServer):
    """AsyncServer that emits "auth" right after a namespace CONNECT was accepted.

    With always_connect=False (needed so that a refused /admin gets CONNECT_ERROR, not CONNECT
    followed by DISCONNECT) python-socketio sends the CONNECT reply only after the connect handler
    returns, so an emit from the handler would precede it. Emitting here keeps the Node order:
    40{sid} first, then 42["auth",...].
    """

    async def _handle_connect(self, eio_sid, namespace, data):
        await super()._handle_connect(eio_sid, namespace, data)
        namespace = namespace or "/"
        sid = self.manager.sid_from_eio_sid(eio_sid, namespace)
        if sid is not None and self.manager.is_connected(sid, namespace):
            await self.emit("auth", data if data is not None else {}, to=sid, namespace=namespace)


sio = ContractServer(always_connect=False, **COMMON)
eio = engineio.AsyncServer(**COMMON)


@eio.on("message")
async def eio_message(sid, data):
    await eio.send(sid, data)


def register_basic(namespace):
    """message -> message-back on namespace (auth is emitted by ContractServer)."""

    @sio.on("connect", namespace=namespace)
    async def connect(sid, environ, auth=None):
        return True

    @sio.on("message", namespace=namespace)
    async def message(sid, *args):
        await sio.emit("message-back", tuple(args), to=sid, namespace=namespace)


register_basic("/")
register_basic("/custom")


@sio.on("message-with-ack")
async def message_with_ack(sid, *args):
    return tuple(args)


@sio.on("request-ack")
async def request_ack(sid, *args):
    """server-ack extension: ask the client for an ack, report its answer as ack-response."""

    async def answered(*answer):
        await sio.emit("ack-response", tuple(answer), to=sid)

    await sio.emit("ack-request", tuple(args), to=sid, callback=answered)


@sio.on("disconnect-me")
async def disconnect_me(sid, *args):
    """disconnect-me extension: the client gets 41."""
    await sio.disconnect(sid)


@sio.on("connect", namespace="/admin")
async def admin_connect(sid, environ, auth=None):
    """admin extension: 44/admin,{"message":"not authorized","data":{"code":401}} unless token is secret."""
    if not isinstance(auth, dict) or auth.get("token") != "secret":
        raise socketio.exceptions.ConnectionRefusedError("not authorized", {"code": 401})
    return True


@sio.on("message", namespace="/admin")
async def admin_message(sid, *args):
    await sio.emit("message-back", tuple(args), to=sid, namespace="/admin")


async def main():
    port = parse_port()
    app = web.Application()
    sio.attach(app, socketio_path="socket.io")
    eio.attach(app, engineio_path="engine.io")
    runner = web.AppRunner(app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", port)
    try:
        await site.start()
    except OSError as exc:
        code = "EADDRINUSE " if exc.errno == errno.EADDRINUSE else ""
        fail("listen 127.0.0.1:%d: %s%s" % (port, code, exc), 3)
    bound = site._server.sockets[0].getsockname()[1]
    sys.stdout.write("LISTENING %d\n" % bound)
    sys.stdout.flush()

    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if os.environ.get("IGNORE_STDIN") != "1":

        def watch_stdin():
            try:
                while sys.stdin.buffer.read(4096):
                    pass
            except (OSError, ValueError):
                pass
            loop.call_soon_threadsafe(stop.set)

        threading.Thread(target=watch_stdin, daemon=True).start()
    await stop.wait()
    # Close quickly; open sessions are dropped with the process.
    try:
        await asyncio.wait_for(runner.cleanup(), 0.5)
    except (asyncio.TimeoutError, Exception):  # noqa: B902 - exiting anyway
        pass


if __name__ == "__main__":
    try:
        asyncio.run(main())
    except KeyboardInterrupt:
        pass
    # Skip interpreter teardown (the stdin thread may still be blocked in read).
    os._exit(0)
