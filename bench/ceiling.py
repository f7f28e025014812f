"""The ceiling: a bare uvloop ``asyncio.Protocol`` answering every request with a canned response.

No ASGI and almost no parsing: it finds where each request head ends (so pipelined requests are
answered one for one) and whether the client asked to close or to upgrade. It serves GET requests
without a body. After a WebSocket upgrade it answers each client frame with an unmasked frame of
the same length filled with "x" (what bench/native/wsload.c sends), without unmasking, and the
frames of one read in one write. No Python server on the same event loop can be faster; it also
shows the load generators' own limits.

    python -m bench.ceiling --port 8000
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import re
import signal
import struct
from typing import Dict

_BODY = b"Hello, World!"
_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n" % len(_BODY)
KEEP_ALIVE = _HEAD + b"\r\n" + _BODY
CLOSE = _HEAD + b"Connection: close\r\n\r\n" + _BODY
_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
_WS_KEY = re.compile(rb"(?im)^sec-websocket-key:[ \t]*(\S+)")


class CannedProtocol(asyncio.Protocol):
    __slots__ = ("transport", "buffer", "websocket", "replies")

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.websocket = False
        self.replies: Dict[int, bytes] = {}  # payload length -> canned frame

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        buffer = self.buffer + data if self.buffer else data
        if self.websocket:
            self.buffer = self.frames(buffer)
            return
        start = 0
        replies = 0
        while True:
            end = buffer.find(b"\r\n\r\n", start)
            if end < 0:
                break
            head = buffer[start:end]
            start = end + 4
            if b"ebsocket" in head:
                reply = KEEP_ALIVE * replies + upgrade(head)
                self.transport.write(reply)  # type: ignore[union-attr]
                self.websocket = True
                self.buffer = self.frames(buffer[start:])
                return
            if b"lose" in head and b"connection: close" in head.lower():
                self.transport.write(KEEP_ALIVE * replies + CLOSE)  # type: ignore[union-attr]
                self.transport.close()  # type: ignore[union-attr]
                return
            replies += 1
        self.buffer = buffer[start:]
        if replies:
            self.transport.write(KEEP_ALIVE * replies)  # type: ignore[union-attr]

    def frames(self, buffer: bytes) -> bytes:
        """Answer every complete frame; return the incomplete rest."""
        pos = 0
        out = []
        while len(buffer) - pos >= 6:
            opcode = buffer[pos] & 0x0F
            length = buffer[pos + 1] & 0x7F
            head = 6  # two bytes, then the four-byte mask key
            if length == 126:
                head = 8
                if len(buffer) - pos < 4:
                    break
                length = struct.unpack_from("!H", buffer, pos + 2)[0]
            elif length == 127:
                head = 14
                if len(buffer) - pos < 10:
                    break
                length = struct.unpack_from("!Q", buffer, pos + 2)[0]
            if len(buffer) - pos < head + length:
                break
            pos += head + length
            if opcode == 0x8:
                out.append(b"\x88\x02\x03\xe8")
                self.transport.write(b"".join(out))  # type: ignore[union-attr]
                self.transport.close()  # type: ignore[union-attr]
                return b""
            out.append(self.replies.get(length) or self.canned(length))
        if out:
            self.transport.write(b"".join(out))  # type: ignore[union-attr]
        return buffer[pos:]

    def canned(self, length: int) -> bytes:
        if length < 126:
            head = struct.pack("!BB", 0x81, length)
        elif length < 65536:
            head = struct.pack("!BBH", 0x81, 126, length)
        else:
            head = struct.pack("!BBQ", 0x81, 127, length)
        self.replies[length] = frame = head + b"x" * length
        return frame


def upgrade(head: bytes) -> bytes:
    found = _WS_KEY.search(head)
    key = found.group(1) if found else b""
    accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest())
    return (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Accept: " + accept + b"\r\n\r\n")


async def serve(host: str, port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(CannedProtocol, host, port, backlog=1024)
    stop = loop.create_future()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, lambda: stop.done() or stop.set_result(None))
    async with server:
        await stop


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    args = parser.parse_args()
    try:
        import uvloop
    except ImportError:  # the ceiling of asyncio's own loop, then
        uvloop = None
    if uvloop is not None:
        uvloop.run(serve(args.host, args.port))
    else:
        asyncio.run(serve(args.host, args.port))


if __name__ == "__main__":
    main()
