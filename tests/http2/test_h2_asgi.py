"""ASGI over HTTP/2: one http scope per stream (http_version "2", pseudo-fields turned into method,
path and host), bodies both ways, streams running concurrently, the response rules of RFC 9113 8
(HEAD/204/304 without DATA, connection-specific fields dropped, trailers, 1xx), and what happens
when the app fails or the client resets its stream."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from h2_client import H2Client
from http_wire import inspect, new_token

from helpers import ServerProcess

INTERNAL_ERROR = 0x2


def test_scope_from_pseudo_fields(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        result = client.get("/scope/a%20b?x=1&y=%20", authority="example.test:8443",
                            headers=[(b"cookie", b"a=1"), (b"x-one", b"1"), (b"cookie", b"b=2"),
                                     (b"accept", b"*/*")])
    scope = json.loads(result.body)
    assert scope["method"] == "GET"
    assert scope["path"] == "/scope/a b"
    assert scope["raw_path"] == "/scope/a%20b"
    assert scope["query_string"] == "x=1&y=%20"
    assert scope["http_version"] == "2"
    headers = scope["headers"]
    assert headers[0] == ["host", "example.test:8443"]  # :authority becomes the first host field
    assert not any(name.startswith(":") for name, _ in headers)
    assert ["cookie", "a=1; b=2"] in headers  # crumbs joined (RFC 9113 8.2.3)
    assert [name for name, _ in headers].count("cookie") == 1
    assert ["x-one", "1"] in headers and ["accept", "*/*"] in headers
    assert "http.response.early_hint" in scope["extensions"]


def test_post_body_echo(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        stream = client.request("POST", "/body?echo=1", body=b"hello over h2")
        result = client.response(stream)
    assert result.status == 200 and result.body == b"hello over h2"


def test_large_upload_respects_flow_control(server: ServerProcess) -> None:
    body = bytes(range(256)) * 12288  # 3 MiB: several stream windows' worth
    with H2Client(server.port, timeout=30) as client:
        stream = client.request("POST", "/body", body=body)
        result = client.response(stream)
    summary = json.loads(result.body)
    assert summary["length"] == len(body)
    assert summary["sha256"] == hashlib.sha256(body).hexdigest()
    assert summary["ending"] == "complete"


def test_streams_run_concurrently(server: ServerProcess) -> None:
    token = new_token()
    with H2Client(server.port) as client:
        held = client.request("GET", f"/hold?token={token}")
        inspect(server.port, token)  # the first stream's app is waiting
        release = client.request("GET", f"/release?token={token}")
        assert client.response(release).status == 200
        result = client.response(held)
    assert result.status == 200 and result.body == b"released"


def test_head_keeps_content_length_and_sends_no_data(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        result = client.response(client.request("HEAD", "/sized"))
    assert result.status == 200
    assert result.header(b"content-length") == b"11"
    assert result.body == b"" and result.data_frames <= 1  # at most an empty END_STREAM frame


def test_204_and_304_carry_no_data(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        for code in (204, 304):
            result = client.get(f"/status?code={code}")
            assert result.status == code and result.body == b""


def test_connection_specific_fields_are_dropped(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        result = client.get("/hop-headers")
    names = [name for name, _ in result.headers]
    assert result.body == b"hop"
    for hop in (b"connection", b"keep-alive", b"upgrade", b"transfer-encoding"):
        assert hop not in names
    assert b"x-kept" in names and b"content-type" in names  # lower-cased on the wire
    assert result.header(b"server") == b"ruvicorn" and result.header(b"date") is not None


def test_streamed_body_and_trailers(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        streamed = client.get("/stream?chunks=4")
        trailers = client.get("/trailers")
    assert streamed.body == b"chunk0;chunk1;chunk2;chunk3;"
    assert trailers.body == b"part1;part2"
    assert trailers.trailers == [(b"x-checksum", b"abc123")]


def test_early_hints(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        result = client.get("/early-hints?n=2")
    assert [dict(h)[b":status"] for h in result.informational] == [b"103"]
    links = [v for k, v in result.informational[0] if k == b"link"]
    assert links == [b"</r0.css>; rel=preload; as=style", b"</r1.css>; rel=preload; as=style"]
    assert result.status == 200 and result.body == b"final"


def test_pathsend(server: ServerProcess, tmp_path: Path) -> None:
    data = bytes(range(256)) * 4000  # about 1 MiB: many windows' worth
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    with H2Client(server.port, timeout=30) as client:
        result = client.get(f"/pathsend?file={path}")
    assert result.status == 200 and result.body == data


def test_app_error_before_start_is_500(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        result = client.get("/raise-before?marker=secret-marker")
        no_response = client.get("/no-response")
    assert result.status == 500 and b"secret-marker" not in result.body
    assert no_response.status == 500


def test_app_error_after_start_resets_the_stream(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        result = client.get("/raise-after")
        after = client.get("/text?msg=still-here")  # the connection is fine
    assert result.reset == INTERNAL_ERROR and result.body == b"partial"
    assert after.body == b"still-here"


def test_receive_after_response_is_disconnect_with_the_body_unread(server: ServerProcess) -> None:
    token = new_token()
    with H2Client(server.port) as client:
        result = client.response(client.request("POST", f"/after-response?token={token}",
                                                body=b"0123456789"))
    assert result.body == b"answered"
    assert inspect(server.port, token) == ["http.disconnect"]


def test_waiting_receive_resolves_when_the_response_completes(server: ServerProcess) -> None:
    token = new_token()
    with H2Client(server.port) as client:
        stream = client.request("POST", f"/after-response?token={token}&read=1",
                                body=b"0123456789", end=False)
        assert client.response(stream).body == b"answered"
        assert inspect(server.port, token, count=2) == ["http.request", "http.disconnect"]


def test_app_failing_after_its_response_leaves_the_connection_alone(
        server: ServerProcess) -> None:
    # HTTP/1.1 closes the connection (as uvicorn); here the stream has ended and the other
    # streams are not the app's: the error is logged, the connection goes on.
    token, marker = new_token(), new_token()
    with H2Client(server.port) as client:
        extra = client.get(f"/after-response?token={token}&extra=1")
        returned = client.get(f"/return-value?after=1&marker={marker}")
        assert server.wait_for_stderr("after response already completed", 5)
        assert server.wait_for_stderr(f"returned 'not-none-{marker}'", 5)
        after = client.get("/text?msg=still-here")
    assert extra.body == b"answered" and extra.reset is None
    assert returned.body == b"done" and returned.reset is None
    assert after.body == b"still-here"


def test_content_length_overflow_is_an_app_error(server: ServerProcess) -> None:
    token = new_token()
    with H2Client(server.port) as client:
        result = client.get(f"/cl-mismatch?mode=more&token={token}")
    assert result.reset == INTERNAL_ERROR or result.status == 500
    [outcome] = inspect(server.port, token)
    assert outcome.startswith("RuntimeError")


def test_client_reset_is_a_disconnect_and_send_becomes_a_no_op(server: ServerProcess) -> None:
    token = new_token()
    with H2Client(server.port) as client:
        stream = client.request("POST", f"/disconnect?token={token}", end=False)
        inspect(server.port, token)  # the app is reading
        client.reset(stream)
        events = inspect(server.port, token, until="done")
        after = client.get("/text?msg=next")
    assert "http.disconnect" in events
    assert "send:ok" in events  # send() after the reset: quiet no-op
    assert after.body == b"next"


def test_expect_100_continue(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        stream = client.request("POST", "/body?echo=1", end=False,
                                headers=[(b"expect", b"100-continue")])
        client.wait(lambda: client.streams[stream].informational)
        client.send_data(stream, b"after-100", end=True)
        result = client.response(stream)
    assert dict(result.informational[0])[b":status"] == b"100"
    assert result.body == b"after-100"


def test_wrong_message_order_is_reported_like_http1(server: ServerProcess) -> None:
    token = new_token()
    with H2Client(server.port) as client:
        result = client.get(f"/order?case=body-first&token={token}")
    assert result.status == 200 and result.body == b"ok"
    [outcome] = inspect(server.port, token)
    assert outcome.startswith("RuntimeError: Expected ASGI message 'http.response.start'")
