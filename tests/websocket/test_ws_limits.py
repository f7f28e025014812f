"""--ws-max-size (1009), --ws-max-queue (reading pauses for an app that does not receive),
send() waiting for a client that does not read, and permessage-deflate on this server."""

from __future__ import annotations

import socket
import struct
import time
import uuid
import zlib

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect
from ws_server import APP, REPO, events, server_args
from ws_wire import BINARY, TEXT, WsConn, frame

from helpers import ServerProcess, rss, run_server, sanitized

MAX_SIZE = 64 * 1024
SERVER_ARGS = ["--ws-max-size", str(MAX_SIZE), "--ws-max-queue", "4"]



def test_message_at_max_size_passes(server: ServerProcess) -> None:
    with connect(f"ws://127.0.0.1:{server.port}/echo", max_size=None) as ws:
        ws.send(b"a" * MAX_SIZE)
        assert ws.recv() == b"a" * MAX_SIZE


def test_message_over_max_size_is_1009(server: ServerProcess) -> None:
    with connect(f"ws://127.0.0.1:{server.port}/echo", compression=None) as ws:
        ws.send(b"a" * (MAX_SIZE + 1))
        with pytest.raises(ConnectionClosed) as info:
            ws.recv()
    assert info.value.rcvd.code == 1009


