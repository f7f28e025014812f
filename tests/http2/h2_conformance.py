"""HTTP/2 conformance cases and attack scenarios for any cleartext (prior-knowledge) server.

The h2spec case list (generic, http2 3.5 to 8.2, hpack) with the answers RFC 9113 requires, as
collected in shared/http2-conformance.md, plus the known HTTP/2 denial-of-service attacks, each
checking the answer (GOAWAY code, RST_STREAM code, or close) and that a second connection is
still served afterwards. Raw sockets, hand-built frames, and a stateless HPACK writer of our own
(static-table references and literals; the ``hpack`` package decodes the server's blocks and
provides the static table and the Huffman code), so that every byte on the wire is deliberate.

Nothing here knows the server under test. A :class:`Target` names it::

    target = Target("127.0.0.1", 8000, get_path="/", echo_path="/echo")
    for case_id, run in CASES.items():
        run(target)                     # raises CaseFailed with what was expected and seen
    run_group("http2/6.5", "127.0.0.1", 8000)   # -> {case id: failure text or None}

Requirements on the server: ``get_path`` answers GET (and HEAD) with status 200 and at least 5
body bytes; ``echo_path`` answers POST with the request body; request header lists of about 8 KB
are accepted. Every wait is bounded by ``Target.timeout``; a case never blocks longer than a few
of them.
"""

from __future__ import annotations

import errno
import select
import socket
import struct
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import hpack
from hpack.huffman import HuffmanEncoder
from hpack.huffman_constants import REQUEST_CODES, REQUEST_CODES_LENGTH
from hpack.table import HeaderTable

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

# Frame types and flags (RFC 9113 6).
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE = 0x0, 0x1, 0x2, 0x3, 0x4, 0x5
PING, GOAWAY, WINDOW_UPDATE, CONTINUATION = 0x6, 0x7, 0x8, 0x9
END_STREAM = ACK = 0x1
END_HEADERS, PADDED, PRIORITY_FLAG = 0x4, 0x8, 0x20

# Error codes (RFC 9113 7).
NO_ERROR, PROTOCOL_ERROR, INTERNAL_ERROR, FLOW_CONTROL_ERROR = 0x0, 0x1, 0x2, 0x3
SETTINGS_TIMEOUT, STREAM_CLOSED, FRAME_SIZE_ERROR, REFUSED_STREAM = 0x4, 0x5, 0x6, 0x7
CANCEL, COMPRESSION_ERROR, CONNECT_ERROR, ENHANCE_YOUR_CALM = 0x8, 0x9, 0xA, 0xB
ERROR_NAMES = {
    0x0: "NO_ERROR", 0x1: "PROTOCOL_ERROR", 0x2: "INTERNAL_ERROR", 0x3: "FLOW_CONTROL_ERROR",
    0x4: "SETTINGS_TIMEOUT", 0x5: "STREAM_CLOSED", 0x6: "FRAME_SIZE_ERROR",
    0x7: "REFUSED_STREAM", 0x8: "CANCEL", 0x9: "COMPRESSION_ERROR", 0xA: "CONNECT_ERROR",
    0xB: "ENHANCE_YOUR_CALM", 0xC: "INADEQUATE_SECURITY", 0xD: "HTTP_1_1_REQUIRED",
}

# SETTINGS parameters (RFC 9113 6.5.2).
HEADER_TABLE_SIZE, ENABLE_PUSH, MAX_CONCURRENT_STREAMS = 0x1, 0x2, 0x3
INITIAL_WINDOW_SIZE, MAX_FRAME_SIZE, MAX_HEADER_LIST_SIZE = 0x4, 0x5, 0x6

DEFAULT_MAX_FRAME_SIZE = 16384
MAX_WINDOW = 2**31 - 1


class CaseFailed(AssertionError):
    """A case saw something other than what RFC 9113 requires."""


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    get_path: str = "/"        # GET/HEAD: 200 with at least 5 body bytes
    echo_path: str = "/echo"   # POST: 200 echoing the body
    authority: str = ""        # :authority (default host:port)
    timeout: float = 5.0       # bound of every wait
    strict: bool = True        # errors must arrive as GOAWAY / RST_STREAM with the right code

    @property
    def host_header(self) -> str:
        return self.authority or f"{self.host}:{self.port}"


# --- frames and HPACK ------------------------------------------------------------------------

