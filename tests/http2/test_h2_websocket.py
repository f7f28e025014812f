"""WebSockets over HTTP/2 (RFC 8441): the server announces SETTINGS_ENABLE_CONNECT_PROTOCOL, an
extended CONNECT with ":protocol: websocket" becomes an ASGI websocket scope (http_version "2")
answered with 200, and the WebSocket frames (RFC 6455, the same C++ codec as on HTTP/1.1) travel
in the stream's DATA frames. Other streams of the connection keep working meanwhile."""

from __future__ import annotations

import ast
import socket
import struct
import time
import uuid
from typing import Any

from h2_client import H2Client, StreamResult
from ws_server import events
from ws_wire import BINARY, CLOSE, PING, PONG, TEXT, close_payload, frame

from helpers import ServerProcess

APP = "tests.websocket.ws_apps:app"
ENABLE_CONNECT_PROTOCOL = 0x8
INITIAL_WINDOW_SIZE = 0x4


class WsOverH2:
    """One WebSocket on one stream of an H2Client."""

    def __init__(self, client: H2Client, path: str = "/echo",
                 extra: list[tuple[bytes, bytes]] | None = None) -> None:
        self.client = client
        client.wait(lambda: ENABLE_CONNECT_PROTOCOL in client.remote_settings)
        assert client.remote_settings[ENABLE_CONNECT_PROTOCOL] == 1
        headers = [(b":method", b"CONNECT"), (b":protocol", b"websocket"),
                   (b":scheme", b"http"), (b":path", path.encode()),
                   (b":authority", b"localhost"), (b"sec-websocket-version", b"13")]
        self.stream = client.conn.get_next_available_stream_id()
        client.conn.send_headers(self.stream, headers + list(extra or []), end_stream=False)
        client.streams[self.stream] = StreamResult()
        client.flush()
        self.result = client.streams[self.stream]
        client.wait(lambda: self.result.headers or self.result.done)
        self.offset = 0

    @property
    def status(self) -> int:
        return self.result.status

    def send(self, data: bytes) -> None:
        self.client.send_data(self.stream, data)

    def read_frame(self, timeout: float = 10.0) -> tuple[int, bytes]:
        deadline = time.monotonic() + timeout
        while True:
            buf = self.result.body[self.offset:]
            parsed = parse_frame(buf)
            if parsed is not None:
                opcode, payload, used = parsed
                self.offset += used
                return opcode, payload
            if self.result.done:
                raise EOFError("stream ended")
            self.client.pump(deadline)


def parse_frame(buf: bytes) -> tuple[int, bytes, int] | None:
    if len(buf) < 2:
        return None
    b0, b1 = buf[0], buf[1]
    assert not b1 & 0x80, "server frames are not masked"
    n, pos = b1 & 0x7F, 2
    if n == 126:
        if len(buf) < 4:
            return None
        (n,) = struct.unpack("!H", buf[2:4])
        pos = 4
    elif n == 127:
        if len(buf) < 10:
            return None
        (n,) = struct.unpack("!Q", buf[2:10])
        pos = 10
    if len(buf) < pos + n:
        return None
    return b0 & 0x0F, buf[pos:pos + n], pos + n