def test_fragments_over_max_size_are_1009(server: ServerProcess) -> None:
    with WsConn(server.port) as c:
        c.upgrade()
        c.send(frame(TEXT, b"a" * (MAX_SIZE // 2), fin=False))
        c.send(frame(0x0, b"a" * (MAX_SIZE // 2), fin=False))
        c.send(frame(0x0, b"a", fin=True))
        assert c.read_close()[0] == 1009
        c.expect_eof()


def test_announced_huge_length_is_1009_before_payload(server: ServerProcess) -> None:
    with WsConn(server.port) as c:
        c.upgrade()
        c.send(frame(BINARY, b"", length=2**40)[:14])  # header only; no payload follows
        assert c.read_close()[0] == 1009


def test_compressed_bomb_is_1009(server: ServerProcess) -> None:
    # A small compressed frame that inflates past the limit.
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    payload = compressor.compress(b"\0" * (MAX_SIZE * 8)) + compressor.flush(zlib.Z_SYNC_FLUSH)
    payload = payload[:-4]
    with WsConn(server.port) as c:
        headers = c.upgrade(extra=[("Sec-WebSocket-Extensions", "permessage-deflate")])
        assert headers["sec-websocket-extensions"].startswith("permessage-deflate")
        c.send(frame(BINARY, payload, rsv=0b100))
        assert c.read_close()[0] == 1009


def test_deflate_negotiated_and_used(server: ServerProcess) -> None:
    text = "compress me " * 500
    with connect(f"ws://127.0.0.1:{server.port}/echo") as ws:
        assert "permessage-deflate" in ws.response.headers["sec-websocket-extensions"]
        for _ in range(3):  # context takeover across messages
            ws.send(text)
            assert ws.recv() == text
    with WsConn(server.port) as c:
        c.upgrade(extra=[("Sec-WebSocket-Extensions", "permessage-deflate")])
        c.send(frame(TEXT, text.encode()))
        opcode, payload, _, rsv = c.read_frame()
        assert opcode == TEXT and rsv == 0b100 and len(payload) < len(text) // 10
        assert zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff") == text.encode()


def send_until_stalled(c: WsConn, stream: bytes, stall: float) -> int:
    """Sends without blocking until the server stops reading for ``stall`` s; bytes sent."""
    c.sock.setblocking(False)
    offset = 0
    stalled_since = time.monotonic()
    while offset < len(stream) and time.monotonic() - stalled_since < stall:
        try:
            offset += c.sock.send(stream[offset:offset + (1 << 20)])
            stalled_since = time.monotonic()
        except BlockingIOError:
            time.sleep(0.01)  # pacing a non-blocking send; the stall itself is the signal
    c.sock.setblocking(True)
    c.sock.settimeout(10)
    return offset


def release_and_count(server: ServerProcess, c: WsConn, token: str, rest: bytes) -> int:
    """Lets the /slow app receive, sends the rest and "last"; how many messages it counted."""
    httpx.get(f"{server.url}/release/{token}", timeout=5)
    c.send(rest + frame(TEXT, b"last"))
    opcode, payload, _, _ = c.read_frame(timeout=30)
    assert opcode == TEXT
    return int(payload)


def test_max_queue_pauses_reading(server: ServerProcess) -> None:
    token = uuid.uuid4().hex
    message = frame(BINARY, b"q" * 60000)
    total = 600  # 36 MB: far beyond what socket buffers hold if the server kept reading
    with WsConn(server.port) as c:
        c.upgrade(f"/slow?token={token}")
        assert events(server, token) == ["waiting"]
        stream = message * total
        offset = send_until_stalled(c, stream, 0.5)
        assert offset < len(stream) // 2, "the server kept reading though the app did not receive"
        # Releasing the app lets everything through, in order and complete.
        assert release_and_count(server, c, token, stream[offset:]) == total + 1


def test_max_queue_holds_tiny_frames_as_bytes(server: ServerProcess) -> None:
    # 5000 one-byte messages arrive in one read: the server stops turning them into messages at
    # the queue limit, keeps the rest as bytes and reads them as the app catches up; none lost.
    token = uuid.uuid4().hex
    total = 5000
    with WsConn(server.port) as c:
        c.upgrade(f"/slow?token={token}")
        assert events(server, token) == ["waiting"]
        c.send(b"".join(frame(BINARY, bytes([i % 256])) for i in range(total)))
        assert release_and_count(server, c, token, b"") == total + 1


def test_queue_is_bounded_in_bytes_for_an_app_that_does_not_receive(parser: str) -> None:
    # 1 MiB messages to an app that does not receive: reading pauses at --ws-max-queue-bytes
    # (4 MiB by default), long before --ws-max-queue (32) messages. The process grows by about
    # that, one message being read and one read of bytes, not by 32 MiB.
    mib = 1024 * 1024
    args = server_args(APP, parser, ["--ws-max-size", str(2 * mib),
                                     "--ws-per-message-deflate", "false"])
    token = uuid.uuid4().hex
    message = frame(BINARY, b"m" * mib)
    total = 64
    with run_server(args, cwd=str(REPO)) as server, WsConn(server.port) as c:
        c.upgrade(f"/slow?token={token}")
        assert events(server, token) == ["waiting"]
        before = rss(server.pid)
        stream = message * total
        offset = send_until_stalled(c, stream, 1.0)
        grown = rss(server.pid) - before
        if not sanitized():
            assert grown < 16 * mib, f"RSS +{grown / mib:.1f} MiB for {offset / mib:.0f} MiB sent"
        assert offset < len(stream) // 2, "the server kept reading though the app did not receive"
        # Nothing is lost: released, the app gets every message, in order.
        assert release_and_count(server, c, token, stream[offset:]) == total + 1


def test_send_waits_for_a_client_that_does_not_read(server: ServerProcess) -> None:
    token = uuid.uuid4().hex
    count, size = 1000, 60000  # 60 MB
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c = WsConn.__new__(WsConn)
    c.sock, c.timeout, c.buf, c.eof = sock, 10.0, b"", False
    with c:
        c.upgrade(f"/flood?token={token}&count={count}&size={size}")
        r = httpx.get(f"{server.url}/events/{token}?count=1&timeout=1", timeout=15)
        assert "sent all" not in r.text  # the app is held in send()
        received = 0
        while received < count:
            opcode, payload, _, _ = c.read_frame(timeout=10)
            assert opcode == BINARY and len(payload) == size
            received += 1
    assert events(server, token) == ["sent all"]


def test_deflate_off() -> None:
    args = server_args(APP, "pico", ["--ws-per-message-deflate", "false"])
    with run_server(args, cwd=str(REPO)) as server:
        with connect(f"ws://127.0.0.1:{server.port}/echo") as ws:
            assert "sec-websocket-extensions" not in ws.response.headers
            ws.send("plain " * 100)
            assert ws.recv() == "plain " * 100
        with WsConn(server.port) as c:
            c.upgrade(extra=[("Sec-WebSocket-Extensions", "permessage-deflate")])
            c.send(frame(TEXT, b"x", rsv=0b100))  # RSV1 without the extension
            assert c.read_close()[0] == 1002


def test_send_waiting_for_the_drain_raises_when_the_client_leaves(server: ServerProcess) -> None:
    # ASGI 2.4: send() on a closed connection raises an OSError; the one send() of an app, waiting
    # for a client that stopped reading, learns it the same way when the connection is lost.
    token = uuid.uuid4().hex
    sock = socket.create_connection(("127.0.0.1", server.port))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    c = WsConn.__new__(WsConn)
    c.sock, c.timeout, c.buf, c.eof = sock, 10.0, b"", False
    c.upgrade(f"/flood?token={token}&count=1&size={8 * 1024 * 1024}")  # one send(), held
    r = httpx.get(f"{server.url}/events/{token}?count=1&timeout=1", timeout=15)
    assert "sent all" not in r.text and "send failed" not in r.text  # held in send()
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()  # a reset: the server sees the connection lost at once
    assert events(server, token) == ["send failed: ClientDisconnected"]
