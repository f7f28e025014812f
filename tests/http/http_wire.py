"""A small, strict HTTP/1.1 response reader over raw sockets, for the edge cases httpx hides.

Every read has a deadline; "closed" means the peer sent FIN or RST.
"""

from __future__ import annotations

import json
import socket
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from raw_socket import PeerClosed, RawConn

DEFAULT_TIMEOUT = 5.0


@dataclass
class Response:
    version: str
    status: int
    reason: str
    headers: list[tuple[str, str]]
    body: bytes = b""
    trailers: list[tuple[str, str]] = field(default_factory=list)
    chunked: bool = False
    interim: list[int] = field(default_factory=list)  # 1xx status codes seen before this one

    def header(self, name: str) -> str | None:
        values = self.header_all(name)
        return values[0] if values else None

    def header_all(self, name: str) -> list[str]:
        return [v for k, v in self.headers if k == name.lower()]

    def connection_tokens(self) -> set[str]:
        return {t.strip().lower() for v in self.header_all("connection") for t in v.split(",")}


class Conn(RawConn):
    """One client connection with a receive buffer."""

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = DEFAULT_TIMEOUT,
                 rcvbuf: int | None = None) -> None:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.settimeout(timeout)
        sock.connect((host, port))
        super().__init__(sock, timeout)

    def _read_line(self, deadline: float) -> bytes:
        while b"\r\n" not in self.buf:
            self._fill(deadline)
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _read_exact(self, n: int, deadline: float) -> bytes:
        return self._take(n, deadline)

    def _read_headers(self, deadline: float) -> list[tuple[str, str]]:
        headers = []
        while True:
            line = self._read_line(deadline)
            if not line:
                return headers
            name, sep, value = line.partition(b":")
            assert sep, f"response header without colon: {line!r}"
            assert name == name.strip(), f"whitespace around header name: {line!r}"
            headers.append((name.decode("latin-1").lower(), value.strip().decode("latin-1")))

    def read_head(self, timeout: float | None = None) -> tuple[int, list[tuple[str, str]]]:
        """One status line and header block, interim (1xx) or final; the body is left unread."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        status_line = self._read_line(deadline)
        parts = status_line.decode("latin-1").split(" ", 2)
        assert len(parts) >= 2 and parts[0].startswith("HTTP/1."), status_line
        return int(parts[1]), self._read_headers(deadline)

    def read_response(self, method: str = "GET", timeout: float | None = None) -> Response:
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        interim: list[int] = []
        while True:
            status_line = self._read_line(deadline)
            parts = status_line.decode("latin-1").split(" ", 2)
            assert len(parts) >= 2 and parts[0].startswith("HTTP/1."), status_line
            status = int(parts[1])
            headers = self._read_headers(deadline)
            if 100 <= status < 200 and status != 101:
                interim.append(status)
                continue
            break
        resp = Response(parts[0], status, parts[2] if len(parts) > 2 else "", headers,
                        interim=interim)
        te = resp.header("transfer-encoding")
        if method == "HEAD" or status in (204, 304) or status < 200:
            return resp
        if te is not None:
            assert te.lower() == "chunked", f"unexpected transfer-encoding {te!r}"
            resp.chunked = True
            resp.body, resp.trailers = self._read_chunked(deadline)
        elif resp.header("content-length") is not None:
            resp.body = self._read_exact(int(resp.header("content-length") or 0), deadline)
        else:
            resp.body = self.read_until_close(deadline - time.monotonic())
        return resp

    def _read_chunked(self, deadline: float) -> tuple[bytes, list[tuple[str, str]]]:
        parts = []
        while True:
            size_line = self._read_line(deadline)
            size = int(size_line.split(b";")[0], 16)
            if size == 0:
                return b"".join(parts), self._read_headers(deadline)
            parts.append(self._read_exact(size, deadline))
            assert self._read_exact(2, deadline) == b"\r\n", "chunk not followed by CRLF"

    def read_until_close(self, timeout: float | None = None) -> bytes:
        """Everything until EOF; TimeoutError if the server keeps the connection open."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while True:
            try:
                self._fill(deadline)
            except PeerClosed:
                data, self.buf = self.buf, b""
                return data

    def closed_within(self, timeout: float) -> bool:
        """True if the server closes the connection (after any pending bytes) within timeout."""
        try:
            self.read_until_close(timeout)
        except TimeoutError:
            return False
        return True


def request(method: str, target: str, headers: list[tuple[str, str]] | None = None,
            body: bytes = b"", version: str = "HTTP/1.1", host: str = "test") -> bytes:
    lines = [f"{method} {target} {version}", f"Host: {host}"]
    lines += [f"{k}: {v}" for k, v in headers or []]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def parse_all(port: int, payload: bytes, timeout: float = DEFAULT_TIMEOUT,
              method: str = "GET") -> tuple[list[Response], bytes, bool]:
    """Sends payload on a new connection and reads responses until the server closes.

    Returns the responses, any unparsable trailing bytes, and whether the server closed in time.
    """
    responses: list[Response] = []
    with Conn(port, timeout=timeout) as conn:
        try:
            conn.send(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass
        deadline = time.monotonic() + timeout
        while True:
            try:
                responses.append(conn.read_response(method, deadline - time.monotonic()))
            except PeerClosed:
                return responses, conn.buf, True
            except TimeoutError:
                return responses, conn.buf, False


def new_token() -> str:
    return uuid.uuid4().hex


def inspect(port: int, token: str, count: int = 1, until: str = "",
            timeout: float = 5.0) -> list[Any]:
    """The side-channel events the test app recorded under token (long-polls up to timeout)."""
    target = f"/inspect?token={token}&count={count}&timeout={timeout}"
    if until:
        target += f"&until={until}"
    with Conn(port, timeout=timeout + 5) as conn:
        conn.send(request("GET", target))
        resp = conn.read_response()
    assert resp.status == 200, resp
    return list(json.loads(resp.body))


def get(port: int, target: str, timeout: float = DEFAULT_TIMEOUT) -> Response:
    """One GET on a fresh connection: also proves the server still serves new clients."""
    with Conn(port, timeout=timeout) as conn:
        conn.send(request("GET", target))
        return conn.read_response()
