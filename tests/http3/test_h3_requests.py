"""HTTP/3 requests through the shared ASGI cycle, with aioquic's client: the scope, bodies both
ways, streaming, trailers, HEAD and bodiless statuses, early hints, pathsend, concurrent streams,
the app's failures and the client's resets (http.disconnect)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from h3_client import H3Client, decode_section, request_fields

from helpers import ServerProcess

H3_INTERNAL_ERROR = 0x102


def test_get_scope(h3_server: ServerProcess) -> None:
    with H3Client(h3_server.port) as c:
        r = c.request("GET", "/scope?a=1&b=%20", headers=[(b"cookie", b"x=1"),
                                                          (b"cookie", b"y=2"),
                                                          (b"x-custom", b"v")])
    assert r.status == 200
    scope = json.loads(r.body)
    assert scope["http_version"] == "3"
    assert scope["scheme"] == "https"
    assert scope["method"] == "GET"
    assert scope["path"] == "/scope"
    assert scope["query_string"] == "a=1&b=%20"
    assert scope["server"] == ["127.0.0.1", h3_server.port]
    assert scope["client"][0] == "127.0.0.1"
    headers = scope["headers"]
    assert headers[0] == ["host", "localhost"]  # :authority, first
    assert ["cookie", "x=1; y=2"] in headers  # crumbs joined (RFC 9114 4.2.1)
    assert ["x-custom", "v"] in headers
    assert not any(name.startswith(":") for name, _ in headers)
    assert scope["extensions"].get("http.response.trailers") is not None


def test_response_headers(h3_server: ServerProcess) -> None:
    with H3Client(h3_server.port) as c:
        r = c.get("/text?msg=hello")
        hop = c.get("/hop-headers")
    assert (r.status, r.body) == (200, b"hello")
    assert r.header(b"content-length") == b"5"
    assert r.header(b"server") == b"ruvicorn"
    assert r.header(b"date") is not None
    assert r.header(b"alt-svc") is None  # HTTP/3 does not advertise itself
    assert hop.header(b"x-kept") == b"yes"
    for name in (b"connection", b"keep-alive", b"upgrade"):  # RFC 9114 4.2
        assert hop.header(name) is None


def test_post_bodies(h3_server: ServerProcess) -> None:
    with H3Client(h3_server.port) as c:
        small = c.request("POST", "/body?echo=1", body=b"posted over h3")
        assert (small.status, small.body) == (200, b"posted over h3")
        big = bytes(range(256)) * 8192  # 2 MiB: beyond the receive buffer and QUIC windows
        r = c.request("POST", "/body", body=big)
        assert json.loads(r.body)["sha256"] == hashlib.sha256(big).hexdigest()
        # The body in pieces as the client sends them.
        stream = c.start("POST", "/body", body=b"first;", end=False)
        c.send_body(stream, b"second;")
        c.send_body(stream, b"third", end=True)
        info = json.loads(c.wait(stream).body)
    assert info["length"] == len(b"first;second;third")
    assert info["ending"] == "complete"


def test_streaming_trailers_and_big_responses(h3_server: ServerProcess) -> None:
    with H3Client(h3_server.port) as c:
        streamed = c.get("/stream?chunks=4")
        trailers = c.get("/trailers")
        big = c.get("/big-stream?token=h3big&mib=3")
    assert streamed.body == b"chunk0;chunk1;chunk2;chunk3;"
    assert streamed.header(b"content-length") is None
    assert trailers.body == b"part1;part2"
    assert trailers.trailers == [(b"x-checksum", b"abc123")]
    assert len(big.body) == 3 * 1024 * 1024


def test_head_and_bodiless_statuses(h3_server: ServerProcess) -> None:
    # aioquic's H3Connection checks content-length against DATA even for HEAD: read the frames
    # on a connection without it.
    with H3Client(h3_server.port, h3=False) as raw:
        head = raw.raw_response(raw.raw_request(request_fields("/sized", b"HEAD")))
    with H3Client(h3_server.port) as c:
        no_content = c.get("/status?code=204")
        not_modified = c.get("/status?code=304")
    assert [t for t, _ in head] == [0x1]  # HEADERS only, no DATA
    fields = dict(decode_section(head[0][1]))
    assert fields[b":status"] == b"200"
    assert fields[b"content-length"] == b"11"  # HEAD keeps the app's length
    assert no_content.status == 204 and no_content.body == b""
    assert not_modified.status == 304 and not_modified.header(b"etag") == b'"abc"'


def test_early_hints(h3_server: ServerProcess) -> None:
    with H3Client(h3_server.port) as c:
        r = c.get("/early-hints?n=2")
    assert r.status == 200 and r.body == b"final"
    assert len(r.informational) == 1
    hint = r.informational[0]
    assert (b":status", b"103") in hint
    assert [v for n, v in hint if n == b"link"] == [
        b"</r0.css>; rel=preload; as=style", b"</r1.css>; rel=preload; as=style"]


def test_pathsend(h3_server: ServerProcess, tmp_path: Path) -> None:
    data = bytes(range(256)) * 4000
    path = tmp_path / "file.bin"
    path.write_bytes(data)
    with H3Client(h3_server.port) as c:
        r = c.get(f"/pathsend?file={path}")
    assert r.status == 200 and r.body == data


def test_concurrent_streams_on_one_connection(h3_server: ServerProcess) -> None:
    with H3Client(h3_server.port) as c:
        streams = [c.start("GET", f"/text?msg=s{i}") for i in range(40)]
        bodies = [c.wait(s).body for s in streams]
    assert bodies == [f"s{i}".encode() for i in range(40)]


def test_app_failures(h3_server: ServerProcess) -> None:
    with H3Client(h3_server.port) as c:
        before = c.get("/raise-before")
        after = c.get("/raise-after")
        nothing = c.get("/no-response")
        ok = c.get("/text?msg=still-serving")
    assert before.status == 500
    # After the response started: the stream is reset, never the connection.
    assert after.reset == H3_INTERNAL_ERROR
    assert after.body in (b"", b"partial")
    assert nothing.status == 500
    assert ok.body == b"still-serving"


def test_client_reset_is_a_disconnect(h3_server: ServerProcess) -> None:
    with H3Client(h3_server.port) as c:
        stream = c.start("POST", "/disconnect?token=h3reset", body=b"x", end=False)
        events = json.loads(c.get("/inspect?token=h3reset&count=2").body)
        assert events[:2] == ["started", "http.request"]
        c.reset(stream)
        events = json.loads(c.get("/inspect?token=h3reset&until=done").body)
    assert "http.disconnect" in events
    assert "send:ok" in events  # send() after the disconnect is a quiet no-op
    assert events[-1] == "done"


def test_receive_after_response_is_disconnect(h3_server: ServerProcess) -> None:
    with H3Client(h3_server.port) as c:
        assert c.request("POST", "/receive-after?token=h3after", body=b"abc").body == b"done"
        events = json.loads(c.get("/inspect?token=h3after").body)
    assert events == ["http.disconnect"]
