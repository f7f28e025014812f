"""The client of the idle-* scenarios: opens N connections to a server, makes one request on each
(HTTP/1.1 keep-alive GET, WebSocket handshake, or HTTP/2 GET by prior knowledge), keeps them all
open and idle, prints one JSON line once every answer is in, and closes them when its standard
input closes (or after --hold seconds). The runner reads the server's RSS in between.

    python -m bench.idle --port 8000 --kind http1 --connections 10000

At most --parallel connections are being opened at once, so the server's listen backlog never
overflows; each request is sent once its connection is up, and an answer counts when it is whole
(a head and its Content-Length body; the 101 head; an HTTP/2 frame ending stream 1)."""

from __future__ import annotations

import argparse
import base64
import errno
import json
import os
import selectors
import socket
import struct
import sys
import time
from typing import Callable, Dict, List

KINDS = ("http1", "ws", "h2")
H2_PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_SETTINGS, _HEADERS, _DATA = 0x4, 0x1, 0x0
_END_STREAM, _ACK = 0x1, 0x1


def h2_frame(kind: int, flags: int, stream: int, payload: bytes) -> bytes:
    return struct.pack("!I", len(payload))[1:] + bytes([kind, flags]) + struct.pack(
        "!I", stream) + payload


def h2_get(path: str, authority: str) -> bytes:
    """Preface, empty SETTINGS and GET `path` on stream 1. The header block uses the HPACK
    static table (RFC 7541 Appendix A): 2 = :method GET, 6 = :scheme http, and literal values
    without indexing for :path (name 4) and :authority (name 1)."""
    block = (b"\x82\x86\x04" + bytes([len(path)]) + path.encode()
             + b"\x01" + bytes([len(authority)]) + authority.encode())
    return (H2_PREFACE + h2_frame(_SETTINGS, 0, 0, b"")
            + h2_frame(_HEADERS, 0x4 | _END_STREAM, 1, block))


def request(kind: str, path: str) -> bytes:
    if kind == "http1":
        return f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n".encode()
    if kind == "ws":
        key = base64.b64encode(os.urandom(16)).decode()
        return (f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n").encode()
    return h2_get(path, "127.0.0.1")


def http1_done(buffer: bytes) -> bool:
    end = buffer.find(b"\r\n\r\n")
    if end < 0:
        return False
    length = 0
    for line in buffer[:end].split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    return len(buffer) >= end + 4 + length


def ws_done(buffer: bytes) -> bool:
    if b"\r\n\r\n" not in buffer:
        return False
    if not buffer.startswith(b"HTTP/1.1 101"):
        raise ValueError(f"no WebSocket upgrade: {buffer[:40]!r}")
    return True


def h2_frames(buffer: bytes) -> List[tuple]:
    """The complete frames at the start of buffer: (type, flags, stream)."""
    frames, pos = [], 0
    while len(buffer) - pos >= 9:
        length = int.from_bytes(buffer[pos:pos + 3], "big")
        if len(buffer) - pos < 9 + length:
            break
        kind, flags = buffer[pos + 3], buffer[pos + 4]
        stream = int.from_bytes(buffer[pos + 5:pos + 9], "big") & 0x7FFFFFFF
        frames.append((kind, flags, stream))
        pos += 9 + length
    return frames


def h2_done(buffer: bytes) -> bool:
    return any(stream == 1 and kind in (_HEADERS, _DATA) and flags & _END_STREAM
               for kind, flags, stream in h2_frames(buffer))


DONE: Dict[str, Callable[[bytes], bool]] = {"http1": http1_done, "ws": ws_done, "h2": h2_done}


class Connection:
    __slots__ = ("sock", "buffer", "sent", "acked")

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.buffer = b""
        self.sent = False
        self.acked = False  # HTTP/2: our SETTINGS ACK for the server's SETTINGS


def open_idle(port: int, kind: str, count: int, path: str, parallel: int,
              timeout: float) -> Dict:
    """Opens `count` connections and makes one request on each; returns the open sockets' count
    and what failed. The sockets stay open in the returned "sockets" list."""
    selector = selectors.DefaultSelector()
    payload = request(kind, path)
    done_check = DONE[kind]
    idle: List[socket.socket] = []
    failed: Dict[str, int] = {}
    started = busy = 0
    deadline = time.monotonic() + timeout

    def fail(conn: Connection, why: str) -> None:
        nonlocal busy
        failed[why] = failed.get(why, 0) + 1
        selector.unregister(conn.sock)
        conn.sock.close()
        busy -= 1

    while (started < count or busy) and time.monotonic() < deadline:
        while started < count and busy < parallel:
            sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            sock.setblocking(False)
            code = sock.connect_ex(("127.0.0.1", port))
            started += 1
            if code not in (0, errno.EINPROGRESS):
                failed[os.strerror(code)] = failed.get(os.strerror(code), 0) + 1
                sock.close()
                continue
            busy += 1
            selector.register(sock, selectors.EVENT_WRITE, Connection(sock))
        for key, _ in selector.select(timeout=1.0):
            conn: Connection = key.data
            if not conn.sent:
                code = conn.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                if code:
                    fail(conn, os.strerror(code))
                    continue
                conn.sock.send(payload)  # a few hundred bytes into an empty socket buffer
                conn.sent = True
                selector.modify(conn.sock, selectors.EVENT_READ, conn)
                continue
            try:
                data = conn.sock.recv(65536)
            except OSError as exc:
                fail(conn, exc.strerror or str(exc))
                continue
            if not data:
                fail(conn, "closed by the server")
                continue
            conn.buffer += data
            if kind == "h2" and not conn.acked and any(
                    t == _SETTINGS and not f & _ACK for t, f, _ in h2_frames(conn.buffer)):
                conn.sock.send(h2_frame(_SETTINGS, _ACK, 0, b""))
                conn.acked = True
            try:
                finished = done_check(conn.buffer)
            except ValueError as exc:
                fail(conn, str(exc))
                continue
            if finished:
                selector.unregister(conn.sock)
                idle.append(conn.sock)
                busy -= 1
    if busy:
        failed["timed out"] = busy
    selector.close()
    return {"open": len(idle), "failed": failed, "sockets": idle}


def main(argv: List[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--kind", choices=KINDS, default="http1")
    p.add_argument("--connections", type=int, default=10000)
    p.add_argument("--path", default="/plaintext")
    p.add_argument("--parallel", type=int, default=256)
    p.add_argument("--timeout", type=float, default=120.0)
    p.add_argument("--hold", type=float, default=300.0,
                   help="seconds to keep the connections open at most (default 300)")
    args = p.parse_args(argv)
    started = time.monotonic()
    result = open_idle(args.port, args.kind, args.connections, args.path, args.parallel,
                       args.timeout)
    sockets = result.pop("sockets")
    result["seconds"] = round(time.monotonic() - started, 3)
    print(json.dumps(result), flush=True)
    # Hold until the runner has measured: it closes our standard input.
    selector = selectors.DefaultSelector()
    selector.register(sys.stdin, selectors.EVENT_READ)
    selector.select(timeout=args.hold)
    for sock in sockets:
        sock.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
