"""The opening handshake over raw sockets, with both HTTP parsers: 101 and its headers, 400/426
for bad upgrade requests, bytes sent right behind the request, and ``--ws none``."""

from __future__ import annotations

import base64
import os

import httpx
import pytest
from ws_server import REPO, server_args
from ws_wire import TEXT, WsConn, accept_value, frame, handshake_request

from helpers import ServerProcess, run_server

PARSERS = ["pico", "llhttp"]


def test_101_head(server: ServerProcess) -> None:
    key = base64.b64encode(os.urandom(16))
    with WsConn(server.port) as c:
        c.send(handshake_request("/echo", key, [("Sec-WebSocket-Protocol", "a, b")]))
        status, headers, _ = c.read_head()
        assert status == 101
        assert headers["upgrade"].lower() == "websocket"
        assert headers["connection"].lower() == "upgrade"
        assert headers["sec-websocket-accept"] == accept_value(key)
        assert headers["sec-websocket-protocol"] == "a"
        assert "sec-websocket-extensions" not in headers  # not offered
        c.send(frame(TEXT, b"hi"))
        assert c.read_frame()[:2] == (TEXT, b"hi")


def test_frames_sent_with_the_request_wait_for_accept(server: ServerProcess) -> None:
    with WsConn(server.port) as c:
        c.send(handshake_request("/echo") + frame(TEXT, b"early") + frame(TEXT, b"bird"))
        assert c.read_head()[0] == 101
        assert c.read_frame()[:2] == (TEXT, b"early")
        assert c.read_frame()[:2] == (TEXT, b"bird")


@pytest.mark.parametrize("request_bytes", [
    handshake_request(key=b"short"),
    handshake_request(key=b""),
    handshake_request(method="POST"),
    handshake_request(http="HTTP/1.0"),
    handshake_request(extra=[("Sec-WebSocket-Key", base64.b64encode(os.urandom(16)).decode())]),
    handshake_request(extra=[("Sec-WebSocket-Protocol", "bad protocol,")]),
    handshake_request(extra=[("Content-Length", "5")]) + b"hello",
    handshake_request(extra=[("Transfer-Encoding", "chunked")]) + b"0\r\n\r\n",
], ids=["short-key", "empty-key", "post", "http10", "two-keys", "bad-protocol", "body",
        "chunked"])
def test_bad_upgrade_is_400(server: ServerProcess, request_bytes: bytes) -> None:
    with WsConn(server.port) as c:
        c.send(request_bytes)
        status, headers, _ = c.read_head()
        assert status == 400
        c.expect_eof()


@pytest.mark.parametrize("version", ["8", None, "13, 8"])
def test_wrong_version_is_426(server: ServerProcess, version: str | None) -> None:
    with WsConn(server.port) as c:
        c.send(handshake_request(version=version))
        status, headers, body = c.read_head()
        assert status == 426
        assert headers["sec-websocket-version"] == "13"
        assert body.startswith(b"Upgrade Required")
        c.expect_eof()


def test_plain_get_on_websocket_path_is_http(server: ServerProcess) -> None:
    r = httpx.get(f"{server.url}/echo")
    assert r.status_code == 200 and "'type': 'http'" in r.text


def test_ws_none_treats_upgrade_as_http(parser: str) -> None:
    with run_server(server_args("tests.websocket.ws_apps:app", parser, ["--ws", "none"]),
                    cwd=str(REPO)) as server:
        with WsConn(server.port) as c:
            c.send(handshake_request("/echo"))
            status, _, body = c.read_head()
        assert status == 200
        assert b"'type': 'http'" in body


def test_configured_server_header_replaces_ours_in_101(parser: str) -> None:
    args = server_args("tests.websocket.ws_apps:app", parser, ["--header", "server:custom"])
    with run_server(args, cwd=str(REPO)) as server:
        with WsConn(server.port) as c:
            c.send(handshake_request("/echo"))
            lines = [line.lower() for line in c.read_head_lines()]
    assert lines[0].startswith("http/1.1 101")
    assert [line for line in lines if line.startswith("server:")] == ["server: custom"]


def test_denial_head_is_not_held_for_its_body(server: ServerProcess) -> None:
    token = os.urandom(8).hex()
    with WsConn(server.port) as c:
        c.send(handshake_request(f"/deny-late?token={token}"))
        lines = c.read_head_lines(timeout=5)  # while the app still waits for its release
        assert lines[0].startswith("HTTP/1.1 401")
        assert c.buf == b""
        httpx.get(f"{server.url}/release/{token}", timeout=5)
        assert c.read_exact(6) == b"denied"
