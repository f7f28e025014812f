"""Frames that arrive together: every message is echoed, in order, intact, when a client sends
many in one write (the server then writes the replies of one batch together), with control frames
and a close among them, and when the app stops reading halfway."""

from __future__ import annotations

import uuid

import httpx
from websockets.sync.client import connect
from ws_server import events
from ws_wire import BINARY, CLOSE, PING, PONG, TEXT, WsConn, close_payload, frame

from helpers import ServerProcess


def read_data(c: WsConn, n: int) -> list[tuple[int, bytes]]:
    out = []
    while len(out) < n:
        opcode, payload, fin, _ = c.read_frame()
        assert fin
        if opcode != PONG:
            out.append((opcode, payload))
    return out


def test_burst_echoed_in_order(server: ServerProcess) -> None:
    # Sizes cross the 125/126 and 64 KiB length boundaries and the server's batch limit.
    sent = []
    for i in range(300):
        size = (0, 1, 125, 126, 4000, 70000)[i % 6]
        body = (b"%05d" % i * (size // 5 + 1))[:size]
        sent.append((BINARY, body) if i % 2 else (TEXT, body))
    with WsConn(server.port, timeout=15) as c:
        c.upgrade()
        c.send(b"".join(frame(op, body) for op, body in sent))
        assert read_data(c, len(sent)) == sent


def test_burst_with_pings_and_close(server: ServerProcess) -> None:
    with WsConn(server.port) as c:
        c.upgrade()
        c.send(frame(TEXT, b"a") + frame(PING, b"p1") + frame(TEXT, b"b") + frame(TEXT, b"c")
               + frame(PING, b"p2") + frame(TEXT, b"close:4000:bye") + frame(TEXT, b"late"))
        data, pongs = [], []
        while True:
            opcode, payload, _, _ = c.read_frame()
            if opcode == PONG:
                pongs.append(payload)
            elif opcode == CLOSE:
                assert payload == close_payload(4000, b"bye")
                break
            else:
                data.append(payload)
        # The app's own close comes after everything it sent before it; nothing after it.
        assert data == [b"a", b"b", b"c"]
        assert pongs == [b"p1", b"p2"]
        c.send(frame(CLOSE, close_payload(1000)))
        c.expect_eof()


def test_sends_go_out_when_the_app_stops_reading(server: ServerProcess) -> None:
    # "5" and "unread" arrive together: the app's five sends happen while "unread" waits in its
    # queue, and must reach the client although the app never calls receive() again.
    token = uuid.uuid4().hex
    with WsConn(server.port) as c:
        c.upgrade(f"/send-then-park?token={token}")
        c.send(frame(TEXT, b"5") + frame(TEXT, b"unread"))
        assert read_data(c, 5) == [(TEXT, b"m%d" % i) for i in range(5)]
        assert events(server, token) == ["parked"]
        httpx.get(f"{server.url}/release/{token}", timeout=5)


def test_library_client_pipelined_with_compression(server: ServerProcess) -> None:
    # permessage-deflate with context takeover: frames compressed one after another must be sent
    # in the order they were compressed.
    messages = [f"message {i} " * (i % 7 + 1) for i in range(500)]
    with connect(f"ws://127.0.0.1:{server.port}/echo", open_timeout=5) as ws:
        assert ws.response.headers.get("sec-websocket-extensions", "").startswith(
            "permessage-deflate")
        for m in messages:
            ws.send(m)
        assert [ws.recv(timeout=10) for _ in messages] == messages
