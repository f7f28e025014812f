"""Flow control: clients that send more than the app reads, or read less than the app sends, cost
the server bounded memory (checked on the server's VmRSS)."""

from __future__ import annotations

import socket
import time

from http_wire import Conn, get, inspect, new_token, request

from helpers import ServerProcess, rss

MIB = 1024 * 1024
RSS_GROWTH_BOUND = 64 * MIB


def pump(conn: Conn, data: bytes, limit: int, stall: float = 2.0, budget: float = 6.0) -> int:
    """Sends data repeatedly until ``limit`` bytes are out, a send stalls for ``stall`` s, or
    ``budget`` s have passed (a server that reads slowly but never stops must not hang the test)."""
    sent = 0
    conn.sock.settimeout(stall)
    deadline = time.monotonic() + budget
    try:
        while sent < limit and time.monotonic() < deadline:
            sent += conn.sock.send(data)
    except socket.timeout:
        pass  # the server stopped reading: that is the point
    except (BrokenPipeError, ConnectionResetError):
        pass
    return sent


def test_unread_request_body_is_not_buffered(server: ServerProcess) -> None:
    token = new_token()
    total = 200 * MIB
    before = rss(server.pid)
    with Conn(server.port) as conn:
        conn.send(request("POST", f"/hold?token={token}", [("Content-Length", str(total))]))
        assert inspect(server.port, token, until="holding") == ["holding"]
        sent = pump(conn, b"u" * MIB, total)
        grown = rss(server.pid) - before
        assert grown < RSS_GROWTH_BOUND, f"RSS +{grown / MIB:.0f} MiB after {sent / MIB:.0f} MiB"
        get(server.port, f"/release?token={token}")
    assert get(server.port, "/text").status == 200


def test_pipeline_flood_without_reading_is_bounded(server: ServerProcess) -> None:
    before = rss(server.pid)
    batch = request("GET", "/text?msg=flood") * 1000
    with Conn(server.port, rcvbuf=64 * 1024) as conn:
        sent = pump(conn, batch, 100 * MIB)
        grown = rss(server.pid) - before
        assert grown < RSS_GROWTH_BOUND, f"RSS +{grown / MIB:.0f} MiB after {sent / MIB:.0f} MiB"
    assert get(server.port, "/text").status == 200


def test_unread_streaming_response_blocks_the_app(server: ServerProcess) -> None:
    token = new_token()
    before = rss(server.pid)
    with Conn(server.port, rcvbuf=64 * 1024) as conn:
        conn.send(request("GET", f"/big-stream?token={token}&mib=1024"))
        # Wait until the app stops making progress: it is blocked in send().
        deadline = time.monotonic() + 15
        last = -1
        while True:
            progress = int(get(server.port, f"/progress?token={token}").body)
            if progress == last and progress > 0:
                break
            assert time.monotonic() < deadline, f"app never blocked (sent {progress / MIB} MiB)"
            last = progress
            time.sleep(0.5)  # pacing the poll of a counter, no event exists for "not moving"
        grown = rss(server.pid) - before
        assert progress < RSS_GROWTH_BOUND, f"app handed {progress / MIB:.0f} MiB to send()"
        assert grown < RSS_GROWTH_BOUND, f"RSS grew {grown / MIB:.0f} MiB"
    # The client left: the app's remaining sends are no-ops and the server carries on.
    assert get(server.port, "/text").status == 200
