"""Framing edge cases over raw sockets: masking, fragmentation with interleaved control frames,
UTF-8 split across frames, close codes, reserved bits and opcodes, abrupt disconnects."""

from __future__ import annotations

import uuid

import httpx
import pytest
from ws_server import events
from ws_wire import (
    BINARY,
    CLOSE,
    CONT,
    PING,
    PONG,
    TEXT,
    WsConn,
    close_payload,
    frame,
    handshake_request,
)

from helpers import ServerProcess


def test_ping_answered_with_pong(server: ServerProcess) -> None:
    with WsConn(server.port) as c:
        c.upgrade()
        c.send(frame(PING, b"are you there"))
        assert c.read_frame()[:2] == (PONG, b"are you there")
        c.send(frame(PING))
        assert c.read_frame()[:2] == (PONG, b"")


def test_fragmented_message_with_interleaved_ping(server: ServerProcess) -> None:
    with WsConn(server.port) as c:
        c.upgrade()
        c.send(frame(TEXT, b"Hel", fin=False))
        c.send(frame(PING, b"mid"))
        c.send(frame(CONT, b"lo, ", fin=False))
        c.send(frame(PONG, b"unsolicited"))
        c.send(frame(CONT, "wörld".encode(), fin=True))
        assert c.read_frame()[:2] == (PONG, b"mid")
        assert c.read_frame()[:2] == (TEXT, "Hello, wörld".encode())


def test_fragmented_binary_and_byte_by_byte(server: ServerProcess) -> None:
    with WsConn(server.port) as c:
        c.upgrade()
        data = frame(BINARY, b"\x00\x01", fin=False) + frame(CONT, b"\x02" * 300)
        for i in range(len(data)):  # every split point of headers, masks and payloads
            c.send(data[i:i + 1])
        assert c.read_frame()[:2] == (BINARY, b"\x00\x01" + b"\x02" * 300)


def test_valid_utf8_split_across_frames(server: ServerProcess) -> None:
    euro = "€".encode()  # e2 82 ac
    with WsConn(server.port) as c:
        c.upgrade()
        c.send(frame(TEXT, b"a" + euro[:1], fin=False) + frame(CONT, euro[1:2], fin=False) +
               frame(CONT, euro[2:] + b"b"))
        assert c.read_frame()[:2] == (TEXT, "a€b".encode())


@pytest.mark.parametrize("frames", [
    [frame(TEXT, b"ok \xe2\x82", fin=False), frame(CONT, b"\x28")],  # bad continuation byte
    [frame(TEXT, b"\xed\xa0\x80")],                                 # surrogate
    [frame(TEXT, b"abc\xe2\x82")],                                   # truncated at the end
    [frame(TEXT, b"\xc0\xaf")],                                      # overlong
], ids=["split", "surrogate", "truncated", "overlong"])
def test_bad_utf8_is_1007(server: ServerProcess, frames: list[bytes]) -> None:
    token = uuid.uuid4().hex
    with WsConn(server.port) as c:
        c.upgrade(f"/echo?token={token}")
        for f in frames:
            c.send(f)
        assert c.read_close()[0] == 1007
        c.expect_eof()
    assert events(server, token) == [
        {"disconnect": 1007, "reason": "invalid UTF-8 in a text message"}]


@pytest.mark.parametrize("bad", [
    frame(TEXT, b"unmasked", masked=False),
    frame(TEXT, b"x", rsv=0b100),               # RSV1 without permessage-deflate
    frame(TEXT, b"x", rsv=0b010),
    frame(0x3, b"x"),                           # reserved data opcode
    frame(0xB, b""),                            # reserved control opcode
    frame(CONT, b"x"),                          # continuation with no message
    frame(PING, b"x" * 126),                    # control frame too long
    frame(PING, b"x", fin=False),               # fragmented control frame
    frame(TEXT, b"a", fin=False) + frame(TEXT, b"b"),  # new message inside a fragmented one
    frame(CLOSE, b"\x03"),                      # 1-byte close payload
    frame(CLOSE, close_payload(999)),
    frame(CLOSE, close_payload(1005)),
    frame(CLOSE, close_payload(1006)),
    frame(CLOSE, close_payload(5000)),
], ids=["unmasked", "rsv1", "rsv2", "opcode3", "opcode11", "orphan-cont", "long-ping",
        "fragmented-ping", "nested-message", "close-1-byte", "close-999", "close-1005",
        "close-1006", "close-5000"])
def test_protocol_errors_are_1002(server: ServerProcess, bad: bytes) -> None:
    with WsConn(server.port) as c:
        c.upgrade()
        c.send(bad)
        assert c.read_close()[0] == 1002
        c.expect_eof()


def test_close_reason_bad_utf8_is_1007(server: ServerProcess) -> None:
    with WsConn(server.port) as c:
        c.upgrade()
        c.send(frame(CLOSE, close_payload(1000, b"\xff")))
        assert c.read_close()[0] == 1007


def test_client_close_is_echoed(server: ServerProcess) -> None:
    token = uuid.uuid4().hex
    with WsConn(server.port) as c:
        c.upgrade(f"/echo?token={token}")
        c.send(frame(CLOSE, close_payload(3001, "fin ✓".encode())))
        assert c.read_close() == (3001, b"")
        c.expect_eof()
    assert events(server, token) == [{"disconnect": 3001, "reason": "fin ✓"}]


def test_client_close_without_code(server: ServerProcess) -> None:
    token = uuid.uuid4().hex
    with WsConn(server.port) as c:
        c.upgrade(f"/echo?token={token}")
        c.send(frame(CLOSE))
        assert c.read_close() == (1005, b"")  # an empty close frame back
        c.expect_eof()
    assert events(server, token) == [{"disconnect": 1005, "reason": ""}]


def test_abrupt_disconnect_is_1006(server: ServerProcess) -> None:
    token = uuid.uuid4().hex
    with WsConn(server.port) as c:
        c.upgrade(f"/echo?token={token}")
        c.send(frame(TEXT, b"half", fin=False))
    # No close frame: the code only, as uvicorn (no "reason" key).
    assert events(server, token) == [{"disconnect": 1006, "reason": None}]


def test_disconnect_before_accept(server: ServerProcess) -> None:
    token = uuid.uuid4().hex
    with WsConn(server.port) as c:
        c.send(handshake_request(f"/accept-late?token={token}"))
        assert events(server, token) == ["waiting"]
    httpx.get(f"{server.url}/release/{token}", timeout=5)
    assert events(server, token, count=3)[1:] == [
        "accept raised ClientDisconnected",
        {"type": "websocket.disconnect", "code": 1006}]


def test_data_after_close_frame_is_ignored(server: ServerProcess) -> None:
    with WsConn(server.port) as c:
        c.upgrade()
        c.send(frame(CLOSE, close_payload(1000)) + frame(TEXT, b"ignored"))
        opcode, payload, _, _ = c.read_frame()
        assert opcode == CLOSE and payload == close_payload(1000)
        c.expect_eof()
