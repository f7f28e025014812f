"""--log-level trace: the connection lines uvicorn logs at TRACE ("127.0.0.1:5000 - HTTP
connection made", "... - Upgrading to WebSocket", "... - WebSocket connection made/lost"); none of
them at the default level."""

from __future__ import annotations

import re

import httpx
from websockets.sync.client import connect
from ws_server import APP, REPO, server_args

from helpers import run_server


def test_trace_lines_for_http_and_websocket_connections() -> None:
    args = server_args(APP, "pico", [])
    args[args.index("--log-level") + 1] = "trace"
    with run_server(args, cwd=str(REPO)) as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            assert client.get("/plain").status_code == 200
        assert server.wait_for_stderr("HTTP connection lost", timeout=5)
        with connect(f"ws://127.0.0.1:{server.port}/echo") as ws:
            ws.send("x")
            assert ws.recv() == "x"
        assert server.wait_for_stderr("WebSocket connection lost", timeout=5)
        log = server.stderr_text()
    peer = r"TRACE:\s+127\.0\.0\.1:\d+ - "
    for line in ("HTTP connection made", "HTTP connection lost", "Upgrading to WebSocket",
                 "WebSocket connection made", "WebSocket connection lost"):
        assert re.search(peer + line, log), f"{line!r} not logged:\n{log}"


def test_no_trace_lines_by_default() -> None:
    with run_server(server_args(APP, "pico", []), cwd=str(REPO)) as server:
        with connect(f"ws://127.0.0.1:{server.port}/echo") as ws:
            ws.send("x")
            assert ws.recv() == "x"
        assert httpx.get(f"{server.url}/plain", timeout=10).status_code == 200
        log = server.stderr_text()
    assert "connection made" not in log and "Upgrading" not in log
