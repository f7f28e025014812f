"""Streams the server answers itself (503 over --limit-concurrency, 500 when a stream cannot be
started) give their concurrency slot back: otherwise, after --http2-max-concurrent-streams such
answers, a connection refuses every new stream."""

from __future__ import annotations

from h2_client import H2Client, StreamResult
from h2_support import REPO, server_args

from helpers import run_server


def test_streams_answered_503_do_not_keep_their_slots() -> None:
    args = server_args(["--limit-concurrency", "1", "--http2-max-concurrent-streams", "4"])
    with run_server(args, cwd=str(REPO)) as server:
        with H2Client(server.port) as client:
            for round_no in range(5):  # 5 x 3 refused streams: more than 4 slots
                # One /hold keeps the limit reached while three more streams arrive with it.
                held = client.conn.get_next_available_stream_id()
                streams = [held + 2 * i for i in range(4)]
                paths = [f"/hold?token=slots{round_no}&timeout=0.2"] + ["/text?msg=x"] * 3
                for stream, path in zip(streams, paths):
                    client.conn.send_headers(stream, [
                        (b":method", b"GET"), (b":scheme", b"http"), (b":path", path.encode()),
                        (b":authority", b"x")], end_stream=True)
                    client.streams[stream] = StreamResult()
                client.flush()
                results = [client.response(stream) for stream in streams]
                assert [r.reset for r in results] == [None] * 4, results
                assert results[0].body == b"released"
                assert [r.status for r in results[1:]] == [503] * 3
            # Every slot came back: a normal request still gets through.
            assert client.get("/text?msg=after").body == b"after"