def frame(ftype: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + struct.pack(
        ">I", stream) + payload


def settings_frame(values: dict[int, int] | None = None, ack: bool = False) -> bytes:
    payload = b"".join(struct.pack(">HI", k, v) for k, v in (values or {}).items())
    return frame(SETTINGS, ACK if ack else 0, 0, payload)


def ping_frame(data: bytes = b"h2ping!!", ack: bool = False, stream: int = 0) -> bytes:
    return frame(PING, ACK if ack else 0, stream, data)


def window_update_frame(stream: int, increment: int) -> bytes:
    return frame(WINDOW_UPDATE, 0, stream, struct.pack(">I", increment))


def rst_stream_frame(stream: int, code: int) -> bytes:
    return frame(RST_STREAM, 0, stream, struct.pack(">I", code))


def priority_frame(stream: int, dependency: int, weight: int = 15,
                   exclusive: bool = False) -> bytes:
    dep = dependency | (0x80000000 if exclusive else 0)
    return frame(PRIORITY, 0, stream, struct.pack(">IB", dep, weight))


def goaway_frame(last_stream: int, code: int, debug: bytes = b"") -> bytes:
    return frame(GOAWAY, 0, 0, struct.pack(">II", last_stream, code) + debug)


def data_frame(stream: int, data: bytes, end_stream: bool = False, pad: int | None = None) -> bytes:
    flags = END_STREAM if end_stream else 0
    if pad is not None:
        return frame(DATA, flags | PADDED, stream, bytes([pad]) + data + b"\0" * pad)
    return frame(DATA, flags, stream, data)


_HUFFMAN = HuffmanEncoder(REQUEST_CODES, REQUEST_CODES_LENGTH)
_STATIC = [(n.decode(), v.decode()) for n, v in HeaderTable.STATIC_TABLE]


def hpack_int(value: int, prefix_bits: int, flags: int = 0) -> bytes:
    """An HPACK integer (RFC 7541 5.1)."""
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([flags | value])
    out = bytearray([flags | limit])
    value -= limit
    while value >= 128:
        out.append(0x80 | (value & 0x7F))
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_string(s: str | bytes, huffman: bool = False) -> bytes:
    raw = s.encode() if isinstance(s, str) else s
    if huffman:
        coded = _HUFFMAN.encode(raw)
        return hpack_int(len(coded), 7, 0x80) + coded
    return hpack_int(len(raw), 7) + raw


def literal(name: str, value: str, *, indexing: str = "without", huffman: bool = False,
            name_index: int = 0) -> bytes:
    """A literal field (RFC 7541 6.2): indexing "incremental", "without" or "never"; the name
    from the static table when ``name_index`` is given."""
    first, bits = {"incremental": (0x40, 6), "without": (0x00, 4), "never": (0x10, 4)}[indexing]
    head = hpack_int(name_index, bits, first)
    name_part = b"" if name_index else hpack_string(name, huffman)
    return head + name_part + hpack_string(value, huffman)


def encode_fields(fields: Iterable[tuple[str, str]], huffman: bool = False) -> bytes:
    """A header block that leaves the server's dynamic table alone: static references where the
    static table has the field, literals without indexing otherwise."""
    out = bytearray()
    for name, value in fields:
        if (name, value) in _STATIC:
            out += hpack_int(_STATIC.index((name, value)) + 1, 7, 0x80)
            continue
        names = [n for n, _ in _STATIC]
        index = names.index(name) + 1 if name in names else 0
        out += literal(name, value, huffman=huffman, name_index=index)
    return bytes(out)


# --- a raw client connection -----------------------------------------------------------------

@dataclass
class Frame:
    type: int
    flags: int
    stream: int
    payload: bytes
    fields: list[tuple[str, str]] = field(default_factory=list)  # HEADERS: the decoded block

    @property
    def code(self) -> int:
        """The error code of RST_STREAM or GOAWAY."""
        at = 4 if self.type == GOAWAY else 0
        return int(struct.unpack(">I", self.payload[at:at + 4])[0])

    def __str__(self) -> str:
        names = {0: "DATA", 1: "HEADERS", 2: "PRIORITY", 3: "RST_STREAM", 4: "SETTINGS",
                 5: "PUSH_PROMISE", 6: "PING", 7: "GOAWAY", 8: "WINDOW_UPDATE", 9: "CONTINUATION"}
        text = f"{names.get(self.type, hex(self.type))}(stream={self.stream}, flags={self.flags:#x}"
        if self.type in (RST_STREAM, GOAWAY) and len(self.payload) >= 4:
            text += f", {ERROR_NAMES.get(self.code, hex(self.code))}"
        if self.type == GOAWAY:
            text += f", debug={self.payload[8:][:60]!r}"
        if self.type == DATA:
            text += f", len={len(self.payload)}"
        if self.fields:
            text += f", {dict(self.fields).get(':status', '?')}"
        return text + ")"


@dataclass
class Response:
    status: int
    fields: list[tuple[str, str]]
    body: bytes


class Client:
    """One raw HTTP/2 connection to the target, reading frames with a deadline."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.sock = socket.create_connection((target.host, target.port), timeout=target.timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buffer = b""
        self.decoder = hpack.Decoder()
        self.decoder.max_header_list_size = 1 << 24
        self.block = b""
        self.block_head: Frame | None = None
        self.server_settings: dict[int, int] = {}
        self.closed = False
        self.seen: list[str] = []  # what was read, for failure messages

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    # sending
    def send(self, *chunks: bytes) -> bool:
        """False when the server has closed (a reset or broken pipe while writing)."""
        try:
            self.sock.sendall(b"".join(chunks))
            return True
        except (BrokenPipeError, ConnectionResetError):
            return False
        except socket.timeout as exc:
            raise CaseFailed("the server stopped reading (send timed out)") from exc

    def send_flood(self, unit: Callable[[int], bytes], count: int, chunk: int = 200) -> int:
        """Sends ``unit(i)`` for i < count in batches, reading what the server sends meanwhile,
        and stops early once it has sent GOAWAY or closed (so that its GOAWAY is not lost to a
        reset). Returns the number of units sent."""
        sent, scan = 0, 0
        while sent < count:
            batch = b"".join(unit(i) for i in range(sent, min(count, sent + chunk)))
            if not self.send(batch):
                break
            sent = min(count, sent + chunk)
            if not self._read_available():
                break
            while len(self.buffer) - scan >= 9:  # look for a GOAWAY among the new frames
                if self.buffer[scan + 3] == GOAWAY:
                    return sent
                scan += 9 + int.from_bytes(self.buffer[scan:scan + 3], "big")
        return sent

    def _read_available(self) -> bool:
        """Moves what has arrived into the buffer without waiting; False once closed."""
        while select.select([self.sock], [], [], 0)[0]:
            try:
                chunk = self.sock.recv(1 << 20)
            except OSError:
                chunk = b""
            if not chunk:
                self.closed = True
                return False
            self.buffer += chunk
        return True

    def handshake(self, settings: dict[int, int] | None = None) -> None:
        """Preface and SETTINGS; waits for the server's SETTINGS (which must come first) and for
        the ACK of ours (RFC 9113 3.4)."""
        self.send(PREFACE, settings_frame(settings))
        first = self.next_frame()
        if first is None or first.type != SETTINGS or first.flags & ACK:
            raise CaseFailed(f"expected the server's SETTINGS first, got {first}")
        self._record_settings(first)
        self.send(settings_frame(ack=True))
        self.wait(lambda f: f.type == SETTINGS and f.flags & ACK, "SETTINGS ACK")

    def _record_settings(self, f: Frame) -> None:
        for i in range(0, len(f.payload) - 5, 6):
            key, value = struct.unpack(">HI", f.payload[i:i + 6])
            self.server_settings[key] = value

    @property
    def max_frame_size(self) -> int:
        return self.server_settings.get(MAX_FRAME_SIZE, DEFAULT_MAX_FRAME_SIZE)

    def request_fields(self, method: str = "GET", path: str | None = None,
                       extra: Sequence[tuple[str, str]] = ()) -> list[tuple[str, str]]:
        if path is None:
            path = self.target.echo_path if method == "POST" else self.target.get_path
        return [(":method", method), (":scheme", "http"), (":path", path),
                (":authority", self.target.host_header), *extra]

    def headers(self, stream: int, fields: Sequence[tuple[str, str]] | None = None, *,
                end_stream: bool = True, end_headers: bool = True, block: bytes | None = None,
                flags: int = 0, prefix: bytes = b"", padding: int | None = None) -> bytes:
        """A HEADERS frame (not sent): ``block`` overrides the encoded ``fields``."""
        if block is None:
            block = encode_fields(fields if fields is not None else self.request_fields())
        flags |= (END_STREAM if end_stream else 0) | (END_HEADERS if end_headers else 0)
        payload = prefix + block
        if padding is not None:
            flags |= PADDED
            payload = bytes([padding]) + payload + b"\0" * padding
        return frame(HEADERS, flags, stream, payload)

    def get(self, stream: int, end_stream: bool = True) -> bytes:
        return self.headers(stream, self.request_fields(), end_stream=end_stream)

    # reading
    def next_frame(self, timeout: float | None = None) -> Frame | None:
        """The next frame, or None once the server has closed. Times out with CaseFailed."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.target.timeout)
        while True:
            if len(self.buffer) >= 9:
                length = int.from_bytes(self.buffer[:3], "big")
                if len(self.buffer) >= 9 + length:
                    head, self.buffer = self.buffer[:9 + length], self.buffer[9 + length:]
                    f = Frame(head[3], head[4], int.from_bytes(head[5:9], "big") & MAX_WINDOW,
                              head[9:])
                    self._decode_block(f)
                    self.seen.append(str(f))
                    return f
            if self.closed:
                return None
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise CaseFailed(f"no answer within the timeout; seen: {self.seen[-8:]}")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError as exc:  # a reset: the server is gone
                if exc.errno not in (errno.ECONNRESET, errno.EPIPE, errno.ECONNABORTED):
                    raise
                chunk = b""
            if not chunk:
                self.closed = True
                self.seen.append("<closed>")
            self.buffer += chunk

    def _decode_block(self, f: Frame) -> None:
        if f.type == HEADERS:
            payload = f.payload
            if f.flags & PADDED:
                payload = payload[1:len(payload) - payload[0]]
            if f.flags & PRIORITY_FLAG:
                payload = payload[5:]
            self.block, self.block_head = payload, f
        elif f.type == CONTINUATION and self.block_head is not None:
            self.block += f.payload
        else:
            return
        if f.flags & END_HEADERS and self.block_head is not None:
            self.block_head.fields = [(str(n), str(v)) for n, v in self.decoder.decode(self.block)]
            self.block_head = None

    def wait(self, predicate: Callable[[Frame], bool], what: str,
             timeout: float | None = None) -> Frame:
        """Reads until a frame matches; answers the server's own SETTINGS and PINGs meanwhile."""
        while True:
            f = self.next_frame(timeout)
            if f is None:
                raise CaseFailed(f"expected {what}, the connection closed; seen: {self.seen[-8:]}")
            if predicate(f):
                return f
            self._answer_control(f)

    def _answer_control(self, f: Frame) -> None:
        if f.type == SETTINGS and not f.flags & ACK:
            self._record_settings(f)
            self.send(settings_frame(ack=True))
        elif f.type == PING and not f.flags & ACK:
            self.send(ping_frame(f.payload, ack=True))

    # verdicts
    def expect_connection_error(self, *codes: int) -> None:
        """GOAWAY with one of ``codes`` (or, not strict, a close)."""
        want = " or ".join(ERROR_NAMES[c] for c in codes)
        while True:
            f = self.next_frame()
            if f is None:
                if self.target.strict:
                    raise CaseFailed(f"expected GOAWAY({want}), the connection closed without it")
                return
            if f.type == GOAWAY:
                if f.code not in codes:
                    raise CaseFailed(f"expected GOAWAY({want}), got {f}")
                return
            self._answer_control(f)

    def expect_stream_error(self, stream: int, *codes: int) -> None:
        """RST_STREAM on ``stream`` or GOAWAY with one of ``codes`` (or, not strict, a close)."""
        want = " or ".join(ERROR_NAMES[c] for c in codes)
        while True:
            f = self.next_frame()
            if f is None:
                if self.target.strict:
                    raise CaseFailed(f"expected RST_STREAM/GOAWAY({want}), the connection closed")
                return
            if f.type == GOAWAY or (f.type == RST_STREAM and f.stream == stream):
                if f.code not in codes:
                    raise CaseFailed(
                        f"expected RST_STREAM/GOAWAY({want}) on stream {stream}, got {f}")
                return
            self._answer_control(f)

    def expect_ping_ack(self, data: bytes = b"h2ping!!") -> None:
        f = self.wait(lambda f: f.type == PING and f.flags & ACK or f.type == GOAWAY,
                      "a PING ACK")
        if f.type == GOAWAY:
            raise CaseFailed(f"expected a PING ACK, got {f}")
        if f.payload != data:
            raise CaseFailed(f"PING ACK with {f.payload!r}, expected {data!r}")

    def ping_answered_or_closed(self, data: bytes = b"h2ping!!") -> None:
        """P/X: the connection is still usable (PING answered) or closed cleanly."""
        if not self.send(ping_frame(data)):
            return
        while True:
            f = self.next_frame()
            if f is None:
                return
            if f.type == PING and f.flags & ACK:
                if f.payload != data:
                    raise CaseFailed(f"PING ACK with {f.payload!r}")
                return
            if f.type == GOAWAY and f.code != NO_ERROR and self.target.strict:
                raise CaseFailed(f"expected the PING answered or a close, got {f}")
            self._answer_control(f)

    def expect_headers(self, stream: int) -> Frame:
        f = self.wait(lambda f: f.stream == stream and f.type in (HEADERS, RST_STREAM) or
                      f.type == GOAWAY, f"a response HEADERS on stream {stream}")
        if f.type != HEADERS:
            raise CaseFailed(f"expected a response on stream {stream}, got {f}")
        status = dict(f.fields).get(":status", "")
        if not status.isdigit():
            raise CaseFailed(f"response without :status: {f.fields}")
        return f

    def expect_response(self, stream: int) -> Response:
        """The final response: HEADERS (1xx skipped), DATA up to END_STREAM (window permitting:
        credit is returned as DATA arrives)."""
        while True:
            head = self.expect_headers(stream)
            status = int(dict(head.fields)[":status"])
            if status >= 200:
                break
        body = b""
        end = bool(head.flags & END_STREAM)
        while not end:
            f = self.wait(lambda f: f.stream == stream or f.type == GOAWAY, f"DATA on {stream}")
            if f.type == DATA:
                body += f.payload
                if f.payload:
                    self.send(window_update_frame(0, len(f.payload)),
                              window_update_frame(stream, len(f.payload)))
            elif f.type != HEADERS:
                raise CaseFailed(f"response on stream {stream} cut short by {f}")
            end = bool(f.flags & END_STREAM)
        return Response(status, head.fields, body)

    def expect_data(self, stream: int, timeout: float | None = None) -> Frame:
        f = self.wait(lambda f: f.stream == stream and f.type in (DATA, RST_STREAM) or
                      f.type == GOAWAY, f"DATA on stream {stream}", timeout)
        if f.type != DATA:
            raise CaseFailed(f"expected DATA on stream {stream}, got {f}")
        return f

    def expect_no_data(self, stream: int, quiet: float) -> None:
        """No DATA on ``stream`` for ``quiet`` seconds (e.g. while its window is 0)."""
        deadline = time.monotonic() + quiet
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                f = self.next_frame(remaining)
            except CaseFailed:
                return
            if f is None:
                raise CaseFailed("the connection closed")
            if f.type == DATA and f.stream == stream and f.payload:
                raise CaseFailed(f"DATA beyond the window: {f}")
            self._answer_control(f)


# --- the cases -------------------------------------------------------------------------------

CASES: dict[str, Callable[[Target], None]] = {}  # id -> run(target), in registration order
DESCRIPTIONS: dict[str, str] = {}


CaseFn = Callable[[Target], None]


def case(case_id: str, description: str) -> Callable[[CaseFn], CaseFn]:
    def register(fn: CaseFn) -> CaseFn:
        if case_id in CASES:
            raise ValueError(f"duplicate case {case_id}")
        CASES[case_id] = fn
        DESCRIPTIONS[case_id] = description
        return fn
    return register


def connect(target: Target, settings: dict[int, int] | None = None) -> Client:
    c = Client(target)
    c.handshake(settings)
    return c


def expect_ok(c: Client, stream: int) -> Response:
    r = c.expect_response(stream)
    if r.status >= 400:
        raise CaseFailed(f"expected a successful response on stream {stream}, got {r.status}")
    return r


def check_still_serving(target: Target) -> None:
    """A new connection gets a full response (after an attack on another one)."""
    with connect(target) as c:
        c.send(c.get(1))
        r = c.expect_response(1)
        if r.status != 200 or len(r.body) < 5:
            raise CaseFailed(f"a fresh connection was not served: {r.status} {r.body[:40]!r}")


DUMMY = "x" * 4000  # h2spec's dummy header value


# generic: the basics every server must get right ---------------------------------------------

@case("generic/1/1", "preface: the server's first frame is SETTINGS")
def _g1(t: Target) -> None:
    with Client(t) as c:
        c.send(PREFACE, settings_frame())
        f = c.next_frame()
        if f is None or f.type != SETTINGS or f.flags & ACK:
            raise CaseFailed(f"expected SETTINGS without ACK, got {f}")


@case("generic/2/1", "PRIORITY on an idle stream")
def _g2_1(t: Target) -> None:
    with connect(t) as c:
        c.send(priority_frame(1, 0), ping_frame())
        c.expect_ping_ack()


@case("generic/2/2", "WINDOW_UPDATE on half-closed (local) gets DATA")
def _g2_2(t: Target) -> None:
    with connect(t, {INITIAL_WINDOW_SIZE: 0}) as c:
        c.send(c.get(1))
        c.expect_headers(1)
        c.send(window_update_frame(1, 1))
        if len(c.expect_data(1).payload) != 1:
            raise CaseFailed("expected exactly 1 byte of DATA")


@case("generic/2/3", "PRIORITY on half-closed (local) then WINDOW_UPDATE")
def _g2_3(t: Target) -> None:
    with connect(t, {INITIAL_WINDOW_SIZE: 0}) as c:
        c.send(c.get(1))
        c.expect_headers(1)
        c.send(priority_frame(1, 0, 255), window_update_frame(1, 1))
        c.expect_data(1)


@case("generic/2/4", "RST_STREAM on an open stream")
def _g2_4(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1, end_stream=False), rst_stream_frame(1, CANCEL))
        c.ping_answered_or_closed()


