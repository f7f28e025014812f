"""Bad HTTP/3 input over real QUIC connections (aioquic's, writing raw frames): every case gets
the error code RFC 9114 section 8 / RFC 9204 section 6 names (a connection error closes the
connection with it, a stream error resets the stream), costs bounded memory, and the server keeps
serving other clients. Floods: stream opens and resets, garbage datagrams, Initial packets from
addresses that never answer (spoofed), oversize header sections (refused before buffered)."""

from __future__ import annotations

import os
import socket
import ssl
import time

import pytest
from h3_client import (
    H3Client,
    control_stream,
    decode_section,
    frame,
    request_fields,
    section,
    varint,
)
from h3_support import assert_grew_less

from helpers import ServerProcess, rss

H3_NO_ERROR = 0x100
H3_STREAM_CREATION_ERROR = 0x103
H3_CLOSED_CRITICAL_STREAM = 0x104
H3_FRAME_UNEXPECTED = 0x105
H3_FRAME_ERROR = 0x106
H3_EXCESSIVE_LOAD = 0x107
H3_ID_ERROR = 0x108
H3_SETTINGS_ERROR = 0x109
H3_MISSING_SETTINGS = 0x10A
H3_REQUEST_INCOMPLETE = 0x10D
H3_MESSAGE_ERROR = 0x10E
QPACK_DECOMPRESSION_FAILED = 0x200
QPACK_ENCODER_STREAM_ERROR = 0x201
QPACK_DECODER_STREAM_ERROR = 0x202

HEADERS = frame(0x1, section(request_fields()))

# (what the client writes on a request stream, whether it ends the stream, the code)
REQUEST_STREAM_ERRORS = {
    "data-before-headers": (frame(0x0, b"x"), False, H3_FRAME_UNEXPECTED),
    "settings-on-request-stream": (HEADERS + frame(0x4, b""), False, H3_FRAME_UNEXPECTED),
    "goaway-on-request-stream": (frame(0x7, varint(0)), False, H3_FRAME_UNEXPECTED),
    "push-promise-from-client": (frame(0x5, varint(0)), False, H3_FRAME_UNEXPECTED),
    "http2-priority-frame": (frame(0x2, b""), False, H3_FRAME_UNEXPECTED),
    "http2-continuation-frame": (frame(0x9, b""), False, H3_FRAME_UNEXPECTED),
    "data-after-trailers": (HEADERS + frame(0x1, section([(b"x-t", b"1")])) + frame(0x0, b"x"),
                            False, H3_FRAME_UNEXPECTED),
    "truncated-frame-at-fin": (HEADERS[:-2], True, H3_FRAME_ERROR),
    "qpack-dynamic-reference": (frame(0x1, b"\x00\x00\x80"), False, QPACK_DECOMPRESSION_FAILED),
    "qpack-required-insert-count": (frame(0x1, b"\x02\x00\xd1"), False,
                                    QPACK_DECOMPRESSION_FAILED),
    "qpack-bad-static-index": (frame(0x1, b"\x00\x00\xff\x24"), False,
                               QPACK_DECOMPRESSION_FAILED),
    "qpack-bad-huffman": (frame(0x1, b"\x00\x00\x51\x81\x00"), False, QPACK_DECOMPRESSION_FAILED),
}

