"""Keepalive pings (--ws-ping-interval/--ws-ping-timeout) and graceful shutdown (1012)."""

from __future__ import annotations

import signal
import time

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from ws_server import APP, REPO, server_args
from ws_wire import CLOSE, PING, PONG, TEXT, WsConn, frame

from helpers import ServerProcess, run_server

SERVER_ARGS = ["--ws-ping-interval", "0.2", "--ws-ping-timeout", "0.3"]


def test_silent_peer_is_closed_1011(server: ServerProcess) -> None:
    with WsConn(server.port) as c:
        c.upgrade("/hold")
        started = time.monotonic()
        assert c.read_frame(timeout=3)[0] == PING
        assert c.read_close(timeout=3)[0] == 1011  # no pong within the timeout
        c.expect_eof()
        assert time.monotonic() - started < 2


def test_answering_peer_stays_open(server: ServerProcess) -> None:
    with WsConn(server.port) as c:
        c.upgrade("/echo")
        pings = 0
        while pings < 4:
            opcode, payload, _, _ = c.read_frame(timeout=3)
            assert opcode == PING
            c.send(frame(PONG, payload))
            pings += 1
        c.send(frame(TEXT, b"still here"))
        while True:
            opcode, payload, _, _ = c.read_frame(timeout=3)
            if opcode != PING:
                break
        assert (opcode, payload) == (TEXT, b"still here")


def test_library_client_stays_open(server: ServerProcess) -> None:
    with connect(f"ws://127.0.0.1:{server.port}/echo") as ws:
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            ws.send("tick")
            assert ws.recv() == "tick"
            time.sleep(0.1)


def test_graceful_shutdown_closes_1012(parser: str) -> None:
    with run_server(server_args(APP, parser, []), cwd=str(REPO)) as server:
        with WsConn(server.port) as c, connect(f"ws://127.0.0.1:{server.port}/echo") as ws:
            c.upgrade("/hold")
            ws.send("before")
            assert ws.recv() == "before"
            started = time.monotonic()
            server.send_signal(signal.SIGTERM)
            opcode, payload, _, _ = c.read_frame(timeout=5)
            assert opcode == CLOSE and payload[:2] == (1012).to_bytes(2, "big")
            c.send(frame(CLOSE, payload[:2]))
            c.expect_eof()
            with pytest.raises(ConnectionClosed) as info:
                ws.recv(timeout=5)
            assert info.value.rcvd is not None and info.value.rcvd.code == 1012
            assert server.wait() == 0
            assert time.monotonic() - started < 3
        assert "Cancel" not in server.stderr_text()
        # The app heard the code only, as from uvicorn: the reason is for close frames it got.
        assert "hold got {'type': 'websocket.disconnect', 'code': 1012}" in server.stderr_text()
