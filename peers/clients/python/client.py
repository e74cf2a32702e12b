"""siokit client peer (docs/conformance.md §6, the client contract) for python-socketio.

Debian bookworm's python3-socketio 5.7.2 AsyncClient (aiohttp transports; the sync Client would
need python3-requests and python3-websocket, which the server peer does not). Run with
/usr/bin/python3: a pyenv python3 earlier on PATH does not see Debian's packages.

5.7.2 has no public API to connect a namespace after connect() or to leave one namespace; the
program uses the client's own packet path for both (marked PRIVATE below). Its _handle_event
acks every event that asks for one (with the handler's return value, else no arguments), so
events without an installed answer are still acked: a library behaviour, documented in
peers/README.md.
"""
import asyncio
import base64
import contextvars
import json
import os
import sys
import threading

import socketio
from socketio import packet

COMMANDS = ("sioconform:emit", "sioconform:answer", "sioconform:join", "sioconform:disconnect")

# Whether the event being handled asked for an ack: the '*' handler cannot see it, and engineio
# runs each message in a task of its own, so a context variable (per task) carries it.
wants_ack = contextvars.ContextVar("wants_ack", default=False)


def log(msg):
    print("python client: " + msg, file=sys.stderr, flush=True)


def fail(msg):
    log(msg)
    sys.exit(2)


def decode(v):
    """{"$bin": base64} in commands stands for binary: bytes, which the library sends as an attachment."""
    if isinstance(v, list):
        return [decode(x) for x in v]
    if isinstance(v, dict):
        if len(v) == 1 and isinstance(v.get("$bin"), str):
            return base64.b64decode(v["$bin"], validate=True)
        return {k: decode(x) for k, x in v.items()}
    return v


def encode(v):
    """The reverse for reports."""
    if isinstance(v, (bytes, bytearray)):
        return {"$bin": base64.b64encode(bytes(v)).decode()}
    if isinstance(v, (list, tuple)):
        return [encode(x) for x in v]
    if isinstance(v, dict):
        return {k: encode(x) for k, x in v.items()}
    return v


class Client(socketio.AsyncClient):
    async def _handle_event(self, namespace, id, data):
        wants_ack.set(id is not None)
        await super()._handle_event(namespace, id, data)


def reconnection_settings(env):
    """The reconnection settings a case may set (docs/conformance.md §6.1), in the library's units:
    the contract's milliseconds become seconds."""
    out = {}
    for name, key, scale in (("SIOCONFORM_RECONNECTION_DELAY", "reconnection_delay", 1000),
                             ("SIOCONFORM_RECONNECTION_DELAY_MAX", "reconnection_delay_max", 1000),
                             ("SIOCONFORM_RANDOMIZATION_FACTOR", "randomization_factor", 1)):
        if name in env:
            try:
                out[key] = float(env[name]) / scale
            except ValueError:
                fail(f"{name}={env[name]!r} is not a number")
    return out