@case("generic/2/5", "PRIORITY on a closed stream")
def _g2_5(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1))
        c.expect_response(1)
        c.send(priority_frame(1, 0), ping_frame())
        c.expect_ping_ack()


def _post(c: Client, stream: int, body_frames: Sequence[bytes], end_headers: bool = True) -> None:
    c.send(c.headers(stream, c.request_fields("POST"), end_stream=False, end_headers=end_headers),
           *body_frames)


@case("generic/3.1/1", "DATA: one frame")
def _g3_1_1(t: Target) -> None:
    with connect(t) as c:
        _post(c, 1, [data_frame(1, b"test", True)])
        expect_ok(c, 1)


@case("generic/3.1/2", "DATA: two frames")
def _g3_1_2(t: Target) -> None:
    with connect(t) as c:
        _post(c, 1, [data_frame(1, b"te"), data_frame(1, b"st", True)])
        if expect_ok(c, 1).body != b"test":
            raise CaseFailed("the echoed body differs")


@case("generic/3.1/3", "DATA: padded")
def _g3_1_3(t: Target) -> None:
    with connect(t) as c:
        _post(c, 1, [data_frame(1, b"test", True, pad=8)])
        if expect_ok(c, 1).body != b"test":
            raise CaseFailed("padding leaked into the body")


