"""One WebSocket message in flight (the ``ws-32`` echo) through ruvicorn's whole per-message path
in one process, without sockets: a stand-in transport hands each echoed frame to a callback that
schedules the next client frame with ``loop.call_soon`` (as a new read would arrive), so a round is
data_received, frame reading and unmasking, the message dict, the wake-up of the app's waiting
``receive()``, the app's ``send()`` and the write. The ceiling is ``bench.ceiling``'s bare
Protocol (canned reply, no unmasking, no ASGI) under the same driver: the ratio of the two is the
share of a round that is ruvicorn's per-message work. Each benchmark call runs 1000 rounds."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

import pytest

ROUNDS = 1000
_MASK = b"\x37\xfa\x21\x3d"
UPGRADE = (
    b"GET /ws HTTP/1.1\r\nHost: bench\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    b"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
)
PAYLOADS = {
    "text-ascii": (0x1, b"x" * 32),
    "text-utf8": (0x1, "h\u00e9llo w\u00f6rld, 32 bytes \u00fc\u00df!".encode()),
    "binary": (0x2, bytes(range(32))),
}


def client_frame(opcode: int, payload: bytes) -> bytes:
    assert len(payload) < 126
    masked = bytes(b ^ _MASK[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + _MASK + masked


class Transport:
    """Just what the protocols call; write() reports each write to the driver."""

    def __init__(self) -> None:
        self.on_write: Callable[[bytes], None] = lambda data: None

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": ("127.0.0.1", 50000), "sockname": ("127.0.0.1", 8000)}.get(
            name, default)

    def write(self, data: bytes) -> None:
        self.on_write(data)

    def is_closing(self) -> bool:
        return False

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def close(self) -> None:
        pass


class Echo:
    """Drives `protocol` through `rounds` echoes of `frame` per call."""

    def __init__(self, loop: asyncio.AbstractEventLoop, protocol: Any, frame: bytes) -> None:
        self.loop = loop
        self.protocol = protocol
        self.frame = frame
        self.transport = Transport()
        self.left = 0
        self.last = b""
        protocol.connection_made(self.transport)

    def wrote(self, data: bytes) -> None:
        self.last = data
        self.left -= 1
        if self.left > 0:
            self.loop.call_soon(self.protocol.data_received, self.frame)
        else:
            self.loop.stop()

    def upgrade(self) -> None:
        self.left = 1  # the 101
        self.transport.on_write = self.wrote
        self.protocol.data_received(UPGRADE)
        self.loop.run_forever()
        assert self.last.startswith(b"HTTP/1.1 101"), self.last

    def close(self) -> None:
        """Ends the connection and lets the app return (no task left pending)."""
        self.transport.on_write = lambda data: None
        self.protocol.connection_lost(None)
        self.loop.run_until_complete(asyncio.sleep(0.01))

    def run(self, rounds: int = ROUNDS) -> bytes:
        self.left = rounds
        self.loop.call_soon(self.protocol.data_received, self.frame)
        self.loop.run_forever()
        return self.last


def protocol_for(loop: asyncio.AbstractEventLoop, app: Any, **options: Any) -> Any:
    """A connection's protocol as ruvicorn's server makes it, serving `app` (Config options)."""
    pytest.importorskip("ruvicorn._core")
    from ruvicorn.config import Config
    from ruvicorn.protocols import create_http_factory
    from ruvicorn.server import ServerState

    config = Config(app, access_log=False, lifespan="off", **options)
    return create_http_factory(config, loop, app, ServerState())()


def ruvicorn_protocol(loop: asyncio.AbstractEventLoop) -> Any:
    from bench.apps import websocket_echo

    return protocol_for(loop, websocket_echo, ws_ping_interval=None,
                        ws_per_message_deflate=False)


def ceiling_protocol(loop: asyncio.AbstractEventLoop) -> Any:  # noqa: ARG001
    from bench.ceiling import CannedProtocol

    return CannedProtocol()


SERVERS = {"ruvicorn": ruvicorn_protocol, "ceiling": ceiling_protocol}


@pytest.mark.parametrize("payload", list(PAYLOADS))
@pytest.mark.parametrize("server", list(SERVERS))
def test_ws_echo_round(benchmark: Any, loop: Any, server: str, payload: str) -> None:
    if server == "ceiling" and payload != "text-ascii":
        pytest.skip("the ceiling answers every frame alike")
    benchmark.group = f"ws-echo-{payload}-x{ROUNDS}"
    opcode, data = PAYLOADS[payload]
    echo = Echo(loop, SERVERS[server](loop), client_frame(opcode, data))
    echo.upgrade()
    last = benchmark(echo.run)
    assert len(last) == 2 + len(data)
    if server == "ruvicorn":
        assert last == bytes([0x80 | opcode, len(data)]) + data
    echo.close()
