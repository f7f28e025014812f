"""The workloads. Order matters: one server process runs them in this order each round, and the
ones that grow the heap for good (1 MiB bodies, importing Starlette) come last so they do not
inflate the peak memory measured for the others."""

from __future__ import annotations

from dataclasses import dataclass
from typing import List, Tuple


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

    @property
    def is_ws(self) -> bool:
        return self.ws_size > 0


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
]
