"""One HTTP/1.1 keep-alive request in flight (the ``plaintext`` scenario) through ruvicorn's whole
per-request path in one process, without sockets: the driver of ``test_ws_session`` feeds the
next request from the callback of each response's write, so a round is data_received, parsing,
the scope, the app's task and its two ``send()`` calls, the response head and the write. The
ceiling is ``bench.ceiling``'s bare Protocol (canned response, no ASGI) under the same driver.
Each benchmark call runs 1000 rounds."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from bench.micro.test_ws_session import ROUNDS, Echo, ceiling_protocol, protocol_for

REQUEST = b"GET /plaintext HTTP/1.1\r\nHost: bench\r\nUser-Agent: micro\r\nAccept: */*\r\n\r\n"


def ruvicorn_protocol(loop: asyncio.AbstractEventLoop) -> Any:
    from bench.apps import app

    return protocol_for(loop, app)


SERVERS = {"ruvicorn": ruvicorn_protocol, "ceiling": ceiling_protocol}


@pytest.mark.parametrize("server", list(SERVERS))
def test_http_request_round(benchmark: Any, loop: Any, server: str) -> None:
    benchmark.group = f"http-plaintext-x{ROUNDS}"
    echo = Echo(loop, SERVERS[server](loop), REQUEST)
    echo.transport.on_write = echo.wrote
    last = benchmark(echo.run)
    assert last.startswith(b"HTTP/1.1 200 OK\r\n"), last
    assert last.endswith(b"Hello, World!"), last
    echo.close()