@case("generic/3.2/1", "HEADERS")
def _g3_2_1(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1))
        expect_ok(c, 1)


@case("generic/3.2/2", "HEADERS: padded")
def _g3_2_2(t: Target) -> None:
    with connect(t) as c:
        c.send(c.headers(1, padding=10))
        expect_ok(c, 1)


@case("generic/3.2/3", "HEADERS: with priority")
def _g3_2_3(t: Target) -> None:
    with connect(t) as c:
        c.send(c.headers(1, flags=PRIORITY_FLAG, prefix=struct.pack(">IB", 0, 255)))
        expect_ok(c, 1)


@case("generic/3.3/1", "PRIORITY weight 1, then the request")
def _g3_3_1(t: Target) -> None:
    with connect(t) as c:
        c.send(priority_frame(1, 0, 0), c.get(1))
        expect_ok(c, 1)


@case("generic/3.3/2", "PRIORITY weight 256, then the request")
def _g3_3_2(t: Target) -> None:
    with connect(t) as c:
        c.send(priority_frame(1, 0, 255), c.get(1))
        expect_ok(c, 1)


@case("generic/3.3/3", "PRIORITY with a dependency, then the request")
def _g3_3_3(t: Target) -> None:
    with connect(t) as c:
        c.send(priority_frame(3, 0), priority_frame(1, 3), c.get(1))
        expect_ok(c, 1)


@case("generic/3.3/4", "PRIORITY exclusive, then the request")
def _g3_3_4(t: Target) -> None:
    with connect(t) as c:
        c.send(priority_frame(3, 0), priority_frame(1, 3, exclusive=True), c.get(1))
        expect_ok(c, 1)


@case("generic/3.3/5", "PRIORITY on an idle stream, then HEADERS on it")
def _g3_3_5(t: Target) -> None:
    with connect(t) as c:
        c.send(priority_frame(3, 0), c.get(3))
        expect_ok(c, 3)


@case("generic/3.4/1", "RST_STREAM on an open POST")
def _g3_4_1(t: Target) -> None:
    with connect(t) as c:
        _post(c, 1, [rst_stream_frame(1, CANCEL)])
        c.ping_answered_or_closed()


@case("generic/3.5/1", "SETTINGS with every defined parameter")
def _g3_5_1(t: Target) -> None:
    with connect(t) as c:
        c.send(settings_frame({HEADER_TABLE_SIZE: 4096, ENABLE_PUSH: 0, MAX_CONCURRENT_STREAMS: 100,
                               INITIAL_WINDOW_SIZE: 65535, MAX_FRAME_SIZE: 16384,
                               MAX_HEADER_LIST_SIZE: 65536}))
        c.wait(lambda f: f.type == SETTINGS and f.flags & ACK, "SETTINGS ACK")


@case("generic/3.6/1", "PING")
def _g3_6_1(t: Target) -> None:
    with connect(t) as c:
        c.send(ping_frame())
        c.expect_ping_ack()


@case("generic/3.7/1", "GOAWAY(NO_ERROR)")
def _g3_7_1(t: Target) -> None:
    with connect(t) as c:
        c.send(goaway_frame(0, NO_ERROR))
        c.ping_answered_or_closed()


@case("generic/3.8/1", "WINDOW_UPDATE on the connection")
def _g3_8_1(t: Target) -> None:
    with connect(t) as c:
        c.send(window_update_frame(0, 1), ping_frame())
        c.expect_ping_ack()


@case("generic/3.8/2", "WINDOW_UPDATE on a stream")
def _g3_8_2(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1), window_update_frame(1, 1))
        expect_ok(c, 1)


@case("generic/3.9/1", "HEADERS + CONTINUATION")
def _g3_9_1(t: Target) -> None:
    with connect(t) as c:
        block = encode_fields(c.request_fields())
        c.send(c.headers(1, block=block[:3], end_headers=False),
               frame(CONTINUATION, END_HEADERS, 1, block[3:]))
        expect_ok(c, 1)


@case("generic/3.9/2", "HEADERS + two CONTINUATIONs")
def _g3_9_2(t: Target) -> None:
    with connect(t) as c:
        block = encode_fields(c.request_fields(extra=[("x-dummy0", DUMMY)]))
        c.send(c.headers(1, block=block[:2], end_headers=False),
               frame(CONTINUATION, 0, 1, block[2:10]),
               frame(CONTINUATION, END_HEADERS, 1, block[10:]))
        expect_ok(c, 1)


@case("generic/4/1", "GET")
def _g4_1(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1))
        if len(expect_ok(c, 1).body) < 5:
            raise CaseFailed("the GET resource must return at least 5 bytes")


@case("generic/4/2", "HEAD")
def _g4_2(t: Target) -> None:
    with connect(t) as c:
        c.send(c.headers(1, c.request_fields("HEAD", t.get_path)))
        r = expect_ok(c, 1)
        if r.body:
            raise CaseFailed(f"a HEAD response carried {len(r.body)} body bytes")


@case("generic/4/3", "POST with a body")
def _g4_3(t: Target) -> None:
    with connect(t) as c:
        _post(c, 1, [data_frame(1, b"hello h2", True)])
        if expect_ok(c, 1).body != b"hello h2":
            raise CaseFailed("the body was not echoed")


@case("generic/4/4", "POST with a body and trailers")
def _g4_4(t: Target) -> None:
    with connect(t) as c:
        _post(c, 1, [data_frame(1, b"hello"),
                     c.headers(1, [("x-trailer", "1")], end_stream=True)])
        expect_ok(c, 1)


def _hpack_case(case_id: str, description: str, representation: bytes,
                prelude: bytes = b"") -> None:
    @case(case_id, description)
    def run(t: Target) -> None:
        with connect(t) as c:
            block = prelude + encode_fields(c.request_fields()) + representation
            c.send(c.headers(1, block=block))
            expect_ok(c, 1)


_UA = 58  # static index of user-agent
_ACCEPT_ENCODING = _STATIC.index(("accept-encoding", "gzip, deflate")) + 1
_REPRESENTATIONS = [
    ("indexed field (static)", hpack_int(_ACCEPT_ENCODING, 7, 0x80)),
]
for _indexing, _label in (("incremental", "incremental indexing"), ("without", "without indexing"),
                          ("never", "never indexed")):
    for _huffman in (False, True):
        _suffix = ", Huffman" if _huffman else ""
        _REPRESENTATIONS.append((f"literal {_label}, indexed name{_suffix}",
                                 literal("", "h2spec", indexing=_indexing, name_index=_UA,
                                         huffman=_huffman)))
        _REPRESENTATIONS.append((f"literal {_label}, new name{_suffix}",
                                 literal("x-h2spec", "test", indexing=_indexing, huffman=_huffman)))
for _i, (_desc, _rep) in enumerate(_REPRESENTATIONS, start=1):
    _hpack_case(f"generic/5/{_i}", _desc, _rep)
_hpack_case("generic/5/14", "dynamic table size update to 128", b"", hpack_int(128, 5, 0x20))
_hpack_case("generic/5/15", "two dynamic table size updates at the start of a block", b"",
            hpack_int(0, 5, 0x20) + hpack_int(4096, 5, 0x20))


# http2/3.5 Connection preface --------------------------------------------------------------

@case("http2/3.5/1", "a valid preface gets SETTINGS")
def _h3_5_1(t: Target) -> None:
    _g1(t)


@case("http2/3.5/2", "an invalid preface is a PROTOCOL_ERROR")
def _h3_5_2(t: Target) -> None:
    """Bytes that are not the preface get GOAWAY(PROTOCOL_ERROR) and a close; a server that tells
    HTTP/2 from HTTP/1.1 by the preface (prior knowledge on cleartext) may answer them as an
    HTTP/1.1 request instead: an error status and a close. It must not serve them."""
    with Client(t) as c:
        c.send(b"INVALID CONNECTION PREFACE\r\n\r\n", settings_frame())
        received = b""
        deadline = time.monotonic() + t.timeout
        while not c.closed and time.monotonic() < deadline:
            c.sock.settimeout(max(0.01, deadline - time.monotonic()))
            try:
                chunk = c.sock.recv(65536)
            except socket.timeout:
                break
            except OSError:
                chunk = b""
            c.closed = not chunk
            received += chunk
        if not c.closed:
            raise CaseFailed(f"still open after an invalid preface: {received[:80]!r}")
        if received.startswith(b"HTTP/1.1 4") or received.startswith(b"HTTP/1.1 5"):
            return
        c.buffer = received
        c.expect_connection_error(PROTOCOL_ERROR)


