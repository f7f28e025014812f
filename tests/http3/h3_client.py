"""A small blocking HTTP/3 client on aioquic for the tests: an independent QUIC and HTTP/3 (and
QPACK, ls-qpack) implementation talking to the server over a real UDP socket.

    with H3Client(port) as c:
        r = c.request("GET", "/text?msg=hi")
        assert r.status == 200 and r.body == b"hi"

``request()``/``start()`` go through aioquic's H3Connection. For bad input a test writes raw bytes
on streams of its choice (``send_raw``) and reads what came back (``raw``): resets, STOP_SENDING
and the connection's end are all recorded, so each test can check the exact error code.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Callable

aioquic = __import__("pytest").importorskip("aioquic", reason="aioquic is not installed "
                                            "(pip install 'ruvicorn[http3]' or aioquic)")

from aioquic.buffer import Buffer, encode_uint_var  # noqa: E402
from aioquic.h3 import events as h3e  # noqa: E402
from aioquic.h3.connection import H3_ALPN, H3Connection  # noqa: E402
from aioquic.quic import events as qe  # noqa: E402
from aioquic.quic.configuration import QuicConfiguration  # noqa: E402
from aioquic.quic.connection import QuicConnection  # noqa: E402
from aioquic.tls import CipherSuite  # noqa: E402

TIMEOUT = 30.0  # generous: CI runs these against a sanitized server too


def varint(value: int) -> bytes:
    return encode_uint_var(value)


def frame(frame_type: int, payload: bytes) -> bytes:
    return varint(frame_type) + varint(len(payload)) + payload


def parse_frames(data: bytes) -> list[tuple[int, bytes]]:
    """The HTTP/3 frames of a stream's bytes: (type, payload)."""
    buf = Buffer(data=data)
    frames = []
    while not buf.eof():
        frame_type = buf.pull_uint_var()
        length = buf.pull_uint_var()
        frames.append((frame_type, buf.pull_bytes(length)))
    return frames


@dataclass
class Response:
    stream_id: int
    status: int = 0
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)
    body: bytes = b""
    trailers: list[tuple[bytes, bytes]] = field(default_factory=list)
    informational: list[list[tuple[bytes, bytes]]] = field(default_factory=list)
    ended: bool = False
    reset: int | None = None  # the server's RESET_STREAM error code

    def header(self, name: bytes) -> bytes | None:
        for n, v in self.headers:
            if n == name:
                return v
        return None


