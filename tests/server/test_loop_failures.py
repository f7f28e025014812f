"""The event loop refusing the server's callbacks (call_soon/call_later raising MemoryError, as a
loop under memory pressure or a closed loop may): the process does not crash, the failure is
logged as an internal error, no response is lost, and the server recovers once the loop accepts
callbacks again. Runs on uvloop and on asyncio's loop (tests/server/faulty_loop.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from helpers import run_server

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "http"))
sys.path.insert(0, str(HERE.parent / "http2"))
from h2_client import H2Client  # noqa: E402
from http_wire import Conn, request  # noqa: E402


@pytest.mark.parametrize("loop", ["uvloop_loop", "asyncio_loop"])
def test_refused_callbacks_are_logged_and_survived(loop: str) -> None:
    args = ["faulty_loop:app", "--app-dir", str(HERE), "--loop", f"faulty_loop:{loop}",
            "--host", "127.0.0.1", "--log-level", "info", "--no-access-log",
            "--timeout-keep-alive", "1", "--ws-ping-interval", "1",
            "--timeout-graceful-shutdown", "3"]
    with run_server(args) as server:
        base = server.url
        with httpx.Client(base_url=base, timeout=10) as client:
            assert client.get("/arm", params={"what": "call_soon,call_later"}).text == "armed"
            # Held output cannot be flushed by a callback: it goes out anyway, complete.
            assert client.get("/stream").text == "piece0;piece1;piece2;end"
        # The deadline sweep cannot re-arm itself.
        assert server.wait_for_stderr("internal error in timeout sweep (re-arming)", timeout=5), \
            server.stderr_text()
        # A WebSocket whose keepalive timer is refused ends instead of hanging.
        with pytest.raises(ConnectionClosed):
            with connect(f"ws://127.0.0.1:{server.port}/echo", open_timeout=10) as ws:
                ws.send("x")
                ws.recv(timeout=10)
                ws.recv(timeout=10)
        assert server.wait_for_stderr("internal error in websocket timer", timeout=5)
        # A denial whose head cannot wait for the end of the loop iteration goes out at once.
        with pytest.raises(InvalidStatus) as denied:
            connect(f"ws://127.0.0.1:{server.port}/deny", open_timeout=10)
        assert denied.value.response.status_code == 403
        assert denied.value.response.body == b"denied"

        # HTTP/2 collects a loop iteration's frames for one write: while the loop refuses the
        # flush its output waits (nothing is lost), and goes out once the loop accepts again.
        with H2Client(server.port) as h2:  # type: ignore[arg-type]
            stream = h2.request("GET", "/text")
            with httpx.Client(base_url=base, timeout=10) as client:
                refused = client.get("/disarm").text
            assert h2.response(stream).body == b"ok"
        assert "'call_soon': 0" not in refused and "'call_later': 0" not in refused, refused
        # Recovered: a new connection re-arms the sweep, whose keep-alive deadline holds again.
        with Conn(server.port) as conn:
            conn.send(request("GET", "/text"))
            assert conn.read_response().body == b"ok"
            assert conn.closed_within(4), "the keep-alive deadline is enforced again"
        assert server.proc.poll() is None, server.stderr_text()
        assert server.stop() == 0
    log = server.stderr_text()
    assert "Segmentation fault" not in log and "Fatal Python error" not in log
    assert "MemoryError: call_soon refused by the test loop" in log