# http2/4 Frames -------------------------------------------------------------------------------

@case("http2/4.1/1", "an unknown frame type is ignored")
def _h4_1_1(t: Target) -> None:
    with connect(t) as c:
        c.send(frame(0x16, 0, 0, b"unknown"), ping_frame())
        c.expect_ping_ack()


@case("http2/4.1/2", "undefined flags are ignored")
def _h4_1_2(t: Target) -> None:
    with connect(t) as c:
        c.send(frame(PING, 0x16, 0, b"h2ping!!"))
        c.expect_ping_ack()


@case("http2/4.1/3", "the reserved bit of the stream id is ignored")
def _h4_1_3(t: Target) -> None:
    with connect(t) as c:
        c.send(frame(PING, 0, 0x80000000, b"h2ping!!"))
        c.expect_ping_ack()


@case("http2/4.2/1", "DATA of SETTINGS_MAX_FRAME_SIZE")
def _h4_2_1(t: Target) -> None:
    with connect(t) as c:
        size = c.max_frame_size
        _post(c, 1, [data_frame(1, b"x" * size, True)])
        expect_ok(c, 1)


@case("http2/4.2/2", "DATA over SETTINGS_MAX_FRAME_SIZE")
def _h4_2_2(t: Target) -> None:
    with connect(t) as c:
        _post(c, 1, [data_frame(1, b"x" * (c.max_frame_size + 1), True)])
        c.expect_stream_error(1, FRAME_SIZE_ERROR)


@case("http2/4.2/3", "HEADERS over SETTINGS_MAX_FRAME_SIZE")
def _h4_2_3(t: Target) -> None:
    with connect(t) as c:
        extra = [(f"x-dummy{i}", DUMMY) for i in range(c.max_frame_size // 4000 + 1)]
        c.send(c.headers(1, c.request_fields(extra=extra)))
        c.expect_connection_error(FRAME_SIZE_ERROR)


@case("http2/4.3/1", "an invalid header block fragment")
def _h4_3_1(t: Target) -> None:
    with connect(t) as c:
        c.send(c.headers(1, block=b"\x40"))
        c.expect_connection_error(COMPRESSION_ERROR)


@case("http2/4.3/2", "PRIORITY while a header block is open")
def _h4_3_2(t: Target) -> None:
    with connect(t) as c:
        c.send(c.headers(1, end_headers=False), priority_frame(1, 0))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/4.3/3", "HEADERS on another stream while a header block is open")
def _h4_3_3(t: Target) -> None:
    with connect(t) as c:
        c.send(c.headers(1, end_headers=False), c.get(3))
        c.expect_connection_error(PROTOCOL_ERROR)


# http2/5.1 Stream states ----------------------------------------------------------------------

@case("http2/5.1/1", "idle: DATA")
def _h5_1_1(t: Target) -> None:
    with connect(t) as c:
        c.send(data_frame(1, b"test", True))
        c.expect_stream_error(1, PROTOCOL_ERROR, STREAM_CLOSED)


@case("http2/5.1/2", "idle: RST_STREAM")
def _h5_1_2(t: Target) -> None:
    with connect(t) as c:
        c.send(rst_stream_frame(1, CANCEL))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/5.1/3", "idle: WINDOW_UPDATE")
def _h5_1_3(t: Target) -> None:
    with connect(t) as c:
        c.send(window_update_frame(1, 100))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/5.1/4", "idle: CONTINUATION")
def _h5_1_4(t: Target) -> None:
    with connect(t) as c:
        c.send(frame(CONTINUATION, END_HEADERS, 1, encode_fields(c.request_fields())))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/5.1/5", "half-closed (remote): DATA")
def _h5_1_5(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1), data_frame(1, b"test", True))
        c.expect_stream_error(1, STREAM_CLOSED)


@case("http2/5.1/6", "half-closed (remote): HEADERS")
def _h5_1_6(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1), c.get(1))
        c.expect_stream_error(1, STREAM_CLOSED)


@case("http2/5.1/7", "half-closed (remote): CONTINUATION")
def _h5_1_7(t: Target) -> None:
    with connect(t) as c:
        block = encode_fields(c.request_fields())
        c.send(c.get(1), frame(CONTINUATION, END_HEADERS, 1, block))
        c.expect_stream_error(1, STREAM_CLOSED, PROTOCOL_ERROR)


@case("http2/5.1/8", "closed after RST_STREAM: DATA")
def _h5_1_8(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1, end_stream=False), rst_stream_frame(1, CANCEL),
               data_frame(1, b"test", True))
        c.expect_stream_error(1, STREAM_CLOSED)


@case("http2/5.1/9", "closed after RST_STREAM: HEADERS")
def _h5_1_9(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1, end_stream=False), rst_stream_frame(1, CANCEL), c.get(1))
        c.expect_stream_error(1, STREAM_CLOSED)


@case("http2/5.1/10", "closed after RST_STREAM: CONTINUATION")
def _h5_1_10(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1, end_stream=False), rst_stream_frame(1, CANCEL),
               frame(CONTINUATION, END_HEADERS, 1, encode_fields([("x-dummy0", DUMMY)])))
        c.expect_stream_error(1, STREAM_CLOSED, PROTOCOL_ERROR)


@case("http2/5.1/11", "closed after the response: DATA")
def _h5_1_11(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1))
        c.expect_response(1)
        c.send(data_frame(1, b"test", True))
        c.expect_stream_error(1, STREAM_CLOSED)


@case("http2/5.1/12", "closed after the response: HEADERS")
def _h5_1_12(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1))
        c.expect_response(1)
        c.send(c.get(1))
        c.expect_connection_error(STREAM_CLOSED)


@case("http2/5.1/13", "closed after the response: CONTINUATION")
def _h5_1_13(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1))
        c.expect_response(1)
        c.send(frame(CONTINUATION, END_HEADERS, 1, encode_fields([("x-dummy0", DUMMY)])))
        c.expect_connection_error(STREAM_CLOSED, PROTOCOL_ERROR)


@case("http2/5.1.1/1", "a client stream with an even id")
def _h5_1_1_1(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(2))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/5.1.1/2", "a stream id lower than one already used")
def _h5_1_1_2(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(5))
        c.expect_response(5)
        c.send(c.get(3))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/5.1.2/1", "more streams than SETTINGS_MAX_CONCURRENT_STREAMS")
def _h5_1_2_1(t: Target) -> None:
    with connect(t, {INITIAL_WINDOW_SIZE: 0}) as c:
        limit = c.server_settings.get(MAX_CONCURRENT_STREAMS)
        if limit is None or limit > 1000:
            return  # no (practical) limit announced: nothing to exceed
        c.send(b"".join(c.get(1 + 2 * i) for i in range(limit + 1)))
        c.expect_stream_error(1 + 2 * limit, PROTOCOL_ERROR, REFUSED_STREAM)


@case("http2/5.3.1/1", "HEADERS depending on its own stream")
def _h5_3_1_1(t: Target) -> None:
    with connect(t) as c:
        c.send(c.headers(1, flags=PRIORITY_FLAG, prefix=struct.pack(">IB", 1, 255)))
        c.expect_stream_error(1, PROTOCOL_ERROR)


@case("http2/5.3.1/2", "PRIORITY depending on its own stream")
def _h5_3_1_2(t: Target) -> None:
    with connect(t) as c:
        c.send(priority_frame(1, 1))
        c.expect_stream_error(1, PROTOCOL_ERROR)


@case("http2/5.4.1/1", "PING on a stream closes the connection")
def _h5_4_1_1(t: Target) -> None:
    with connect(t) as c:
        c.send(ping_frame(stream=3))
        c.expect_connection_error(PROTOCOL_ERROR)
        while c.next_frame() is not None:
            pass  # and the connection closes