def test_echo_over_a_stream(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        ws = WsOverH2(client, "/echo", [(b"sec-websocket-protocol", b"chat, superchat")])
        assert ws.status == 200
        assert ws.result.header(b"sec-websocket-protocol") == b"chat"
        assert ws.result.header(b"x-extra") == b"yes"
        assert ws.result.header(b"sec-websocket-accept") is None  # RFC 8441: no key, no accept
        ws.send(frame(TEXT, b"hello"))
        assert ws.read_frame() == (TEXT, b"hello")
        ws.send(frame(BINARY, b"\x00\x01" * 40000))  # beyond 64 KiB: extended length, windows
        assert ws.read_frame() == (BINARY, b"\x00\x01" * 40000)
        ws.send(frame(TEXT, b"scope"))
        opcode, payload = ws.read_frame()
        info: dict[str, Any] = ast.literal_eval(payload.decode())
        assert info["type"] == "websocket" and info["scheme"] == "ws" and info["path"] == "/echo"
        ws.send(frame(PING, b"p"))
        assert ws.read_frame() == (PONG, b"p")
        # Another stream on the same connection meanwhile.
        other = client.get("/plain")
        assert other.status == 200
        ws.send(frame(CLOSE, close_payload(1000)))
        opcode, payload = ws.read_frame()
        assert opcode == CLOSE and struct.unpack("!H", payload[:2])[0] == 1000
        client.wait(lambda: ws.result.done)
        assert ws.result.ended  # END_STREAM after the closing handshake (RFC 8441 4)


def test_app_close_code(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        ws = WsOverH2(client)
        ws.send(frame(TEXT, b"close:4001:bye"))
        opcode, payload = ws.read_frame()
        assert opcode == CLOSE and payload == struct.pack("!H", 4001) + b"bye"


def test_unmasked_client_frame_is_a_protocol_error(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        ws = WsOverH2(client)
        ws.send(frame(TEXT, b"x", masked=False))
        opcode, payload = ws.read_frame()
        assert opcode == CLOSE and struct.unpack("!H", payload[:2])[0] == 1002


def test_rejected_websocket_gets_403(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        ws = WsOverH2(client, "/reject")
        assert ws.status == 403
        client.wait(lambda: ws.result.done)


def test_wrong_version_is_refused(server: ServerProcess) -> None:
    with H2Client(server.port) as client:
        client.wait(lambda: ENABLE_CONNECT_PROTOCOL in client.remote_settings)
        stream = client.conn.get_next_available_stream_id()
        client.conn.send_headers(stream, [
            (b":method", b"CONNECT"), (b":protocol", b"websocket"), (b":scheme", b"http"),
            (b":path", b"/echo"), (b":authority", b"localhost"),
            (b"sec-websocket-version", b"8")], end_stream=False)
        client.streams[stream] = StreamResult()
        client.flush()
        result = client.response(stream)
    assert result.status == 426


def test_client_reset_is_a_1006_disconnect(server: ServerProcess) -> None:
    token = "h2-ws-reset"
    with H2Client(server.port) as client:
        ws = WsOverH2(client, f"/echo?token={token}")
        ws.send(frame(TEXT, b"x"))
        assert ws.read_frame() == (TEXT, b"x")
        client.reset(ws.stream)
        events = client.get(f"/events/{token}")
    assert ast.literal_eval(events.body.decode()) == [{"disconnect": 1006, "reason": None}]


def flooded_websocket(client: H2Client, token: str) -> WsOverH2:
    """A WebSocket whose app is held in its one 1 MiB send(): the client's stream window (set
    tiny by the caller) is never opened, so nearly all of it waits in the stream's queue."""
    ws = WsOverH2(client, f"/flood?token={token}&count=1&size={1024 * 1024}&again=1")
    assert ws.status == 200
    # The first bytes of the message arrived: the app is in send(), which waits for the window.
    client.wait(lambda: len(ws.result.body) > 0)
    return ws


def test_send_waiting_on_the_window_raises_when_the_client_resets(server: ServerProcess) -> None:
    # ASGI 2.4: send() on a closed WebSocket raises an OSError; one that was waiting for the
    # client's window learns it the same way when the client resets the stream.
    token = uuid.uuid4().hex
    with H2Client(server.port, settings={INITIAL_WINDOW_SIZE: 16}, auto_window=False) as client:
        ws = flooded_websocket(client, token)
        client.reset(ws.stream)
        assert events(server, token, count=2) == [
            "send failed: ClientDisconnected", "send again failed: ClientDisconnected"]


def test_send_waiting_on_the_window_raises_when_the_connection_is_lost(
        server: ServerProcess) -> None:
    token = uuid.uuid4().hex
    with H2Client(server.port, settings={INITIAL_WINDOW_SIZE: 16}, auto_window=False) as client:
        flooded_websocket(client, token)
    assert events(server, token, count=2) == [
        "send failed: ClientDisconnected", "send again failed: ClientDisconnected"]


def test_send_waiting_for_the_drain_raises_when_the_connection_is_lost(
        server: ServerProcess) -> None:
    # The windows are wide open but the client does not read its socket: send() waits for the
    # transport to drain, and learns of the lost connection the same way.
    token = uuid.uuid4().hex
    client = H2Client(server.port, settings={INITIAL_WINDOW_SIZE: 2**31 - 1})
    try:
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        client.conn.increment_flow_control_window(2**31 - 1 - 65535)
        client.flush()
        size = 32 * 1024 * 1024  # more than the socket buffers on either side hold
        ws = WsOverH2(client, f"/flood?token={token}&count=1&size={size}&again=1")
        assert ws.status == 200
        client.wait(lambda: len(ws.result.body) > 0)  # the app is in its send(); reading stops
        client.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    finally:
        client.close()  # a reset: the server sees the connection lost at once
    assert events(server, token, count=2) == [
        "send failed: ClientDisconnected", "send again failed: ClientDisconnected"]
