"""Stream accounting over HTTP/2: a stream the client resets keeps its concurrency slot until its
app task ends (CVE-2025-8671, MadeYouReset: resets cannot be used to run unbounded app tasks),
--limit-concurrency answers 503 per stream, a header block that never ends is cut off after
--timeout-request-header, and the access log names HTTP/2."""

from __future__ import annotations

import time

from h2_client import H2Client, RawH2, StreamResult
from h2_support import REPO, server_args
from http_wire import get, inspect, new_token

from helpers import run_server

REFUSED_STREAM = 0x7
GOAWAY = 0x7


def test_reset_streams_hold_their_slots_until_their_tasks_end() -> None:
    with run_server(server_args(["--http2-max-concurrent-streams", "2"]),
                    cwd=str(REPO)) as server:
        tokens = [new_token(), new_token()]
        with H2Client(server.port) as client:
            held = [client.request("GET", f"/hold?token={t}") for t in tokens]
            for token in tokens:
                inspect(server.port, token)  # both apps run
            for stream in held:
                client.reset(stream)
            # The client thinks both slots are free; the server still runs both tasks.
            refused = client.request("GET", "/text?msg=third")
            result = client.response(refused)
            assert result.reset == REFUSED_STREAM
            for token in tokens:
                get(server.port, f"/release?token={token}")
            # Once the tasks have ended the slots are free again.
            deadline = time.monotonic() + 10
            while True:
                result = client.response(client.request("GET", "/text?msg=later"))
                if result.reset is None:
                    break
                assert result.reset == REFUSED_STREAM
                assert time.monotonic() < deadline, "slots never came back"
            assert result.body == b"later"


def test_limit_concurrency_answers_503_per_stream() -> None:
    with run_server(server_args(["--limit-concurrency", "1"]), cwd=str(REPO)) as server:
        with H2Client(server.port) as client:
            # Both streams in one write: the first app task runs when the second stream
            # arrives. /hold answers by itself after 1 s (a release would need a new request).
            held = client.conn.get_next_available_stream_id()
            client.conn.send_headers(held, [(b":method", b"GET"), (b":scheme", b"http"),
                                            (b":path", b"/hold?token=limit&timeout=1"),
                                            (b":authority", b"x")], end_stream=True)
            second = held + 2
            client.conn.send_headers(second, [(b":method", b"GET"), (b":scheme", b"http"),
                                              (b":path", b"/text?msg=x"), (b":authority", b"x")],
                                     end_stream=True)
            client.streams[held] = StreamResult()
            client.streams[second] = StreamResult()
            client.flush()
            assert client.response(second).status == 503
            assert client.response(held).body == b"released"


def test_header_block_that_never_ends_is_cut_off() -> None:
    with run_server(server_args(["--timeout-request-header", "1"]), cwd=str(REPO)) as server:
        with RawH2(server.port) as raw:
            raw.settle()  # no SETTINGS ACK of ours may land inside the block
            block = raw.encoder.encode([(":method", "GET"), (":path", "/text"),
                                        (":scheme", "http"), (":authority", "x")])
            # HEADERS without END_HEADERS: CONTINUATION must follow, and never does.
            raw.sock.sendall(raw.frame(0x1, 0x1, 1, block[:3]))
            started = time.monotonic()
            frames = raw.frames_until_eof(timeout=10)
            elapsed = time.monotonic() - started
        assert any(t == GOAWAY for t, _, _, _ in frames)
        assert 0.9 <= elapsed < 5
        assert get(server.port, "/text?msg=alive").body == b"alive"


def test_access_log_names_http2() -> None:
    args = [a for a in server_args([]) if a != "--no-access-log"]
    with run_server(args, cwd=str(REPO)) as server:
        with H2Client(server.port) as client:
            assert client.get("/text?msg=logged").status == 200
        assert server.wait_for_stdout('"GET /text?msg=logged HTTP/2" 200', timeout=10), \
            server.stdout_text()