class Peer:
    def __init__(self, auth, settings):
        self.auth = auth
        self.sio = Client(**settings)  # library defaults but what the case set: reconnection on, its backoff
        self.answers = {}  # (nsp, event) → args
        self.exiting = False

    def wire(self, nsp):
        async def on_any(event, *args):
            return await self.on_event(nsp, event, list(args), wants_ack.get())

        self.sio.on("*", on_any, namespace=nsp)
        self.sio.on("connect", lambda: log(f"{nsp}: connect"), namespace=nsp)
        self.sio.on("disconnect", lambda: log(f"{nsp}: disconnect"), namespace=nsp)
        self.sio.on("connect_error", lambda *a: log(f"{nsp}: connect_error {a}"), namespace=nsp)

    async def on_event(self, nsp, event, args, ack):
        if event in COMMANDS:
            c = args[0] if args and isinstance(args[0], dict) else {}
            try:
                await self.command(nsp, event, c)
            except Exception as e:  # a bad command is logged, never fatal
                log(f"{nsp}: command {event} failed: {e!r}")
            return None  # the library acks with no arguments if asked
        await self.sio.emit("sioconform:received", {"event": event, "args": encode(args), "ack": ack}, namespace=nsp)
        answer = self.answers.get((nsp, event))
        return tuple(answer) if answer is not None else None

    async def command(self, nsp, event, c):
        if event == "sioconform:emit":
            args = tuple(decode(c.get("args") or []))
            name = c.get("event")
            if c.get("ack"):
                def on_ack(*reply):
                    asyncio.ensure_future(self.sio.emit("sioconform:ack", {"event": name, "args": encode(reply)}, namespace=nsp))
                await self.sio.emit(name, args, namespace=nsp, callback=on_ack)
            else:
                await self.sio.emit(name, args, namespace=nsp)
        elif event == "sioconform:answer":
            self.answers[(nsp, c.get("event"))] = decode(c.get("args") or [])
        elif event == "sioconform:join":
            await self.join(c.get("nsp") or "/")
        elif event == "sioconform:disconnect":
            # The command's ack must leave before the namespace does: let _handle_event send it.
            asyncio.ensure_future(self.leave(nsp, c.get("exit")))

    async def join(self, nsp):
        if nsp in self.sio.namespaces:
            return
        self.wire(nsp)
        if nsp not in self.sio.connection_namespaces:
            self.sio.connection_namespaces.append(nsp)  # PRIVATE: reconnection connects it too
        await self.sio._send_packet(packet.Packet(packet.CONNECT, data=self.auth or {}, namespace=nsp))  # PRIVATE

    async def leave(self, nsp, exit_after):
        await asyncio.sleep(0)
        if exit_after:
            await self.exit()
            return
        if nsp in self.sio.connection_namespaces:
            self.sio.connection_namespaces.remove(nsp)  # PRIVATE
        if len(self.sio.namespaces) <= 1:
            await self.sio.disconnect()
            return
        await self.sio._send_packet(packet.Packet(packet.DISCONNECT, namespace=nsp))  # PRIVATE
        self.sio.namespaces.pop(nsp, None)

    async def exit(self):
        if self.exiting:
            return
        self.exiting = True
        self.sio.reconnection = False
        await self.sio.disconnect()
        # disconnect() queues the DISCONNECT and close packets and stops the transport; give the
        # write loop its turn so they leave before the process does.
        await asyncio.sleep(0.2)
        os._exit(0)


async def main():
    env = os.environ
    url = env.get("SIOCONFORM_URL")
    if not url:
        fail("SIOCONFORM_URL is not set")
    transport = env.get("SIOCONFORM_TRANSPORT") or "upgrade"
    transports = {"polling": ["polling"], "websocket": ["websocket"], "upgrade": None}
    if transport not in transports:
        fail(f"unknown SIOCONFORM_TRANSPORT={transport!r}")
    eio = env.get("SIOCONFORM_EIO") or "4"
    if eio != "4":
        fail(f"python-socketio 5.7.2 speaks only Engine.IO v4, not SIOCONFORM_EIO={eio}")
    auth = None
    if env.get("SIOCONFORM_AUTH"):
        try:
            auth = json.loads(env["SIOCONFORM_AUTH"])
        except ValueError as e:
            fail(f"SIOCONFORM_AUTH is not JSON: {e}")
        if not isinstance(auth, dict):
            fail("SIOCONFORM_AUTH must be a JSON object")
    nsp = env.get("SIOCONFORM_NAMESPACE") or "/"

    peer = Peer(auth, reconnection_settings(env))
    loop = asyncio.get_running_loop()

    # A closed stdin means sioconform is gone: never outlive it.
    def watch_stdin():
        while sys.stdin.buffer.read1(4096):
            pass
        asyncio.run_coroutine_threadsafe(peer.exit(), loop)

    threading.Thread(target=watch_stdin, daemon=True).start()

    peer.wire(nsp)
    try:
        await peer.sio.connect(url, auth=auth, transports=transports[transport], namespaces=[nsp])
    except socketio.exceptions.ConnectionError as e:
        # 5.7.2 does not retry a failed first connect; the contract says stay alive, so
        # sioconform sees that nothing more comes.
        log(f"connect: {e}")
    await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(main())
