"""Per-message work as the app sees it: text messages built from the core's one UTF-8 check
(ASCII and every width of code point, split across frames and reads), a receive() cancelled while
it waits, and the app's errors from receive() and send() (plain CPython functions)."""

from __future__ import annotations

import ast
import uuid

import httpx
import pytest
from ws_server import events
from ws_wire import CONT, PING, PONG, TEXT, WsConn, frame

from helpers import ServerProcess

TEXTS = {
    "empty": "",
    "ascii": "hello, world",
    "ascii-long": "The quick brown fox jumps over the lazy dog. " * 400,
    "latin1": "caf\u00e9 \u00ff\u00a0",                 # up to U+00FF: one byte per char
    "bmp": "\u20ac \u3053\u3093\u306b\u3061\u306f \u0100",  # up to U+FFFF
    "astral": "\U0001f44b \U0001d11e",                   # beyond U+FFFF
    "mixed": "a\u00e9\u20ac\U0001f44b" * 2000,
    "edges": "\x7f\x80\u07ff\u0800\ud7ff\ue000\uffff\U00010000\U0010ffff",
}


def check(c: WsConn, text: str) -> None:
    op, payload, _, _ = c.read_frame()
    assert op == TEXT
    assert ast.literal_eval(payload.decode()) == [text, len(text), True, text.isascii()]


@pytest.mark.parametrize("name", list(TEXTS))
def test_text_message_as_the_app_sees_it(server: ServerProcess, name: str) -> None:
    text = TEXTS[name]
    with WsConn(server.port) as c:
        c.upgrade("/text-check")
        c.send(frame(TEXT, text.encode()))
        check(c, text)


def test_text_split_at_every_byte(server: ServerProcess) -> None:
    # Fragments of every width, sent a byte at a time: code points cut between frames and reads.
    text = "a\u00e9\u20ac\U0001f44bz"
    data = text.encode()
    with WsConn(server.port) as c:
        c.upgrade("/text-check")
        wire = b"".join(frame(TEXT if i == 0 else CONT, data[i:i + 1], fin=i == len(data) - 1)
                        for i in range(len(data)))
        for i in range(len(wire)):
            c.send(wire[i:i + 1])
        check(c, text)
        # The next message starts afresh (ASCII after wide text, and the other way round).
        c.send(frame(TEXT, b"plain"))
        check(c, "plain")
        c.send(frame(TEXT, "\u00e9".encode()))
        check(c, "\u00e9")


@pytest.mark.parametrize("bad", [
    b"ascii then \xff", b"\xf5\x80\x80\x80", "\U0001f44b".encode()[:3],
], ids=["ff", "f5", "cut-astral"])
def test_invalid_utf8_still_closes_1007(server: ServerProcess, bad: bytes) -> None:
    with WsConn(server.port) as c:
        c.upgrade("/text-check")
        c.send(frame(TEXT, bad))
        assert c.read_close()[0] == 1007
        c.expect_eof()


def test_cancelled_receive_loses_nothing(server: ServerProcess) -> None:
    token = uuid.uuid4().hex
    with WsConn(server.port) as c:
        c.upgrade(f"/cancel-receive?token={token}")
        assert c.read_frame()[:2] == (TEXT, b"ready")
        c.send(frame(TEXT, b"hello") + frame(PING, b"after"))
        # The pong comes once the server has read "hello" (while no receive() waits).
        assert c.read_frame()[:2] == (PONG, b"after")
        assert httpx.get(f"{server.url}/release/{token}", timeout=10).text == "ok"
        assert c.read_frame()[:2] == (TEXT, b"got hello")
    assert events(server, token, 3) == [
        "cancelled", "task cancelled", {"type": "websocket.disconnect", "code": 1006}]


def test_app_errors_from_receive_and_send(server: ServerProcess) -> None:
    token = uuid.uuid4().hex
    with WsConn(server.port) as c:
        c.upgrade(f"/receive-twice?token={token}")
        assert c.read_frame()[:2] == (TEXT, b"ready")
        c.send(frame(TEXT, b"hello"))
        assert c.read_frame()[:2] == (TEXT, b"got hello")
    assert events(server, token, 3) == [
        "RuntimeError: receive() called while another receive() is pending",
        "TypeError: ASGI message must be a dict",
        {"type": "websocket.disconnect", "code": 1006}]
