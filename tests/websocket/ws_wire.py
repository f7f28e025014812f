"""A raw-socket WebSocket client (RFC 6455) for edge cases a client library refuses to produce.

Every read has a deadline; ``PeerClosed`` means the server sent FIN or RST.
"""

from __future__ import annotations

import base64
import hashlib
import os
import socket
import struct
import time

from raw_socket import PeerClosed, RawConn

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TEXT, BINARY, CLOSE, PING, PONG, CONT = 0x1, 0x2, 0x8, 0x9, 0xA, 0x0
DEFAULT_TIMEOUT = 5.0


def mask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(
        n, "little")


def frame(opcode: int, payload: bytes = b"", fin: bool = True, masked: bool = True,
          rsv: int = 0, length: int | None = None) -> bytes:
    """One client frame; ``length`` overrides the announced payload length."""
    n = len(payload) if length is None else length
    b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
    mbit = 0x80 if masked else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + mask(payload, key)


def close_payload(code: int, reason: bytes = b"") -> bytes:
    return struct.pack("!H", code) + reason


def handshake_request(path: str = "/echo", key: bytes | None = None,
                      extra: list[tuple[str, str]] | None = None,
                      version: str | None = "13", method: str = "GET",
                      http: str = "HTTP/1.1") -> bytes:
    key = key if key is not None else base64.b64encode(os.urandom(16))
    lines = [f"{method} {path} {http}", "Host: 127.0.0.1", "Upgrade: websocket",
             "Connection: Upgrade", f"Sec-WebSocket-Key: {key.decode()}"]
    if version is not None:
        lines.append(f"Sec-WebSocket-Version: {version}")
    lines += [f"{k}: {v}" for k, v in (extra or [])]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def accept_value(key: bytes) -> str:
    return base64.b64encode(hashlib.sha1(key + GUID).digest()).decode()


class WsConn(RawConn):
    """A client connection with a receive buffer."""

    def __init__(self, port: int, timeout: float = DEFAULT_TIMEOUT) -> None:
        super().__init__(socket.create_connection(("127.0.0.1", port), timeout=timeout), timeout)

    def read_exact(self, n: int, timeout: float | None = None) -> bytes:
        return self._take(n, time.monotonic() + (timeout or self.timeout))

    def read_head_lines(self, timeout: float | None = None) -> list[str]:
        """An HTTP response head as its lines (status line first), duplicates kept."""
        deadline = time.monotonic() + (timeout or self.timeout)
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head.decode("latin-1").split("\r\n")

    def read_head(self, timeout: float | None = None) -> tuple[int, dict[str, str], bytes]:
        """An HTTP response head: (status, lower-cased headers, body if Content-Length)."""
        lines = self.read_head_lines(timeout)
        status = int(lines[0].split(" ")[1])
        headers: dict[str, str] = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        body = b""
        if "content-length" in headers:
            body = self.read_exact(int(headers["content-length"]), timeout)
        return status, headers, body

    def upgrade(self, path: str = "/echo", extra: list[tuple[str, str]] | None = None) -> dict:
        key = base64.b64encode(os.urandom(16))
        self.send(handshake_request(path, key, extra))
        status, headers, _ = self.read_head()
        assert status == 101, (status, headers)
        assert headers["sec-websocket-accept"] == accept_value(key)
        return headers

    def read_frame(self, timeout: float | None = None) -> tuple[int, bytes, bool, int]:
        """(opcode, payload, fin, rsv bits) of the next server frame (never masked)."""
        b0, b1 = self.read_exact(2, timeout)
        assert not b1 & 0x80, "server frames are not masked"
        n = b1 & 0x7F
        if n == 126:
            (n,) = struct.unpack("!H", self.read_exact(2, timeout))
        elif n == 127:
            (n,) = struct.unpack("!Q", self.read_exact(8, timeout))
        return b0 & 0x0F, self.read_exact(n, timeout), bool(b0 & 0x80), (b0 >> 4) & 0x7

    def read_close(self, timeout: float | None = None) -> tuple[int, bytes]:
        """Skips data/ping frames up to the close frame; returns (code, reason)."""
        while True:
            opcode, payload, _, _ = self.read_frame(timeout)
            if opcode == CLOSE:
                if not payload:
                    return 1005, b""
                return struct.unpack("!H", payload[:2])[0], payload[2:]

    def expect_eof(self, timeout: float = 5.0) -> None:
        """The server closes the connection (possibly after more frames, which are dropped)."""
        deadline = time.monotonic() + timeout
        try:
            while True:
                self._fill(deadline)
                self.buf = b""
        except PeerClosed:
            return