@case("http2/5.5/1", "an unknown extension frame is ignored")
def _h5_5_1(t: Target) -> None:
    with connect(t) as c:
        c.send(frame(0xFF, 0, 0, b"unknown"), ping_frame())
        c.expect_ping_ack()


@case("http2/5.5/2", "an unknown frame inside a header block")
def _h5_5_2(t: Target) -> None:
    with connect(t) as c:
        c.send(c.headers(1, end_headers=False), frame(0xFF, 0, 1, b"unknown"))
        c.expect_connection_error(PROTOCOL_ERROR)


# http2/6 Frame definitions ----------------------------------------------------------------------

@case("http2/6.1/1", "DATA on stream 0")
def _h6_1_1(t: Target) -> None:
    with connect(t) as c:
        _post(c, 1, [data_frame(0, b"test", True)])
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.1/2", "DATA on a stream not open")
def _h6_1_2(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1), data_frame(1, b"test", True))
        c.expect_stream_error(1, STREAM_CLOSED)


@case("http2/6.1/3", "DATA with padding as long as the payload")
def _h6_1_3(t: Target) -> None:
    with connect(t) as c:
        _post(c, 1, [frame(DATA, PADDED | END_STREAM, 1, b"\x05test")])
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.2/1", "HEADERS without END_HEADERS, then PRIORITY")
def _h6_2_1(t: Target) -> None:
    _h4_3_2(t)


@case("http2/6.2/2", "HEADERS without END_HEADERS, then HEADERS on another stream")
def _h6_2_2(t: Target) -> None:
    _h4_3_3(t)


@case("http2/6.2/3", "HEADERS on stream 0")
def _h6_2_3(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(0))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.2/4", "HEADERS with padding longer than the fragment")
def _h6_2_4(t: Target) -> None:
    with connect(t) as c:
        block = encode_fields(c.request_fields())
        flags = PADDED | END_HEADERS | END_STREAM
        c.send(frame(HEADERS, flags, 1, bytes([len(block) + 1]) + block))
        c.expect_stream_error(1, PROTOCOL_ERROR)


@case("http2/6.3/1", "PRIORITY on stream 0")
def _h6_3_1(t: Target) -> None:
    with connect(t) as c:
        c.send(priority_frame(0, 1))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.3/2", "PRIORITY of length 4")
def _h6_3_2(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1, end_stream=False), frame(PRIORITY, 0, 1, b"\0\0\0\0"))
        c.expect_stream_error(1, FRAME_SIZE_ERROR)


@case("http2/6.4/1", "RST_STREAM on stream 0")
def _h6_4_1(t: Target) -> None:
    with connect(t) as c:
        c.send(rst_stream_frame(0, CANCEL))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.4/2", "RST_STREAM on an idle stream")
def _h6_4_2(t: Target) -> None:
    with connect(t) as c:
        c.send(rst_stream_frame(1, CANCEL))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.4/3", "RST_STREAM of length 3")
def _h6_4_3(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1, end_stream=False), frame(RST_STREAM, 0, 1, b"\0\0\0"))
        c.expect_stream_error(1, FRAME_SIZE_ERROR)


@case("http2/6.5/1", "SETTINGS ACK with a payload")
def _h6_5_1(t: Target) -> None:
    with connect(t) as c:
        c.send(frame(SETTINGS, ACK, 0, struct.pack(">HI", INITIAL_WINDOW_SIZE, 1)))
        c.expect_connection_error(FRAME_SIZE_ERROR)


@case("http2/6.5/2", "SETTINGS on a stream")
def _h6_5_2(t: Target) -> None:
    with connect(t) as c:
        c.send(frame(SETTINGS, 0, 1, struct.pack(">HI", INITIAL_WINDOW_SIZE, 1)))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.5/3", "SETTINGS of length 3")
def _h6_5_3(t: Target) -> None:
    with connect(t) as c:
        c.send(frame(SETTINGS, 0, 0, b"\0\x04\0"))
        c.expect_connection_error(FRAME_SIZE_ERROR, PROTOCOL_ERROR)


@case("http2/6.5.2/1", "SETTINGS_ENABLE_PUSH of 2")
def _h6_5_2_1(t: Target) -> None:
    with connect(t) as c:
        c.send(settings_frame({ENABLE_PUSH: 2}))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.5.2/2", "SETTINGS_INITIAL_WINDOW_SIZE of 2^31")
def _h6_5_2_2(t: Target) -> None:
    with connect(t) as c:
        c.send(settings_frame({INITIAL_WINDOW_SIZE: 2**31}))
        c.expect_connection_error(FLOW_CONTROL_ERROR)


@case("http2/6.5.2/3", "SETTINGS_MAX_FRAME_SIZE of 16383")
def _h6_5_2_3(t: Target) -> None:
    with connect(t) as c:
        c.send(settings_frame({MAX_FRAME_SIZE: 16383}))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.5.2/4", "SETTINGS_MAX_FRAME_SIZE of 2^24")
def _h6_5_2_4(t: Target) -> None:
    with connect(t) as c:
        c.send(settings_frame({MAX_FRAME_SIZE: 2**24}))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.5.2/5", "an unknown setting is ignored")
def _h6_5_2_5(t: Target) -> None:
    with connect(t) as c:
        c.send(settings_frame({0xFF: 1}))
        c.wait(lambda f: f.type == SETTINGS and f.flags & ACK, "SETTINGS ACK")


@case("http2/6.5.3/1", "several values in one SETTINGS: the last one holds")
def _h6_5_3_1(t: Target) -> None:
    with connect(t) as c:
        c.send(frame(SETTINGS, 0, 0, struct.pack(">HIHI", INITIAL_WINDOW_SIZE, 100,
                                                 INITIAL_WINDOW_SIZE, 1)))
        c.wait(lambda f: f.type == SETTINGS and f.flags & ACK, "SETTINGS ACK")
        c.send(c.get(1))
        if len(c.expect_data(1).payload) != 1:
            raise CaseFailed("expected 1 byte of DATA (window 1)")


@case("http2/6.5.3/2", "SETTINGS is acknowledged")
def _h6_5_3_2(t: Target) -> None:
    _h6_5_2_5(t)


@case("http2/6.7/1", "PING")
def _h6_7_1(t: Target) -> None:
    _g3_6_1(t)


@case("http2/6.7/2", "an unsolicited PING ACK is not answered")
def _h6_7_2(t: Target) -> None:
    with connect(t) as c:
        c.send(ping_frame(b"unsolici", ack=True), ping_frame(b"h2second"))
        c.expect_ping_ack(b"h2second")


@case("http2/6.7/3", "PING on a stream")
def _h6_7_3(t: Target) -> None:
    with connect(t) as c:
        c.send(ping_frame(stream=1))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.7/4", "PING of length 6")
def _h6_7_4(t: Target) -> None:
    with connect(t) as c:
        c.send(frame(PING, 0, 0, b"h2spec"))
        c.expect_connection_error(FRAME_SIZE_ERROR)


@case("http2/6.8/1", "GOAWAY on a stream")
def _h6_8_1(t: Target) -> None:
    with connect(t) as c:
        c.send(frame(GOAWAY, 0, 1, struct.pack(">II", 0, NO_ERROR)))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.9/1", "WINDOW_UPDATE of 0 on the connection")
def _h6_9_1(t: Target) -> None:
    with connect(t) as c:
        c.send(window_update_frame(0, 0))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.9/2", "WINDOW_UPDATE of 0 on a stream")
def _h6_9_2(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1, end_stream=False), window_update_frame(1, 0))
        c.expect_stream_error(1, PROTOCOL_ERROR)


@case("http2/6.9/3", "WINDOW_UPDATE of length 3")
def _h6_9_3(t: Target) -> None:
    with connect(t) as c:
        c.send(frame(WINDOW_UPDATE, 0, 0, b"\0\0\x01"))
        c.expect_connection_error(FRAME_SIZE_ERROR)


@case("http2/6.9.1/1", "an initial window of 1: DATA of 1 byte")
def _h6_9_1_1(t: Target) -> None:
    with connect(t, {INITIAL_WINDOW_SIZE: 1}) as c:
        c.send(c.get(1))
        if len(c.expect_data(1).payload) != 1:
            raise CaseFailed("expected DATA of 1 byte")
        c.expect_no_data(1, 0.3)


