"""--no-http2: ALPN offers only http/1.1, the preface is not taken for HTTP/2, and Upgrade: h2c is
ignored; everything is HTTP/1.1."""

from __future__ import annotations

import socket
from typing import Any

from h2_client import tls_client_context
from http_wire import Conn, request

from helpers import ServerProcess

SERVER_ARGS = ["--no-http2"]


def test_preface_is_not_http2(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
        resp = conn.read_response()
    assert resp.status == 505  # an HTTP/1.1 server's answer to version 2.0


def test_upgrade_h2c_ignored(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(request("GET", "/text?msg=one", [
            ("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"),
            ("HTTP2-Settings", "AAMAAABkAAQAAP__")]))
        resp = conn.read_response()
    assert resp.status == 200 and resp.body == b"one" and resp.version == "HTTP/1.1"


def test_alpn_offers_only_http11(tls_server: ServerProcess, ca: Any) -> None:
    context = tls_client_context(ca, ["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as sock:
            assert sock.selected_alpn_protocol() == "http/1.1"
