"""Ten HTTP/2 streams in flight (the ``h2-plaintext`` scenario, h2load -m10) through ruvicorn's
whole per-request path in one process, without sockets: a round is one read of ten GET
/plaintext HEADERS frames, the apps' responses and the write, and the next round is fed once
every response of this one was written (as h2load sends new requests as answers arrive). Each
benchmark call runs ROUNDS rounds; ``STREAMS=1`` makes it one request per read.

Where perf has no hardware counters (a VM), instructions per request come from callgrind over
two round counts, the difference divided by the requests between them (no sockets, no timing:
the count is the same from run to run within a few instructions):

    valgrind --tool=callgrind python -m bench.micro.test_h2_round 200
    valgrind --tool=callgrind python -m bench.micro.test_h2_round 1200
"""

from __future__ import annotations

import asyncio
import os
import struct
import sys
from typing import Any, List

import pytest

from bench.micro.test_ws_session import Transport, protocol_for

ROUNDS = 100
STREAMS = int(os.environ.get("STREAMS", "10"))
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
FIELDS = [(":method", "GET"), (":path", "/plaintext"), (":scheme", "http"),
          (":authority", "bench"), ("user-agent", "h2load nghttp2/1.52.0"), ("accept", "*/*")]


def frame(ftype: int, flags: int, stream: int, payload: bytes = b"") -> bytes:
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


class H2Transport(Transport):
    """The stand-in transport, also taking the HTTP/2 protocol the HTTP/1 one hands over to."""

    def __init__(self, driver: Rounds) -> None:
        super().__init__()
        self.driver = driver
        self.on_write = driver.wrote

    def set_protocol(self, protocol: Any) -> None:
        self.driver.protocol = protocol

    def get_protocol(self) -> Any:
        return self.driver.protocol


class Rounds:
    """Drives one prior-knowledge HTTP/2 connection through rounds of STREAMS requests."""

    def __init__(self, loop: asyncio.AbstractEventLoop, protocol: Any) -> None:
        import hpack

        self.loop = loop
        self.protocol = protocol
        encoder = hpack.Encoder()
        self.first_block = encoder.encode(FIELDS)
        self.block = encoder.encode(FIELDS)  # every later block: all fields indexed
        assert self.block == encoder.encode(FIELDS)
        self.next_stream = 1
        self.reads: List[bytes] = []
        self.fed = self.ended = 0
        self.buffer = b""
        protocol.connection_made(H2Transport(self))
        # Preface, SETTINGS and its ACK, the connection window at its largest: one round.
        start = PREFACE + frame(0x4, 0, 0) + frame(0x4, 0x1, 0) + \
            frame(0x8, 0, 0, struct.pack(">I", 2**31 - 1 - 65535))
        self.prepare(1)
        self.reads[0] = start + self.reads[0]
        self.run()

    def prepare(self, rounds: int = ROUNDS) -> None:
        """The reads of the next `rounds` rounds (built before they are timed)."""
        self.reads = []
        for _ in range(rounds):
            data = b""
            for _ in range(STREAMS):
                block = self.first_block if self.next_stream == 1 else self.block
                data += frame(0x1, 0x5, self.next_stream, block)  # END_STREAM | END_HEADERS
                self.next_stream += 2
            self.reads.append(data)

    def feed(self) -> None:
        data = self.reads[self.fed]
        self.fed += 1
        self.protocol.data_received(data)

    def wrote(self, data: bytes) -> None:
        buffer, pos = self.buffer + data, 0
        while len(buffer) - pos >= 9:
            length = int.from_bytes(buffer[pos:pos + 3], "big")
            if len(buffer) - pos < 9 + length:
                break
            if buffer[pos + 3] == 0x0 and buffer[pos + 4] & 0x1:  # DATA with END_STREAM
                self.ended += 1
            pos += 9 + length
        self.buffer = buffer[pos:]
        if self.ended == STREAMS * self.fed:
            if self.fed < len(self.reads):
                self.loop.call_soon(self.feed)
            else:
                self.loop.stop()

    def run(self) -> int:
        """Feeds the prepared rounds; returns the responses completed so far."""
        self.fed = self.ended = 0
        self.loop.call_soon(self.feed)
        self.loop.run_forever()
        assert self.ended == STREAMS * len(self.reads), (self.ended, len(self.reads))
        return self.ended


def ruvicorn_protocol(loop: asyncio.AbstractEventLoop) -> Any:
    from bench.apps import app

    return protocol_for(loop, app)


def test_h2_plaintext_round(benchmark: Any, loop: Any) -> None:
    pytest.importorskip("hpack")
    benchmark.group = f"h2-plaintext-x{ROUNDS}x{STREAMS}"
    rounds = Rounds(loop, ruvicorn_protocol(loop))
    done = benchmark.pedantic(rounds.run, setup=rounds.prepare, rounds=20)
    assert done == ROUNDS * STREAMS


if __name__ == "__main__":
    import uvloop

    event_loop = uvloop.new_event_loop()
    asyncio.set_event_loop(event_loop)
    driver = Rounds(event_loop, ruvicorn_protocol(event_loop))
    driver.prepare(int(sys.argv[1]) if len(sys.argv) > 1 else ROUNDS)
    print(driver.run(), "responses")