@case("http2/6.9.1/2", "the connection window over 2^31-1")
def _h6_9_1_2(t: Target) -> None:
    with connect(t) as c:
        c.send(window_update_frame(0, MAX_WINDOW), window_update_frame(0, MAX_WINDOW))
        c.expect_connection_error(FLOW_CONTROL_ERROR)


@case("http2/6.9.1/3", "a stream window over 2^31-1")
def _h6_9_1_3(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1, end_stream=False), window_update_frame(1, MAX_WINDOW),
               window_update_frame(1, MAX_WINDOW))
        c.expect_stream_error(1, FLOW_CONTROL_ERROR)


@case("http2/6.9.2/1", "SETTINGS_INITIAL_WINDOW_SIZE changes open streams' windows")
def _h6_9_2_1(t: Target) -> None:
    with connect(t, {INITIAL_WINDOW_SIZE: 0}) as c:
        c.send(c.get(1))
        c.expect_headers(1)
        c.send(settings_frame({INITIAL_WINDOW_SIZE: 1}))
        if len(c.expect_data(1).payload) != 1:
            raise CaseFailed("expected DATA of 1 byte")


@case("http2/6.9.2/2", "a negative window after a SETTINGS decrease")
def _h6_9_2_2(t: Target) -> None:
    with connect(t, {INITIAL_WINDOW_SIZE: 3}) as c:
        c.send(c.get(1))
        if len(c.expect_data(1).payload) != 3:
            raise CaseFailed("expected DATA of 3 bytes")
        c.send(settings_frame({INITIAL_WINDOW_SIZE: 2}))  # window 3 - 3 - 1 = -1
        c.wait(lambda f: f.type == SETTINGS and f.flags & ACK, "SETTINGS ACK")
        c.send(window_update_frame(1, 2))  # -1 + 2 = 1
        if len(c.expect_data(1).payload) != 1:
            raise CaseFailed("expected DATA of 1 byte after the window went negative")


@case("http2/6.9.2/3", "SETTINGS_INITIAL_WINDOW_SIZE of 2^31")
def _h6_9_2_3(t: Target) -> None:
    _h6_5_2_2(t)


@case("http2/6.10/1", "HEADERS + two CONTINUATIONs")
def _h6_10_1(t: Target) -> None:
    _g3_9_2(t)


@case("http2/6.10/2", "CONTINUATION then DATA inside the block")
def _h6_10_2(t: Target) -> None:
    with connect(t) as c:
        block = encode_fields(c.request_fields())
        c.send(c.headers(1, block=block[:3], end_headers=False),
               frame(CONTINUATION, 0, 1, block[3:]), data_frame(1, b"test", True))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.10/3", "CONTINUATION on stream 0")
def _h6_10_3(t: Target) -> None:
    with connect(t) as c:
        block = encode_fields(c.request_fields())
        c.send(c.headers(1, block=block[:3], end_headers=False),
               frame(CONTINUATION, END_HEADERS, 0, block[3:]))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.10/4", "CONTINUATION after END_HEADERS")
def _h6_10_4(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1), frame(CONTINUATION, END_HEADERS, 1, encode_fields([("x-dummy0", "a")])))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.10/5", "DATA between HEADERS and CONTINUATION")
def _h6_10_5(t: Target) -> None:
    with connect(t) as c:
        c.send(c.headers(1, end_headers=False), data_frame(1, b"test", True))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/6.10/6", "CONTINUATION on another stream")
def _h6_10_6(t: Target) -> None:
    with connect(t) as c:
        block = encode_fields(c.request_fields())
        c.send(c.headers(1, block=block[:3], end_headers=False),
               frame(CONTINUATION, END_HEADERS, 3, block[3:]))
        c.expect_connection_error(PROTOCOL_ERROR)


@case("http2/7/1", "GOAWAY with an unknown error code")
def _h7_1(t: Target) -> None:
    with connect(t) as c:
        c.send(goaway_frame(0, 0xFF))
        c.ping_answered_or_closed()


@case("http2/7/2", "RST_STREAM with an unknown error code")
def _h7_2(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1, end_stream=False), rst_stream_frame(1, 0xFF))
        c.ping_answered_or_closed()


# http2/8 HTTP message exchanges ----------------------------------------------------------------

@case("http2/8.1/1", "a second HEADERS without END_STREAM after DATA")
def _h8_1_1(t: Target) -> None:
    with connect(t) as c:
        _post(c, 1, [data_frame(1, b"test"), c.headers(1, [("x-trailer", "1")], end_stream=False)])
        c.expect_stream_error(1, PROTOCOL_ERROR)


def _malformed(case_id: str, description: str, block: Callable[[Client], bytes],
               body: bytes | None = None, trailers: bool = False) -> None:
    @case(case_id, description)
    def run(t: Target) -> None:
        with connect(t) as c:
            frames = []
            if trailers:
                frames = [c.headers(1, c.request_fields("POST"), end_stream=False),
                          data_frame(1, b"test"), c.headers(1, block=block(c))]
            elif body is None:
                frames = [c.headers(1, block=block(c))]
            else:
                frames = [c.headers(1, block=block(c), end_stream=False), data_frame(1, body, True)]
            c.send(*frames)
            c.expect_stream_error(1, PROTOCOL_ERROR)


def _req(c: Client, method: str = "GET", skip: str = "", extra: Sequence[tuple[str, str]] = (),
         dup: str = "") -> bytes:
    fields = [f for f in c.request_fields(method) if f[0] != skip]
    out = encode_fields(fields)
    if dup:
        out += encode_fields([f for f in fields if f[0] == dup])
    return out + b"".join(literal(n, v) for n, v in extra)


_malformed("http2/8.1.2/1", "an upper-case field name",
           lambda c: _req(c, extra=[("X-TEST", "ok")]))
_malformed("http2/8.1.2.1/1", "an unknown pseudo-header field",
           lambda c: _req(c, extra=[(":test", "ok")]))
_malformed("http2/8.1.2.1/2", "a response pseudo-header field in a request",
           lambda c: _req(c, extra=[(":status", "200")]))
_malformed("http2/8.1.2.1/3", "a pseudo-header field in trailers",
           lambda c: literal(":method", "POST"), trailers=True)
_malformed("http2/8.1.2.1/4", "a pseudo-header field after a regular one",
           lambda c: encode_fields([("x-test", "ok"), *c.request_fields()]))
_malformed("http2/8.1.2.2/1", "a connection-specific field",
           lambda c: _req(c, extra=[("connection", "keep-alive")]))
_malformed("http2/8.1.2.2/2", "te other than trailers",
           lambda c: _req(c, extra=[("te", "trailers, deflate")]))
_malformed("http2/8.1.2.3/1", "an empty :path",
           lambda c: encode_fields([(":method", "GET"), (":scheme", "http"), (":path", ""),
                                    (":authority", c.target.host_header)]))
_malformed("http2/8.1.2.3/2", "no :method", lambda c: _req(c, skip=":method"))
_malformed("http2/8.1.2.3/3", "two :method", lambda c: _req(c, dup=":method"))
_malformed("http2/8.1.2.3/4", "no :scheme", lambda c: _req(c, skip=":scheme"))
_malformed("http2/8.1.2.3/5", "two :scheme", lambda c: _req(c, dup=":scheme"))
_malformed("http2/8.1.2.3/6", "no :path", lambda c: _req(c, skip=":path"))
_malformed("http2/8.1.2.3/7", "two :path", lambda c: _req(c, dup=":path"))
_malformed("http2/8.1.2.6/1", "content-length above the DATA sent",
           lambda c: _req(c, "POST", extra=[("content-length", "1")]), body=b"test")
_malformed("http2/8.1.2.6/2", "content-length below the DATA sent",
           lambda c: _req(c, "POST", extra=[("content-length", "10")]), body=b"test")


@case("http2/8.2/1", "PUSH_PROMISE from a client")
def _h8_2_1(t: Target) -> None:
    with connect(t) as c:
        c.send(c.get(1, end_stream=False),
               frame(PUSH_PROMISE, END_HEADERS, 1,
                     struct.pack(">I", 2) + encode_fields(c.request_fields())))
        c.expect_connection_error(PROTOCOL_ERROR)