# (bytes on client unidirectional streams, in order, and whether the last one ends, the code)
UNI_STREAM_ERRORS = {
    "control-without-settings": ([varint(0) + frame(0x7, varint(0))], False, H3_MISSING_SETTINGS),
    "second-settings": ([control_stream() + frame(0x4, b"")], False, H3_FRAME_UNEXPECTED),
    "http2-setting": ([varint(0) + frame(0x4, varint(0x2) + varint(1))], False, H3_SETTINGS_ERROR),
    "duplicate-setting": ([varint(0) + frame(0x4, (varint(0x6) + varint(1)) * 2)], False,
                          H3_SETTINGS_ERROR),
    "data-on-control-stream": ([control_stream() + frame(0x0, b"x")], False,
                               H3_FRAME_UNEXPECTED),
    "control-stream-closed": ([control_stream()], True, H3_CLOSED_CRITICAL_STREAM),
    "second-control-stream": ([control_stream(), control_stream()], False,
                              H3_STREAM_CREATION_ERROR),
    "push-stream-from-client": ([varint(0x1) + varint(0)], False, H3_STREAM_CREATION_ERROR),
    "cancel-push-never-promised": ([control_stream() + frame(0x3, varint(0))], False,
                                   H3_ID_ERROR),
    "max-push-id-decreasing": ([control_stream() + frame(0xD, varint(5)) + frame(0xD, varint(1))],
                               False, H3_ID_ERROR),
    "qpack-encoder-insert": ([varint(0x2) + b"\xc0\x01x"], False, QPACK_ENCODER_STREAM_ERROR),
    "qpack-encoder-capacity": ([varint(0x2) + b"\x3f\xe1\x1f"], False,
                               QPACK_ENCODER_STREAM_ERROR),
    "qpack-section-ack": ([varint(0x3) + b"\x80"], False, QPACK_DECODER_STREAM_ERROR),
    "qpack-insert-count-increment": ([varint(0x3) + b"\x01"], False, QPACK_DECODER_STREAM_ERROR),
}


def still_serving(server: ServerProcess) -> None:
    with H3Client(server.port) as other:
        assert other.get("/text?msg=alive").body == b"alive"


@pytest.mark.parametrize("case", sorted(REQUEST_STREAM_ERRORS))
def test_request_stream_connection_errors(h3_server: ServerProcess, case: str) -> None:
    data, end, code = REQUEST_STREAM_ERRORS[case]
    with H3Client(h3_server.port, h3=False) as c:
        c.send_raw(c.new_stream(), data, end)
        assert c.wait_closed().error_code == code
    still_serving(h3_server)


@pytest.mark.parametrize("case", sorted(UNI_STREAM_ERRORS))
def test_unidirectional_stream_connection_errors(h3_server: ServerProcess, case: str) -> None:
    streams, end, code = UNI_STREAM_ERRORS[case]
    with H3Client(h3_server.port, h3=False) as c:
        for i, data in enumerate(streams):
            c.send_raw(c.new_stream(unidirectional=True), data, end and i == len(streams) - 1)
        assert c.wait_closed().error_code == code
    still_serving(h3_server)


MALFORMED = {  # RFC 9114 4.1.2 / 4.3: the HTTP/2 rules, a stream error H3_MESSAGE_ERROR
    "missing-path": [(b":method", b"GET"), (b":scheme", b"https"), (b":authority", b"a")],
    "missing-scheme": [(b":method", b"GET"), (b":path", b"/"), (b":authority", b"a")],
    "duplicate-method": request_fields() + [(b":method", b"GET")],
    "response-pseudo-header": request_fields() + [(b":status", b"200")],
    "pseudo-after-regular": [(b":method", b"GET"), (b"x-a", b"1"), (b":path", b"/"),
                             (b":scheme", b"https")],
    "uppercase-name": request_fields() + [(b"X-Upper", b"1")],
    "connection-header": request_fields() + [(b"connection", b"keep-alive")],
    "transfer-encoding": request_fields() + [(b"transfer-encoding", b"chunked")],
    "te-not-trailers": request_fields() + [(b"te", b"gzip")],
    "protocol-without-connect": request_fields() + [(b":protocol", b"websocket")],
    "empty-path": [(b":method", b"GET"), (b":scheme", b"https"), (b":path", b"")],
    "host-differs-from-authority": request_fields() + [(b"host", b"elsewhere")],
}


