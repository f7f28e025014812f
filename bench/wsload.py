"""WebSocket echo load client: N connections, each keeping one message in flight.

Speaks RFC 6455 over raw sockets (no client library in the way): each connection sends a
pre-masked frame, waits for the echo, records the round trip and sends again. Prints one JSON
object: messages/s, p50/p99 latency in ms, errors.

    python -m bench.wsload --port 8000 --connections 64 --size 32 --duration 5
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import struct
import sys
import time
from typing import List

OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x1, 0x2, 0x8, 0x9, 0xA


def mask(payload: bytes, key: bytes) -> bytes:
    n = len(payload)
    stream = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(payload, "little") ^ int.from_bytes(stream, "little")).to_bytes(
        n, "little"
    )


def client_frame(opcode: int, payload: bytes) -> bytes:
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
    elif n < 65536:
        head = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
    else:
        head = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
    key = os.urandom(4)
    return head + key + mask(payload, key)


class EchoClient(asyncio.Protocol):
    def __init__(self, run: LoadRun) -> None:
        self.run = run
        self.transport: asyncio.Transport | None = None
        self.buffer = bytearray()
        self.upgraded = False
        self.sent_at = 0.0
        self.message = client_frame(run.opcode, run.payload)
        self.ready: asyncio.Future = asyncio.get_running_loop().create_future()
        self.closed: asyncio.Future = asyncio.get_running_loop().create_future()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        key = base64.b64encode(os.urandom(16))
        self.transport.write(  # type: ignore[union-attr]
            b"GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            b"Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n"
            % (self.run.path.encode(), key)
        )

    def send(self) -> None:
        self.sent_at = time.perf_counter()
        self.transport.write(self.message)  # type: ignore[union-attr]

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        if not self.upgraded:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            if not self.buffer.startswith(b"HTTP/1.1 101"):
                self.fail(f"handshake answered {bytes(self.buffer[:40])!r}")
                return
            del self.buffer[: end + 4]
            self.upgraded = True
            self.ready.set_result(None)
        self.parse_frames()

    def parse_frames(self) -> None:
        buf = self.buffer
        pos = 0
        while len(buf) - pos >= 2:
            first = buf[pos]
            opcode = first & 0x0F
            length = buf[pos + 1] & 0x7F
            head = 2
            if length == 126:
                if len(buf) - pos < 4:
                    break
                length = struct.unpack_from("!H", buf, pos + 2)[0]
                head = 4
            elif length == 127:
                if len(buf) - pos < 10:
                    break
                length = struct.unpack_from("!Q", buf, pos + 2)[0]
                head = 10
            if len(buf) - pos < head + length:
                break
            payload_at = pos + head
            pos = payload_at + length
            if opcode in (OP_TEXT, OP_BINARY, 0) and first & 0x80:
                self.run.done(self, length)
            elif opcode == OP_PING:
                ping = bytes(buf[payload_at:pos])
                self.transport.write(client_frame(OP_PONG, ping))  # type: ignore[union-attr]
            elif opcode == OP_CLOSE:
                self.fail("server closed the connection")
        del buf[:pos]

    def fail(self, why: str) -> None:
        self.run.errors.append(why)
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(why))
        self.transport.close()  # type: ignore[union-attr]

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.ready.done():
            self.ready.set_exception(ConnectionError(f"connection lost: {exc}"))
        if not self.closed.done():
            self.closed.set_result(None)


class LoadRun:
    def __init__(self, path: str, size: int, binary: bool) -> None:
        self.path = path
        self.opcode = OP_BINARY if binary else OP_TEXT
        self.payload = b"x" * size
        self.latencies: List[float] = []
        self.errors: List[str] = []
        self.short = 0
        self.sending = False

    def done(self, client: EchoClient, length: int) -> None:
        if length != len(self.payload):
            self.short += 1
        if not self.sending:
            return
        now = time.perf_counter()
        self.latencies.append(now - client.sent_at)
        client.send()


def percentile(sorted_values: List[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    return sorted_values[min(len(sorted_values) - 1, int(q * len(sorted_values)))]


async def run_load(host: str, port: int, connections: int, size: int, duration: float,
                   path: str = "/ws", binary: bool = False) -> dict:
    loop = asyncio.get_running_loop()
    run = LoadRun(path, size, binary)
    clients: List[EchoClient] = []
    for _ in range(connections):
        _, client = await loop.create_connection(lambda: EchoClient(run), host, port)
        clients.append(client)
    await asyncio.wait_for(asyncio.gather(*(c.ready for c in clients)), 10)
    run.sending = True
    cpu_started = os.times()
    started = time.perf_counter()
    for client in clients:
        client.send()
    await asyncio.sleep(duration)
    run.sending = False
    elapsed = time.perf_counter() - started
    cpu = os.times()
    cpu_used = cpu.user + cpu.system - cpu_started.user - cpu_started.system
    close = client_frame(OP_CLOSE, struct.pack("!H", 1000))
    for client in clients:
        client.transport.write(close)  # type: ignore[union-attr]
        client.transport.close()  # type: ignore[union-attr]
    await asyncio.wait([c.closed for c in clients], timeout=2)
    latencies = sorted(run.latencies)
    return {
        "msgs_per_s": len(latencies) / elapsed,
        "p50_ms": percentile(latencies, 0.50) * 1000,
        "p99_ms": percentile(latencies, 0.99) * 1000,
        "messages": len(latencies),
        # Near 1.0 the client, not the server, sets the pace.
        "client_cpu": cpu_used / elapsed,
        "errors": len(run.errors) + run.short,
        "error_samples": run.errors[:3],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", default="/ws")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument("--binary", action="store_true", help="binary frames instead of text")
    args = parser.parse_args()
    coro = run_load(args.host, args.port, args.connections, args.size, args.duration,
                    args.path, args.binary)
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:
        runner = asyncio.run
    try:
        result = runner(coro)
    except (OSError, asyncio.TimeoutError) as exc:
        result = {"error": f"{type(exc).__name__}: {exc}"}
    json.dump(result, sys.stdout)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