# hpack: decoding errors are COMPRESSION_ERROR (RFC 7541, RFC 9113 4.3) -------------------------

def _hpack_error(case_id: str, description: str, tail: bytes, head: bytes = b"") -> None:
    @case(case_id, description)
    def run(t: Target) -> None:
        with connect(t) as c:
            c.send(c.headers(1, block=head + encode_fields(c.request_fields()) + tail))
            c.expect_connection_error(COMPRESSION_ERROR)


_hpack_error("hpack/2.3.3/1", "an indexed field past the tables (index 70)", hpack_int(70, 7, 0x80))
_hpack_error("hpack/2.3.3/2", "a literal whose name index is past the tables",
             hpack_int(70, 6, 0x40) + hpack_string("test"))
_hpack_error("hpack/4.2/1", "a dynamic table size update at the end of a block",
             hpack_int(128, 5, 0x20))
_hpack_error("hpack/5.2/1", "Huffman padding longer than 7 bits",
             literal("x-test", "") [:-1] + bytes([0x82, 0x1F, 0xFF]))
_hpack_error("hpack/5.2/2", "Huffman padding not of ones",
             literal("x-test", "")[:-1] + bytes([0x81, 0x18]))
_hpack_error("hpack/5.2/3", "the EOS symbol in a Huffman string",
             literal("x-test", "")[:-1] + bytes([0x84, 0xFF, 0xFF, 0xFF, 0xFF]))
_hpack_error("hpack/6.1/1", "an indexed field with index 0", b"\x80")
_hpack_error("hpack/6.3/1", "a table size update above SETTINGS_HEADER_TABLE_SIZE", b"",
             hpack_int(2**20, 5, 0x20))


# attacks: bounded cost, the right answer, and the server keeps serving ---------------------------

def _expect_calm(c: Client, codes: Sequence[int] = (ENHANCE_YOUR_CALM,)) -> None:
    """The attacked connection ends with GOAWAY(codes), or (not strict) a close."""
    deadline = time.monotonic() + 4 * c.target.timeout
    while time.monotonic() < deadline:
        f = c.next_frame()
        if f is None:
            if c.target.strict:
                raise CaseFailed("the connection closed without GOAWAY(ENHANCE_YOUR_CALM)")
            return
        if f.type == GOAWAY:
            if f.code not in codes:
                raise CaseFailed(f"expected GOAWAY({[ERROR_NAMES[x] for x in codes]}), got {f}")
            return
    raise CaseFailed("the attack was never answered")


@case("attack/rapid-reset", "Rapid Reset (CVE-2023-44487): streams opened and reset at once")
def _rapid_reset(t: Target) -> None:
    with connect(t) as c:
        c.send_flood(lambda i: c.get(1 + 2 * i, end_stream=False) +
                     rst_stream_frame(1 + 2 * i, CANCEL), 20000)
        _expect_calm(c)
    check_still_serving(t)


@case("attack/continuation-flood", "CONTINUATION flood (2024): a header block that never ends")
def _continuation_flood(t: Target) -> None:
    with connect(t) as c:
        c.send(c.headers(1, end_headers=False))
        c.send_flood(lambda i: frame(CONTINUATION, 0, 1, literal(f"x-c{i}", "v" * 64)), 20000, 50)
        _expect_calm(c, (ENHANCE_YOUR_CALM, PROTOCOL_ERROR, COMPRESSION_ERROR))
    check_still_serving(t)


@case("attack/hpack-bomb", "HPACK bomb: one large table entry referenced in 1-byte fields")
def _hpack_bomb(t: Target) -> None:
    with connect(t) as c:
        entry = literal("x-bomb", "b" * 3900, indexing="incremental")
        refs = hpack_int(62, 7, 0x80) * min(c.max_frame_size - 4096, 12000)
        c.send(c.headers(1, block=encode_fields(c.request_fields()) + entry + refs))
        f = c.wait(lambda f: f.stream == 1 or f.type == GOAWAY, "an answer to the bomb")
        if f.type == HEADERS:
            status = dict(f.fields).get(":status")
            if status != "431":
                raise CaseFailed(f"a decoded list of megabytes was accepted: status {status}")
        elif f.type == GOAWAY and f.code not in (ENHANCE_YOUR_CALM, COMPRESSION_ERROR):
            raise CaseFailed(f"unexpected {f}")
        elif f.type == RST_STREAM and f.code not in (REFUSED_STREAM, ENHANCE_YOUR_CALM,
                                                     PROTOCOL_ERROR, CANCEL):
            raise CaseFailed(f"unexpected {f}")
    check_still_serving(t)


@case("attack/hpack-bomb-zero-window", "HPACK bomb with a zero window (2026): repeated, unread")
def _hpack_bomb_zero_window(t: Target) -> None:
    with connect(t, {INITIAL_WINDOW_SIZE: 0}) as c:
        entry = literal("x-bomb", "b" * 3900, indexing="incremental")
        refs = hpack_int(62, 7, 0x80) * 2000
        c.send(c.headers(1, block=encode_fields(c.request_fields()) + entry + refs))
        c.send_flood(lambda i: c.headers(3 + 2 * i, block=encode_fields(c.request_fields()) + refs),
                     3000, 20)
        _expect_calm(c, (ENHANCE_YOUR_CALM,))
    check_still_serving(t)


@case("attack/ping-flood", "PING flood (CVE-2019-9512): the peer sends PINGs and reads nothing")
def _ping_flood(t: Target) -> None:
    with connect(t) as c:
        c.send_flood(lambda i: ping_frame(struct.pack(">Q", i)), 100000, 1000)
        _expect_calm(c)
    check_still_serving(t)


@case("attack/settings-flood", "SETTINGS flood (CVE-2019-9515)")
def _settings_flood(t: Target) -> None:
    with connect(t) as c:
        c.send_flood(lambda i: settings_frame({MAX_HEADER_LIST_SIZE: 65536}), 100000, 1000)
        _expect_calm(c)
    check_still_serving(t)


@case("attack/empty-frames", "empty DATA frames (CVE-2019-9518)")
def _empty_frames(t: Target) -> None:
    with connect(t) as c:
        c.send(c.headers(1, c.request_fields("POST"), end_stream=False))
        c.send_flood(lambda i: data_frame(1, b""), 100000, 1000)
        _expect_calm(c)
    check_still_serving(t)


@case("attack/window-update-flood", "WINDOW_UPDATE flood: increments of 1, nothing to send")
def _window_update_flood(t: Target) -> None:
    with connect(t) as c:
        c.send_flood(lambda i: window_update_frame(0, 1), 100000, 1000)
        _expect_calm(c, (ENHANCE_YOUR_CALM, FLOW_CONTROL_ERROR))
    check_still_serving(t)


@case("attack/made-you-reset", "MadeYouReset (CVE-2025-8671): the client makes the server reset")
def _made_you_reset(t: Target) -> None:
    with connect(t) as c:
        c.send_flood(lambda i: c.get(1 + 2 * i, end_stream=False) +
                     window_update_frame(1 + 2 * i, 0), 20000)
        _expect_calm(c)
    check_still_serving(t)


# --- running them ----------------------------------------------------------------------------

def groups() -> list[str]:
    return sorted({case_id.rsplit("/", 1)[0] for case_id in CASES})


def run_group(group: str, host: str, port: int, get_path: str = "/", echo_path: str = "/echo",
              **options: object) -> dict[str, str | None]:
    """Runs every case whose id starts with ``group`` ("generic", "http2/6.5", "attack", ...):
    {case id: None when it passed, else what failed}."""
    target = Target(host, port, get_path, echo_path, **options)  # type: ignore[arg-type]
    results: dict[str, str | None] = {}
    for case_id, run in CASES.items():
        if case_id == group or case_id.startswith(group.rstrip("/") + "/"):
            try:
                run(target)
                results[case_id] = None
            except (CaseFailed, OSError) as exc:
                results[case_id] = f"{DESCRIPTIONS[case_id]}: {exc}"
    return results