def test_malformed_requests_are_stream_errors(h3_server: ServerProcess) -> None:
    with H3Client(h3_server.port, h3=False) as c:
        streams = {}
        for name, fields in MALFORMED.items():
            streams[name] = c.raw_request(fields)
        # The content-length rules (4.1.2): more or fewer DATA bytes than it says.
        cl = request_fields("/body", b"POST") + [(b"content-length", b"3")]
        streams["content-length-exceeded"] = c.raw_request(cl, b"abcd")
        streams["content-length-short"] = c.raw_request(cl, b"ab")
        c.run_until(lambda: all(s in c.resets for s in streams.values()), what="resets")
        assert {name: c.resets[s] for name, s in streams.items()} == {
            name: H3_MESSAGE_ERROR for name in streams}
        # A stream that ends before its HEADERS (4.1.2: H3_REQUEST_INCOMPLETE).
        empty = c.new_stream()
        c.send_raw(empty, frame(0x21, b"grease"), end=True)
        c.run_until(lambda: empty in c.resets, what="a reset")
        assert c.resets[empty] == H3_REQUEST_INCOMPLETE
        # The connection itself is fine: a good request on it is answered.
        ok = c.raw_response(c.raw_request(request_fields("/text?msg=ok")))
        assert ok[-1] == (0x0, b"ok")
    assert c.terminated is None or c.terminated.error_code == 0


def test_oversize_header_section_is_refused_before_it_is_buffered(
        h3_server: ServerProcess) -> None:
    with H3Client(h3_server.port, h3=False) as c:
        stream = c.new_stream()
        # A HEADERS frame that announces 1 MiB (the limit is 64 KiB) and its first KiB: the 431
        # comes before the rest is sent, so nothing like the whole section is ever held.
        start = section(request_fields()) + b"\x27\x03x-big\x7f\x81\xff\x3f" + b"a" * 1000
        c.send_raw(stream, varint(0x1) + varint(1 << 20) + start)
        frames = c.raw_response(stream)
        status = dict(decode_section(frames[0][1]))[b":status"]
        assert status == b"431"
        c.run_until(lambda: stream in c.stops, what="STOP_SENDING")
        assert c.stops[stream] == H3_NO_ERROR  # RFC 9114 4.1.1: the rest is not needed
        # Small on the wire but over the limit once decoded: 431 too.
        many = request_fields() + [(b"x-" + str(i).encode(), b"v" * 200) for i in range(400)]
        frames = c.raw_response(c.raw_request(many))
        assert dict(decode_section(frames[0][1]))[b":status"] == b"431"
        ok = c.raw_response(c.raw_request(request_fields("/text?msg=ok")))
        assert ok[-1] == (0x0, b"ok")


def test_unknown_stream_types_and_frames_are_ignored(h3_server: ServerProcess) -> None:
    with H3Client(h3_server.port, h3=False) as c:
        c.send_raw(c.new_stream(unidirectional=True), control_stream() + frame(0x21, b"x" * 100))
        grease = c.new_stream(unidirectional=True)
        c.send_raw(grease, varint(0x1F * 7 + 0x21) + b"ignored bytes")
        c.run_until(lambda: grease in c.stops, what="STOP_SENDING")
        assert c.stops[grease] == H3_STREAM_CREATION_ERROR  # RFC 9114 6.2.3
        stream = c.new_stream()
        c.send_raw(stream, frame(0x2F, b"unknown") + HEADERS + frame(0x21, b""), end=True)
        assert c.raw_response(stream)[-1][0] == 0x0
        assert c.terminated is None


def test_flood_of_stream_opens_and_resets(h3_server: ServerProcess) -> None:
    before = rss(h3_server.pid)
    with H3Client(h3_server.port, h3=False) as c:
        opened = 0
        while c.terminated is None and opened < 3000:
            # As many streams as QUIC lets the client open, each reset right after its HEADERS
            # (Rapid Reset, CVE-2023-44487): the server's budget of client resets runs out.
            batch = []
            while len(batch) < 20 and c.new_stream() // 4 < c.quic._remote_max_streams_bidi:
                stream = c.new_stream()
                c.quic.send_stream_data(stream, frame(0x1, section(request_fields("/park"))))
                batch.append(stream)
            for stream in batch:
                c.quic.reset_stream(stream, 0x10C)
            c.step(0.01)
            opened += len(batch)
            for _ in range(3):
                c.step(0.005)
        assert c.wait_closed().error_code == H3_EXCESSIVE_LOAD
    assert_grew_less(before, rss(h3_server.pid), 32 * 1024 * 1024)
    still_serving(h3_server)


