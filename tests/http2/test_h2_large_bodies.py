"""Large response bodies over HTTP/2: a piece of 32 KiB or more is framed straight into the bytes
object the server writes (no copy into the connection's output buffer first). Whatever the
windows allow goes that way, behind the frames already queued; the rest waits in the stream's
queue. Every byte must arrive once, in order, within the client's windows and frame size, with
content-length and trailers as usual, and streams interleaved on one connection must not mix."""

from __future__ import annotations

import ssl

import pytest
from h2_client import H2Client
from large_body_app import pattern

from helpers import ServerProcess

APP = "tests.http2.large_body_app:app"

INITIAL_WINDOW_SIZE = 0x4
MAX_FRAME_SIZE = 16384  # the client's default: every DATA frame must fit it

# (size, pieces, content-length, trailers): one piece or several, above and below 32 KiB.
BODIES = [
    (100_000, 1, True, False),
    (200_000, 4, False, False),
    (65_536, 1, True, True),
    (40_000, 2, True, False),
    (33_000, 1, False, True),
    (1_000, 1, True, False),
    (300_000, 3, True, False),
]


def query(size: int, pieces: int, cl: bool, trailers: bool, seed: int) -> str:
    return (f"/large?size={size}&pieces={pieces}&seed={seed}&cl={int(cl)}"
            f"&trailers={int(trailers)}")


def fetch_all(client: H2Client) -> None:
    """Requests every body of BODIES at once, with small ones in between, and checks them."""
    streams = []
    for seed, (size, pieces, cl, trailers) in enumerate(BODIES):
        streams.append((client.request("GET", query(size, pieces, cl, trailers, seed)), size,
                        seed, cl, trailers))
        streams.append((client.request("GET", f"/large?size=13&seed={seed}"), 13, seed, False,
                        False))
    for stream_id, size, seed, cl, trailers in streams:
        result = client.response(stream_id, timeout=30)
        assert result.reset is None, (stream_id, size, result.reset)
        assert result.status == 200
        assert len(result.body) == size, (size, len(result.body))
        assert result.body == pattern(size, seed), f"body of {size} bytes differs"
        if cl:
            assert result.header(b"content-length") == str(size).encode()
        if trailers:
            assert result.trailers == [(b"x-size", str(size).encode())]


def test_large_bodies_across_small_windows_arrive_intact_and_in_order(
        server: ServerProcess) -> None:
    # 10000-byte stream windows: the first frames of a large piece go straight out, the rest
    # waits for the client's WINDOW_UPDATEs, and several streams share the connection window.
    with H2Client(server.port, timeout=30, settings={INITIAL_WINDOW_SIZE: 10_000}) as client:
        fetch_all(client)


def test_large_bodies_within_wide_windows_arrive_intact(server: ServerProcess) -> None:
    # Windows that allow whole bodies: each large piece leaves in one write, after the HEADERS
    # (and whatever else) queued before it.
    with H2Client(server.port, timeout=30, settings={INITIAL_WINDOW_SIZE: 1 << 24}) as client:
        client.conn.increment_flow_control_window(1 << 24)
        client.flush()
        fetch_all(client)
        fetch_all(client)  # a second round on the same connection, streams 29 and up


def test_large_bodies_over_tls_arrive_intact(tls_server: ServerProcess,
                                             tls_context: ssl.SSLContext) -> None:
    with H2Client(tls_server.port, tls=tls_context, timeout=30,
                  settings={INITIAL_WINDOW_SIZE: 1 << 20}) as client:
        client.conn.increment_flow_control_window(1 << 20)
        client.flush()
        fetch_all(client)


@pytest.mark.parametrize("window", [10_000, 1 << 24])
def test_large_body_beyond_its_content_length_resets_only_its_stream(
        server: ServerProcess, window: int) -> None:
    with H2Client(server.port, timeout=30, settings={INITIAL_WINDOW_SIZE: window}) as client:
        client.conn.increment_flow_control_window(1 << 24)
        client.flush()
        bad = client.request("GET", "/large?size=100000&pieces=2&wrong-cl=60000")
        good = client.request("GET", "/large?size=120000&pieces=3&seed=7&cl=1")
        broken = client.response(bad)
        assert broken.reset == 2  # INTERNAL_ERROR: the app broke its own content-length
        assert len(broken.body) <= 60_000
        assert broken.body == pattern(100_000, 0)[:len(broken.body)]
        result = client.response(good)
        assert result.reset is None
        assert result.body == pattern(120_000, 7)
