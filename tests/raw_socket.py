"""The byte-level part shared by the raw-socket test clients (tests/http/http_wire.py,
tests/websocket/ws_wire.py): a receive buffer filled under a deadline.

Every read has a deadline; ``PeerClosed`` means the peer sent FIN or RST.
"""

from __future__ import annotations

import socket
import time


class PeerClosed(Exception):
    """The connection ended (FIN or RST) before the expected bytes arrived."""


class RawConn:
    """A connected socket with a receive buffer; subclasses parse what arrives."""

    def __init__(self, sock: socket.socket, timeout: float) -> None:
        self.sock = sock
        self.timeout = timeout
        self.buf = b""
        self.eof = False

    def __enter__(self) -> RawConn:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.sock.close()

    def send(self, data: bytes) -> None:
        self.sock.sendall(data)

    def _fill(self, deadline: float) -> None:
        """Reads more bytes into the buffer; raises PeerClosed at EOF, TimeoutError at deadline."""
        if self.eof:
            raise PeerClosed(self.buf)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed waiting for the server")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except (ConnectionResetError, BrokenPipeError):
            data = b""
        except socket.timeout as exc:
            raise TimeoutError("deadline passed waiting for the server") from exc
        if not data:
            self.eof = True
            raise PeerClosed(self.buf)
        self.buf += data

    def _take(self, n: int, deadline: float) -> bytes:
        """Exactly n bytes from the buffer, reading more as needed."""
        while len(self.buf) < n:
            self._fill(deadline)
        data, self.buf = self.buf[:n], self.buf[n:]
        return data
