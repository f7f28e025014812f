"""How a connection becomes HTTP/2 (RFC 9113 3): ALPN "h2" over TLS, the client preface on
cleartext (prior knowledge, however it is split), and "Upgrade: h2c" (RFC 7540 3.2) for a request
without a body. Everything else stays HTTP/1.1 on the same port."""

from __future__ import annotations

import json
import socket
import ssl
from typing import Any

import httpx
from h2_client import H2Client, tls_client_context
from h2_support import need, run_client
from http_wire import Conn, request

from helpers import ServerProcess

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"


def scope_of(result: Any) -> dict[str, Any]:
    assert result.status == 200, result
    return json.loads(result.body)


def test_prior_knowledge(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        scope = scope_of(client.get("/scope?x=1"))
    assert scope["http_version"] == "2"
    assert scope["scheme"] == "http"
    assert scope["type"] == "http"


def test_preface_split_byte_by_byte_is_still_http2(server: ServerProcess) -> None:
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        for byte in PREFACE:  # each byte a separate segment (TCP_NODELAY)
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(bytes([byte]))
        # An empty SETTINGS frame completes the client preface.
        sock.sendall(b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        head = sock.recv(9)
    assert len(head) == 9 and head[3] == 0x4, head  # the server's SETTINGS (type 4)


def test_http1_on_the_same_port_is_unaffected(server: ServerProcess) -> None:
    response = httpx.get(f"{server.url}/scope", timeout=10)
    assert response.http_version == "HTTP/1.1"
    assert response.json()["http_version"] == "1.1"


def test_a_request_that_merely_starts_like_the_preface_stays_http1(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(b"PRI * HTTP/1.1\r\nHost: x\r\n\r\n")  # not the preface: an HTTP/1.1 request
        resp = conn.read_response()
    assert resp.status == 501  # PRI is not a method we serve over HTTP/1.1


def test_alpn_h2(tls_server: ServerProcess, tls_context: ssl.SSLContext) -> None:
    with H2Client(tls_server.port, tls=tls_context) as client:
        scope = scope_of(client.get("/scope"))
    assert scope["http_version"] == "2"
    assert scope["scheme"] == "https"


def test_alpn_http11_client_gets_http11(tls_server: ServerProcess, ca: Any) -> None:
    context = tls_client_context(ca, ["http/1.1"])
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as sock:
            assert sock.selected_alpn_protocol() == "http/1.1"
            sock.sendall(request("GET", "/scope"))
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
    assert data.startswith(b"HTTP/1.1 200")


def test_httpx_over_tls_negotiates_h2(tls_server: ServerProcess, ca_file: str) -> None:
    with httpx.Client(http2=True, verify=ssl.create_default_context(cafile=ca_file),
                      timeout=10) as client:
        response = client.get(f"https://localhost:{tls_server.port}/scope")
    assert response.http_version == "HTTP/2"
    assert response.json()["http_version"] == "2"


def test_upgrade_h2c_with_curl(server: ServerProcess) -> None:
    curl = need("curl")
    # Without prior knowledge, curl asks for Upgrade: h2c on cleartext.
    out = run_client([curl, "-sS", "--http2", "-w", "\\n%{http_version}", "--max-time", "10",
                      f"{server.url}/scope?via=upgrade"])
    body, _, version = out.stdout.rpartition("\n")
    assert version == "2"
    scope = json.loads(body)
    assert scope["http_version"] == "2" and scope["query_string"] == "via=upgrade"
    names = [name for name, _ in scope["headers"]]
    assert "upgrade" not in names and "http2-settings" not in names and "connection" not in names


def test_upgrade_h2c_raw(server: ServerProcess) -> None:
    """101, then the server preface, then the response on stream 1 (RFC 7540 3.2)."""
    with Conn(server.port) as conn:
        conn.send(request("GET", "/text?msg=upgraded", [
            ("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"),
            ("HTTP2-Settings", "AAMAAABkAAQAAP__")]))
        status, headers = conn.read_head()
        assert status == 101
        assert dict(headers)["upgrade"] == "h2c"
        conn.send(PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        frames = read_frames_until_end_stream(conn, 1)
    assert any(t == 0x4 for t, _, _, _ in frames)  # the server's SETTINGS
    data = b"".join(p for t, _, s, p in frames if t == 0x0 and s == 1)
    assert data == b"upgraded"


def test_upgrade_h2c_101_comes_before_a_response_written_at_once(server: ServerProcess) -> None:
    """An app that answers without suspending (started eagerly on Python 3.12+, inside the
    upgrade) with more than the output held for one turn (64 KiB: the whole initial window)."""
    size = 65_535
    with Conn(server.port) as conn:
        conn.send(request("GET", f"/text?msg=x&repeat={size}", [
            ("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"),
            ("HTTP2-Settings", "AAMAAABkAAQAAP__")]))
        status, _ = conn.read_head()
        assert status == 101
        conn.send(PREFACE + b"\x00\x00\x00\x04\x00\x00\x00\x00\x00")
        frames = read_frames_until_end_stream(conn, 1)
    assert b"".join(p for t, _, s, p in frames if t == 0x0 and s == 1) == b"x" * size


def test_upgrade_with_a_body_is_served_over_http11(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(request("POST", "/body?echo=1", [
            ("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"),
            ("HTTP2-Settings", "AAMAAABkAAQAAP__"), ("Content-Length", "5")], b"hello"))
        resp = conn.read_response()
    assert resp.status == 200 and resp.body == b"hello" and resp.version == "HTTP/1.1"


def test_upgrade_with_bad_settings_is_refused(server: ServerProcess) -> None:
    with Conn(server.port) as conn:
        conn.send(request("GET", "/text", [
            ("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"),
            ("HTTP2-Settings", "not base64!")]))
        resp = conn.read_response()
    assert resp.status == 400 and b"HTTP2-Settings" in resp.body


def test_upgrade_h2c_over_tls_is_ignored(tls_server: ServerProcess, ca: Any) -> None:
    context = tls_client_context(ca, ["http/1.1"])
    with socket.create_connection(("127.0.0.1", tls_server.port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as sock:
            sock.sendall(request("GET", "/text?msg=tls", [
                ("Connection", "Upgrade, HTTP2-Settings"), ("Upgrade", "h2c"),
                ("HTTP2-Settings", "AAMAAABkAAQAAP__")]))
            data = b""
            while not data.endswith(b"tls"):
                chunk = sock.recv(65536)
                assert chunk, data
                data += chunk
    assert data.startswith(b"HTTP/1.1 200")


def read_frames_until_end_stream(conn: Conn, stream: int) -> list[tuple[int, int, int, bytes]]:
    """Raw frames (type, flags, stream, payload) until END_STREAM on ``stream``."""
    import time

    frames = []
    deadline = time.monotonic() + 10
    while True:
        header = conn._take(9, deadline)
        length = int.from_bytes(header[:3], "big")
        ftype, flags = header[3], header[4]
        sid = int.from_bytes(header[5:9], "big") & 0x7FFFFFFF
        payload = conn._take(length, deadline)
        frames.append((ftype, flags, sid, payload))
        if sid == stream and ftype in (0x0, 0x1) and flags & 0x1:
            return frames
