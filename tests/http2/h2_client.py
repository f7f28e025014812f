"""A synchronous HTTP/2 test client on the python ``h2`` library (a real, independent HTTP/2
implementation): plain sockets with prior knowledge, or TLS with ALPN "h2". Every read has a
deadline; responses are collected per stream, including informational responses, trailers,
resets and the server's GOAWAY.
"""

from __future__ import annotations

import socket
import ssl
import time
from dataclasses import dataclass, field
from typing import Any, Iterable

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h2.settings

Headers = list[tuple[bytes, bytes]]
DEFAULT_TIMEOUT = 10.0


@dataclass
class StreamResult:
    informational: list[Headers] = field(default_factory=list)
    headers: Headers = field(default_factory=list)
    body: bytes = b""
    trailers: Headers = field(default_factory=list)
    ended: bool = False
    reset: int | None = None  # the server's RST_STREAM error code
    data_frames: int = 0

    @property
    def status(self) -> int:
        return int(dict(self.headers)[b":status"])

    def header(self, name: bytes) -> bytes | None:
        values = [v for k, v in self.headers if k == name]
        return values[0] if values else None

    @property
    def done(self) -> bool:
        return self.ended or self.reset is not None


class H2Client:
    def __init__(self, port: int, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None,
                 timeout: float = DEFAULT_TIMEOUT, settings: dict[int, int] | None = None,
                 auto_window: bool = True, server_hostname: str = "localhost") -> None:
        sock = socket.create_connection((host, port), timeout=timeout)
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname=server_hostname)
            assert sock.selected_alpn_protocol() == "h2", sock.selected_alpn_protocol()
        self.sock = sock
        self.timeout = timeout
        self.auto_window = auto_window  # give back flow-control credit as data arrives
        config = h2.config.H2Configuration(client_side=True, header_encoding=None,
                                           validate_inbound_headers=False)
        self.conn = h2.connection.H2Connection(config=config)
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.flush()
        self.streams: dict[int, StreamResult] = {}
        self.goaway: h2.events.ConnectionTerminated | None = None
        self.remote_settings: dict[int, int] = {}
        self.pings_received = 0
        self.closed = False

    def __enter__(self) -> H2Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def flush(self) -> None:
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    # --- requests ---------------------------------------------------------------------------

    def request(self, method: str, path: str, headers: Iterable[tuple[bytes, bytes]] = (),
                body: bytes | None = None, end: bool = True, authority: str = "localhost",
                scheme: str = "http") -> int:
        stream_id = self.conn.get_next_available_stream_id()
        request_headers = [(b":method", method.encode()), (b":path", path.encode()),
                           (b":scheme", scheme.encode()), (b":authority", authority.encode())]
        request_headers += list(headers)
        end_headers_only = end and not body
        self.conn.send_headers(stream_id, request_headers, end_stream=end_headers_only)
        self.streams[stream_id] = StreamResult()
        if body:
            self.send_data(stream_id, body, end=end)
        self.flush()
        return stream_id

    def send_data(self, stream_id: int, data: bytes, end: bool = False) -> None:
        """Sends as much as the windows allow now, waiting for WINDOW_UPDATEs for the rest."""
        deadline = time.monotonic() + self.timeout
        view = memoryview(data)
        while True:
            window = min(self.conn.local_flow_control_window(stream_id),
                         self.conn.max_outbound_frame_size)
            if len(view) == 0:
                if end:
                    self.conn.end_stream(stream_id)
                self.flush()
                return
            if window > 0:
                chunk, view = view[:window], view[window:]
                self.conn.send_data(stream_id, bytes(chunk), end_stream=end and len(view) == 0)
                self.flush()
                if len(view) == 0:
                    return
                continue
            self.pump(deadline)

    def reset(self, stream_id: int, code: int = 8) -> None:
        self.conn.reset_stream(stream_id, error_code=code)
        self.flush()

    def get(self, path: str, **kwargs: Any) -> StreamResult:
        return self.response(self.request("GET", path, **kwargs))

    # --- responses ----------------------------------------------------------------------------

    def response(self, stream_id: int, timeout: float | None = None) -> StreamResult:
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        result = self.streams[stream_id]
        while not result.done:
            self.pump(deadline)
        return result

    def wait(self, condition: Any, timeout: float | None = None) -> None:
        """Reads until ``condition()`` is true (TimeoutError at the deadline)."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while not condition():
            self.pump(deadline)

    def wait_closed(self, timeout: float | None = None) -> bool:
        """True if the server closes the connection within the timeout."""
        try:
            self.wait(lambda: self.closed, timeout)
        except TimeoutError:
            return False
        return True

    def pump(self, deadline: float) -> None:
        """Reads once (bounded by the deadline) and handles the events."""
        if self.closed:
            raise ConnectionError("the server closed the connection")
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed waiting for the server")
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except socket.timeout as exc:
            raise TimeoutError("deadline passed waiting for the server") from exc
        except (ConnectionResetError, BrokenPipeError, ssl.SSLError):
            data = b""
        if not data:
            self.closed = True
            return
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError:
            self.closed = True
            raise
        for event in events:
            self.handle(event)
        self.flush()

    def handle(self, event: Any) -> None:
        stream = self.streams.get(getattr(event, "stream_id", 0) or 0)
        if isinstance(event, h2.events.InformationalResponseReceived):
            if stream is not None:
                stream.informational.append(list(event.headers))
        elif isinstance(event, h2.events.ResponseReceived):
            if stream is not None:
                stream.headers = list(event.headers)
        elif isinstance(event, h2.events.DataReceived):
            if stream is not None:
                stream.body += event.data
                stream.data_frames += 1
            if self.auto_window and event.flow_controlled_length:
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
        elif isinstance(event, h2.events.TrailersReceived):
            if stream is not None:
                stream.trailers = list(event.headers)
        elif isinstance(event, h2.events.StreamEnded):
            if stream is not None:
                stream.ended = True
        elif isinstance(event, h2.events.StreamReset):
            if stream is not None:
                stream.reset = int(event.error_code)
        elif isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = event
        elif isinstance(event, h2.events.PingReceived):
            self.pings_received += 1  # h2 answers it (ACK) by itself
        elif isinstance(event, h2.events.RemoteSettingsChanged):
            for code, setting in event.changed_settings.items():
                self.remote_settings[int(code)] = setting.new_value


def tls_client_context(ca: Any, alpn: list[str] | None = None) -> ssl.SSLContext:
    """A client context trusting the test CA (a trustme.CA), offering ``alpn``."""
    context = ssl.create_default_context()
    ca.configure_trust(context)
    context.set_alpn_protocols(alpn or ["h2"])
    return context


class RawH2:
    """Raw HTTP/2 frames on a plain socket, for what a client library hides or refuses (frames
    after the server's GOAWAY, exact frame sequences). HPACK by the ``hpack`` package."""

    PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"

    def __init__(self, port: int, host: str = "127.0.0.1", timeout: float = DEFAULT_TIMEOUT,
                 settings: bytes = b"") -> None:
        import hpack

        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.timeout = timeout
        self.buf = b""
        self.encoder = hpack.Encoder()
        self.decoder = hpack.Decoder()
        self.sock.sendall(self.PREFACE + self.frame(0x4, 0, 0, settings))

    def __enter__(self) -> RawH2:
        return self

    def __exit__(self, *exc: object) -> None:
        self.sock.close()

    @staticmethod
    def frame(ftype: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
        return (len(payload).to_bytes(3, "big") + bytes([ftype, flags]) +
                stream.to_bytes(4, "big") + payload)

    def headers(self, stream: int, fields: list[tuple[str, str]], end_stream: bool = True) -> None:
        block = self.encoder.encode(fields)
        self.sock.sendall(self.frame(0x1, 0x4 | (0x1 if end_stream else 0), stream, block))

    def read_frame(self, deadline: float) -> tuple[int, int, int, bytes] | None:
        """(type, flags, stream, payload), or None at EOF. SETTINGS are ACKed on the way."""
        while True:
            if len(self.buf) >= 9:
                length = int.from_bytes(self.buf[:3], "big")
                if len(self.buf) >= 9 + length:
                    head, payload = self.buf[:9], self.buf[9:9 + length]
                    self.buf = self.buf[9 + length:]
                    ftype, flags = head[3], head[4]
                    stream = int.from_bytes(head[5:9], "big") & 0x7FFFFFFF
                    if ftype == 0x4 and not flags & 0x1:
                        self.sock.sendall(self.frame(0x4, 0x1, 0))
                    return ftype, flags, stream, payload
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError("deadline passed waiting for the server")
            self.sock.settimeout(remaining)
            try:
                data = self.sock.recv(65536)
            except socket.timeout as exc:
                raise TimeoutError("deadline passed waiting for the server") from exc
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            if not data:
                return None
            self.buf += data

    def settle(self, timeout: float | None = None) -> None:
        """Reads until the server has ACKed our SETTINGS (its own were ACKed on the way), so
        that nothing of ours is sent later on its own."""
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        while (f := self.read_frame(deadline)) is not None:
            if f[0] == 0x4 and f[1] & 0x1:
                return
        raise ConnectionError("closed before the SETTINGS exchange ended")

    def frames_until_eof(self, timeout: float | None = None) -> list[tuple[int, int, int, bytes]]:
        deadline = time.monotonic() + (timeout if timeout is not None else self.timeout)
        frames = []
        while (f := self.read_frame(deadline)) is not None:
            frames.append(f)
        return frames