class H3Client:
    def __init__(self, port: int, host: str = "127.0.0.1", *, handshake: bool = True,
                 h3: bool = True, alpn: list[str] | None = None,
                 sock: socket.socket | None = None, max_datagram_size: int = 1350,
                 cipher_suites: list[int] | None = None) -> None:
        config = QuicConfiguration(is_client=True, alpn_protocols=alpn or H3_ALPN,
                                   verify_mode=ssl.CERT_NONE, server_name="localhost",
                                   max_datagram_size=max_datagram_size)
        if cipher_suites is not None:
            config.cipher_suites = [CipherSuite(c) for c in cipher_suites]
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = sock or socket.socket(family, socket.SOCK_DGRAM)
        self.sock.setblocking(False)
        self.addr = (host, port)
        self.quic = QuicConnection(configuration=config)
        self.h3 = H3Connection(self.quic) if h3 else None
        self.responses: dict[int, Response] = {}
        self.raw: dict[int, bytes] = {}           # bytes per stream (raw mode, and always for uni)
        self.raw_ended: set[int] = set()
        self.resets: dict[int, int] = {}          # stream -> RESET_STREAM code from the server
        self.stops: dict[int, int] = {}           # stream -> STOP_SENDING code from the server
        self.terminated: qe.ConnectionTerminated | None = None
        self.handshake_done = False
        self.retried = False
        self.datagrams_in = 0
        self.quic.connect(self.addr, now=time.monotonic())
        self._transmit()
        if handshake:
            self.run_until(lambda: self.handshake_done, what="handshake")

    def __enter__(self) -> H3Client:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        if self.terminated is None:
            self.quic.close()
            self._transmit()
        self.sock.close()

    # --- the loop --------------------------------------------------------------------------

    def _transmit(self) -> None:
        for data, addr in self.quic.datagrams_to_send(now=time.monotonic()):
            try:
                self.sock.sendto(data, addr)
            except OSError:
                pass

    def step(self, timeout: float) -> None:
        """Waits up to ``timeout`` for a datagram or the QUIC timer, then handles it."""
        timer = self.quic.get_timer()
        now = time.monotonic()
        wait = timeout if timer is None else max(0.0, min(timeout, timer - now))
        readable, _, _ = select.select([self.sock], [], [], wait)
        if readable:
            while True:
                try:
                    data, addr = self.sock.recvfrom(65536)
                except BlockingIOError:
                    break
                self.datagrams_in += 1
                self.quic.receive_datagram(data, addr, now=time.monotonic())
        elif timer is not None and time.monotonic() >= timer:
            self.quic.handle_timer(now=time.monotonic())
        self._handle_events()
        self._transmit()

    def run_until(self, done: Callable[[], bool], timeout: float = TIMEOUT,
                  what: str = "condition") -> None:
        deadline = time.monotonic() + timeout
        while not done():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"HTTP/3 client: no {what} within {timeout} s")
            if self.terminated is not None and not done():
                raise ConnectionError(f"connection ended: {self.terminated}")
            self.step(min(remaining, 0.1))

    def _handle_events(self) -> None:
        while (event := self.quic.next_event()) is not None:
            if isinstance(event, qe.HandshakeCompleted):
                self.handshake_done = True
            elif isinstance(event, qe.ConnectionTerminated):
                self.terminated = event
            elif isinstance(event, qe.StreamReset):
                self.resets[event.stream_id] = event.error_code
                if event.stream_id in self.responses:
                    self.responses[event.stream_id].reset = event.error_code
            elif isinstance(event, qe.StopSendingReceived):
                self.stops[event.stream_id] = event.error_code
            elif isinstance(event, qe.StreamDataReceived):
                self.raw[event.stream_id] = self.raw.get(event.stream_id, b"") + event.data
                if event.end_stream:
                    self.raw_ended.add(event.stream_id)
            if self.h3 is not None:
                try:
                    h3_events = self.h3.handle_event(event)
                except Exception:  # raw tests may confuse aioquic's own state
                    h3_events = []
                for h3_event in h3_events:
                    self._h3_event(h3_event)

    def _h3_event(self, event: h3e.H3Event) -> None:
        if isinstance(event, h3e.HeadersReceived):
            r = self.responses.setdefault(event.stream_id, Response(event.stream_id))
            status = dict(event.headers).get(b":status")
            if r.status and status is None or (r.status and r.status >= 200):
                r.trailers = list(event.headers)
            elif status is not None and int(status) < 200:
                r.informational.append(list(event.headers))
            else:
                r.status = int(status or 0)
                r.headers = [(n, v) for n, v in event.headers if not n.startswith(b":")]
            r.ended = r.ended or event.stream_ended
        elif isinstance(event, h3e.DataReceived):
            r = self.responses.setdefault(event.stream_id, Response(event.stream_id))
            r.body += event.data
            r.ended = r.ended or event.stream_ended

    # --- requests --------------------------------------------------------------------------

    def start(self, method: str, path: str, headers: list[tuple[bytes, bytes]] | None = None,
              body: bytes | None = b"", end: bool = True, authority: str = "localhost") -> int:
        """Sends a request's HEADERS (and body, ending the stream when ``end``); returns the
        stream id."""
        assert self.h3 is not None
        stream_id = self.quic.get_next_available_stream_id()
        fields = [(b":method", method.encode()), (b":scheme", b"https"),
                  (b":authority", authority.encode()), (b":path", path.encode()),
                  *(headers or [])]
        self.responses[stream_id] = Response(stream_id)
        self.h3.send_headers(stream_id, fields, end_stream=end and not body)
        if body:
            self.h3.send_data(stream_id, body, end_stream=end)
        self._transmit()
        return stream_id

    def send_body(self, stream_id: int, data: bytes, end: bool = False) -> None:
        assert self.h3 is not None
        self.h3.send_data(stream_id, data, end_stream=end)
        self._transmit()

    def wait(self, stream_id: int, timeout: float = TIMEOUT) -> Response:
        r = self.responses[stream_id]
        self.run_until(lambda: r.ended or r.reset is not None, timeout, f"response on {stream_id}")
        return r

    def request(self, method: str, path: str, headers: list[tuple[bytes, bytes]] | None = None,
                body: bytes = b"", timeout: float = TIMEOUT) -> Response:
        return self.wait(self.start(method, path, headers, body), timeout)

    def get(self, path: str, timeout: float = TIMEOUT) -> Response:
        return self.request("GET", path, timeout=timeout)

    # --- raw streams -----------------------------------------------------------------------

    def send_raw(self, stream_id: int, data: bytes, end: bool = False) -> None:
        self.quic.send_stream_data(stream_id, data, end_stream=end)
        self._transmit()

    def new_stream(self, unidirectional: bool = False) -> int:
        return self.quic.get_next_available_stream_id(is_unidirectional=unidirectional)

    def reset(self, stream_id: int, code: int = 0x10C) -> None:
        self.quic.reset_stream(stream_id, code)
        self._transmit()

    def stop(self, stream_id: int, code: int = 0x10C) -> None:
        self.quic.stop_stream(stream_id, code)
        self._transmit()

    def raw_request(self, fields: list[tuple[bytes, bytes]], body: bytes = b"",
                    end: bool = True) -> int:
        """A request written frame by frame on a new stream (for what aioquic's H3Connection
        would not send or would misread, such as HEAD responses with a content-length; use a
        client made with h3=False, whose H3Connection does not see these streams)."""
        stream_id = self.new_stream()
        data = frame(0x1, section(fields))
        if body:
            data += frame(0x0, body)
        self.send_raw(stream_id, data, end)
        return stream_id

    def raw_response(self, stream_id: int, timeout: float = TIMEOUT) -> list[tuple[int, bytes]]:
        """The frames the server sent on the stream, once it ended it (or reset it)."""
        self.run_until(lambda: stream_id in self.raw_ended or stream_id in self.resets, timeout,
                       f"the end of stream {stream_id}")
        return parse_frames(self.raw.get(stream_id, b""))

    def wait_closed(self, timeout: float = TIMEOUT) -> qe.ConnectionTerminated:
        deadline = time.monotonic() + timeout
        while self.terminated is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("the server did not close the connection")
            self.step(min(remaining, 0.1))
        return self.terminated


def control_stream(settings: bytes | None = None) -> bytes:
    """A client control stream's opening: its type and SETTINGS (QPACK without a table)."""
    if settings is None:
        settings = varint(0x1) + varint(0) + varint(0x7) + varint(0)
    return varint(0x00) + frame(0x4, settings)


def section(fields: list[tuple[bytes, bytes]]) -> bytes:
    """A QPACK field section (ls-qpack's encoder, no dynamic table)."""
    import pylsqpack

    encoder = pylsqpack.Encoder()
    _, block = encoder.encode(0, fields)
    return block


def decode_section(block: bytes) -> list[tuple[bytes, bytes]]:
    import pylsqpack

    decoder = pylsqpack.Decoder(0, 0)
    _, fields = decoder.feed_header(0, block)
    return list(fields)


def request_fields(path: str = "/text", method: bytes = b"GET") -> list[tuple[bytes, bytes]]:
    return [(b":method", method), (b":scheme", b"https"), (b":authority", b"localhost"),
            (b":path", path.encode())]