def test_garbage_datagrams(h3_server: ServerProcess) -> None:
    before = rss(h3_server.pid)
    rng = os.urandom
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.setblocking(False)
        replies = 0
        for i in range(6000):
            kind = i % 6
            if kind == 0:
                data = rng(1 + i % 1400)  # noise
            elif kind == 1:
                data = bytes([0x40]) + rng(40)  # a short header for a connection id nobody has
            elif kind == 2:  # a long header of QUIC v1, Initial, too small to be answered
                data = b"\xc0\x00\x00\x00\x01\x08" + rng(8) + b"\x08" + rng(8) + rng(100)
            elif kind == 3:  # an unknown version, 1200 bytes: a Version Negotiation reply
                data = b"\xc0\x0a\x0a\x0a\x0a\x08" + rng(8) + b"\x08" + rng(8) + rng(1180)
            elif kind == 4:  # an Initial with a token that is not ours
                data = (b"\xc0\x00\x00\x00\x01\x08" + rng(8) + b"\x08" + rng(8) + b"\x10"
                        + rng(16) + rng(1170))
            else:  # an Initial of the right size full of noise
                data = b"\xc0\x00\x00\x00\x01\x08" + rng(8) + b"\x08" + rng(8) + b"\x00" + rng(1180)
            try:
                sock.sendto(data, ("127.0.0.1", h3_server.port))
            except BlockingIOError:
                time.sleep(0.001)
            if i % 200 == 0:
                time.sleep(0.002)  # do not overflow the socket buffers (that is not the test)
                while True:
                    try:
                        reply = sock.recv(65536)
                    except BlockingIOError:
                        break
                    replies += 1
                    # Version Negotiation only: noise in Initials holds no state, earns no Retry.
                    assert reply[0] & 0x80 and reply[1:5] == b"\x00\x00\x00\x00"
    still_serving(h3_server)
    assert h3_server.proc.poll() is None
    assert_grew_less(before, rss(h3_server.pid), 32 * 1024 * 1024)


def initial_from_new_client() -> bytes:
    """A real client Initial (aioquic's) that will never be followed up."""
    from aioquic.quic.configuration import QuicConfiguration
    from aioquic.quic.connection import QuicConnection

    quic = QuicConnection(configuration=QuicConfiguration(
        is_client=True, alpn_protocols=["h3"], verify_mode=ssl.CERT_NONE))
    quic.connect(("127.0.0.1", 1), now=time.monotonic())
    return quic.datagrams_to_send(now=time.monotonic())[0][0]


def test_spoofed_initials_are_answered_with_retry(h3_server: ServerProcess) -> None:
    # Initials from 200 addresses that never answer, as from spoofed sources: the server keeps
    # state for a bounded number of them, then asks new clients to prove their address (Retry).
    before = rss(h3_server.pid)
    sockets = []
    for _ in range(200):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setblocking(False)
        sock.sendto(initial_from_new_client(), ("127.0.0.1", h3_server.port))
        sockets.append(sock)
    deadline = time.monotonic() + 10
    kinds: dict[int, str] = {}
    while time.monotonic() < deadline and len(kinds) < len(sockets):
        for i, sock in enumerate(sockets):
            try:
                reply = sock.recv(65536)
            except BlockingIOError:
                continue
            if i not in kinds:
                kinds[i] = "retry" if reply[0] & 0xF0 == 0xF0 else "handshake"
        time.sleep(0.02)
    for sock in sockets:
        sock.close()
    retries = sum(1 for kind in kinds.values() if kind == "retry")
    handshakes = sum(1 for kind in kinds.values() if kind == "handshake")
    assert handshakes <= 64 < handshakes + retries
    assert retries >= 100
    # A real client gets through: it answers the Retry with its token.
    with H3Client(h3_server.port) as c:
        assert c.get("/text?msg=validated").body == b"validated"
    assert_grew_less(before, rss(h3_server.pid), 48 * 1024 * 1024)
