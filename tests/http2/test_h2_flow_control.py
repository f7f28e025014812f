"""HTTP/2 flow control both ways, checked on the server's memory: an app that does not read its
request body holds at most a stream window (the client gets no more credit), a client that does
not read (zero window, or a socket it never drains) blocks the app's send() instead of growing
the server, and credit returns as the app reads."""

from __future__ import annotations

import time

from h2_client import H2Client
from http_wire import get, inspect, new_token

from helpers import ServerProcess, rss

MIB = 1024 * 1024
RSS_GROWTH_BOUND = 64 * MIB

INITIAL_WINDOW_SIZE = 0x4


def wait_until_still(server: ServerProcess, token: str, started: bool = False) -> int:
    """The app's send() progress once it stops moving (it is blocked). ``started``: the app is
    known to run (its response head arrived), so no progress at all also counts as blocked."""
    deadline = time.monotonic() + 15
    last = -1
    while True:
        progress = int(get(server.port, f"/progress?token={token}").body)
        if progress == last and (progress > 0 or started):
            return progress
        assert time.monotonic() < deadline, f"app never blocked (sent {progress / MIB} MiB)"
        last = progress
        time.sleep(0.5)  # pacing the poll of a counter, no event exists for "not moving"


def test_unread_body_gets_no_more_credit_than_a_window(server: ServerProcess) -> None:
    token = new_token()
    with H2Client(server.port) as client:
        client.wait(lambda: INITIAL_WINDOW_SIZE in client.remote_settings)
        stream_window = client.remote_settings[INITIAL_WINDOW_SIZE]
        stream = client.request("POST", f"/hold?token={token}", end=False)
        assert inspect(server.port, token) == ["holding"]
        sent = 0
        while True:  # send whatever credit allows; stop when none comes for a while
            window = client.conn.local_flow_control_window(stream)
            if window == 0:
                try:
                    client.wait(lambda: client.conn.local_flow_control_window(stream) > 0,
                                timeout=1.5)
                except TimeoutError:
                    break
                continue
            chunk = min(window, client.conn.max_outbound_frame_size)
            client.conn.send_data(stream, b"u" * chunk)
            client.flush()
            sent += chunk
            assert sent <= stream_window, "credit returned for bytes the app has not read"
        assert sent == stream_window  # the whole window was usable, and no more
        get(server.port, f"/release?token={token}")
        result = client.response(stream)
    assert result.body == b"released"


def test_credit_returns_as_the_app_reads(server: ServerProcess) -> None:
    body = b"r" * (4 * MIB)  # more than the stream and connection windows
    with H2Client(server.port, timeout=30) as client:
        stream = client.request("POST", "/body", body=body)
        result = client.response(stream)
    assert b'"length": 4194304' in result.body


def test_zero_window_client_blocks_the_app_not_the_server(server: ServerProcess) -> None:
    token = new_token()
    before = rss(server.pid)
    with H2Client(server.port, settings={INITIAL_WINDOW_SIZE: 0}, auto_window=False) as client:
        stream = client.request("GET", f"/big-stream?token={token}&mib=1024")
        client.wait(lambda: client.streams[stream].headers)
        progress = wait_until_still(server, token, started=True)
        grown = rss(server.pid) - before
        assert progress < RSS_GROWTH_BOUND, f"app handed {progress / MIB:.0f} MiB to send()"
        assert grown < RSS_GROWTH_BOUND, f"RSS grew {grown / MIB:.0f} MiB"
        # Opening the window lets the app go on.
        client.conn.increment_flow_control_window(4 * MIB, stream)
        client.conn.increment_flow_control_window(4 * MIB)
        client.flush()
        client.wait(lambda: len(client.streams[stream].body) >= 4 * MIB)
    assert get(server.port, "/text").status == 200


def test_client_that_never_reads_its_socket(server: ServerProcess) -> None:
    token = new_token()
    before = rss(server.pid)
    client = H2Client(server.port)
    try:
        client.conn.update_settings({INITIAL_WINDOW_SIZE: 2**31 - 1})
        client.conn.increment_flow_control_window(2**31 - 1 - 65535)
        client.flush()
        client.request("GET", f"/big-stream?token={token}&mib=1024")
        progress = wait_until_still(server, token)  # transport paused: send() waits
        grown = rss(server.pid) - before
        assert progress < RSS_GROWTH_BOUND, f"app handed {progress / MIB:.0f} MiB to send()"
        assert grown < RSS_GROWTH_BOUND, f"RSS grew {grown / MIB:.0f} MiB"
    finally:
        client.close()
    # The send() waiting for the drain returned, and the rest were no-ops (as on HTTP/1.1).
    assert inspect(server.port, "end-" + token) == ["ok"]
    assert get(server.port, "/text").status == 200


def blocked_stream(client: H2Client, token: str) -> int:
    """A streaming response whose app waits in send(): the client's stream window (set tiny by
    the caller) is never opened, so its first MiB waits in the stream's queue."""
    stream = client.request("GET", f"/big-stream?token={token}&mib=64")
    # The first bytes of the body arrived: the app is in its first send(), waiting.
    client.wait(lambda: len(client.streams[stream].body) > 0)
    return stream


def test_send_waiting_on_the_window_returns_when_the_client_resets(server: ServerProcess) -> None:
    # http: a send() after a disconnect is a no-op (ASGI 2.3); the one waiting for the window
    # returns when the client resets the stream, and the app runs to its end.
    token = new_token()
    with H2Client(server.port, settings={INITIAL_WINDOW_SIZE: 16}, auto_window=False) as client:
        stream = blocked_stream(client, token)
        assert inspect(server.port, "end-" + token, timeout=0.5) == []  # held in send()
        client.reset(stream)
        assert inspect(server.port, "end-" + token) == ["ok"]
        assert client.get("/text").status == 200  # the connection carries on


def test_send_waiting_on_the_window_returns_when_the_connection_is_lost(
        server: ServerProcess) -> None:
    token = new_token()
    with H2Client(server.port, settings={INITIAL_WINDOW_SIZE: 16}, auto_window=False) as client:
        blocked_stream(client, token)
    assert inspect(server.port, "end-" + token) == ["ok"]
