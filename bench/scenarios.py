"""The workloads. Order matters: one server process runs them in this order each round, and the
ones that grow the heap for good (1 MiB bodies, importing Starlette) come last so they do not
inflate the peak memory measured for the others.

Scenarios come in families, and each family runs in its own server process (a TLS server needs
another command line; a fresh process also makes the peak memory of HTTP/2 and HTTP/1.1 compare):
``http1`` (wrk and the WebSocket client), ``h2`` (h2load on cleartext, prior knowledge),
``h2-tls`` (h2load over TLS, ALPN h2) and ``h3`` (HTTP/3 over QUIC, bench/h3load.py). Each
``idle-*`` scenario (bench/idle.py: N connections that each made one request, then stay open) is
a family of its own, so its memory per connection is measured on a fresh heap."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import List, Tuple

HTTP1, H2, H2_TLS, H3 = "http1", "h2", "h2-tls", "h3"
IDLE_HTTP1, IDLE_WS, IDLE_H2 = "idle-http1", "idle-ws", "idle-h2"
FAMILIES = (HTTP1, H2, H2_TLS, H3, IDLE_HTTP1, IDLE_WS, IDLE_H2)
IDLE_CONNECTIONS = 10000


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    path: str
    connections: int = 64
    lua: str = ""  # script in bench/lua/, with its arguments
    lua_args: Tuple[str, ...] = ()
    headers: Tuple[str, ...] = ()
    ws_size: int = 0  # > 0: a WebSocket echo scenario with messages of this size
    ws_depth: int = 1  # messages each WebSocket connection keeps in flight
    # wrk's latency percentiles are garbage under pipelining (its coordinated-omission
    # correction fills buckets below the recorded minimum), so they are not reported there.
    latency: bool = True
    streams: int = 0  # > 0: an HTTP/2 scenario (h2load) with this many streams per connection
    tls: bool = False  # HTTP/2 over TLS (ALPN h2) rather than prior knowledge on cleartext
    upload: int = 0  # HTTP/2: bytes of request body h2load POSTs (-d)
    http1_twin: str = ""  # HTTP/2: the HTTP/1.1 scenario doing the same work, to compare with
    h3: bool = False  # HTTP/3 over QUIC (bench/h3load.py), `connections` QUIC connections
    idle: str = ""  # "http1", "ws" or "h2": open `connections` idle ones, measure RSS per each

    @property
    def is_ws(self) -> bool:
        return self.ws_size > 0

    @property
    def is_h2(self) -> bool:
        return self.streams > 0

    @property
    def is_h3(self) -> bool:
        return self.h3

    @property
    def is_idle(self) -> bool:
        return bool(self.idle)

    @property
    def family(self) -> str:
        if self.is_idle:
            return f"idle-{self.idle}"
        if self.h3:
            return H3
        if not self.is_h2:
            return HTTP1
        return H2_TLS if self.tls else H2


SCENARIOS: List[Scenario] = [
    Scenario("plaintext", "GET, 13-byte text, keep-alive", "/plaintext"),
    Scenario("json", "GET, JSON serialised per request", "/json"),
    Scenario("64k", "GET, 64 KiB response", "/64k"),
    Scenario("stream", "GET, 16 x 1 KiB streamed (chunked) response", "/stream"),
    Scenario("post-1k", "POST 1 KiB, echoed", "/echo", lua="post.lua", lua_args=("1024",)),
    Scenario("pipeline", "16 pipelined GET /plaintext per write", "/plaintext",
             lua="pipeline.lua", lua_args=("16",), latency=False),
    Scenario("close", "GET /plaintext, Connection: close (new connection per request)",
             "/plaintext", headers=("Connection: close",)),
    Scenario("ws-32", "WebSocket echo, 32-byte messages", "/ws", ws_size=32),
    Scenario("ws-16k", "WebSocket echo, 16 KiB messages", "/ws", ws_size=16384),
    Scenario("ws-32-x16", "WebSocket echo, 32-byte messages, 16 in flight per connection", "/ws",
             ws_size=32, ws_depth=16),
    Scenario("post-1m", "POST 1 MiB, echoed (16 connections)", "/echo", connections=16,
             lua="post.lua", lua_args=("1048576",)),
    Scenario("starlette", "GET, Starlette JSONResponse route", "/starlette"),
    Scenario("fastapi", "GET, FastAPI route returning a dict (JSON)", "/fastapi"),
    Scenario("h2-plaintext", "HTTP/2 GET, 13-byte text, 10 streams per connection",
             "/plaintext", streams=10, http1_twin="plaintext"),
    Scenario("h2-json", "HTTP/2 GET, JSON serialised per request, 10 streams per connection",
             "/json", streams=10, http1_twin="json"),
    Scenario("h2-64k", "HTTP/2 GET, 64 KiB response, 10 streams per connection", "/64k",
             streams=10, http1_twin="64k"),
    Scenario("h2-post-1k", "HTTP/2 POST 1 KiB, echoed, 10 streams per connection", "/echo",
             streams=10, upload=1024, http1_twin="post-1k"),
    Scenario("h2-plaintext-tls", "HTTP/2 over TLS (ALPN h2), GET 13-byte text, 10 streams",
             "/plaintext", streams=10, tls=True),
    Scenario("h2-64k-tls", "HTTP/2 over TLS (ALPN h2), GET 64 KiB, 10 streams", "/64k",
             streams=10, tls=True),
    Scenario("h3-plaintext", "HTTP/3 GET, 13-byte text, 4 QUIC connections x 100 streams",
             "/plaintext", connections=4, h3=True, tls=True, latency=False),
    Scenario("h3-post-1k", "HTTP/3 POST 1 KiB, echoed, 4 QUIC connections x 100 streams",
             "/echo", connections=4, h3=True, tls=True, upload=1024, latency=False),
    Scenario("idle-http1", "idle HTTP/1.1 keep-alive connections after one GET each",
             "/plaintext", connections=IDLE_CONNECTIONS, idle="http1"),
    Scenario("idle-ws", "idle WebSocket connections after the handshake", "/ws",
             connections=IDLE_CONNECTIONS, idle="ws"),
    Scenario("idle-h2", "idle HTTP/2 connections (prior knowledge) after one GET each",
             "/plaintext", connections=IDLE_CONNECTIONS, idle="h2"),
]


def set_idle_connections(count: int) -> None:
    """python -m bench --idle-connections N."""
    for i, scenario in enumerate(SCENARIOS):
        if scenario.is_idle:
            SCENARIOS[i] = dataclasses.replace(scenario, connections=count)


def by_name(name: str) -> Scenario:
    return next(s for s in SCENARIOS if s.name == name)
