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
    assert get(server.port, "/text").status == 200
