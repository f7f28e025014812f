"""The ASGI floor: what one plaintext request costs CPython alone, with no server work at all —
the scope dict (a template's copy and its header list), a copy of the server's context, the
app's task (eager on 3.12+, as ruvicorn starts it) running ``bench.apps.app`` through a
``run_asgi``-like coroutine, and its two ``send()`` calls, each a C callable returning an
already-done future. Any Python ASGI server pays at least this per request; compare it with
``test_http_round`` (ruvicorn's whole path, and the bare Protocol's) to see what is left for a
server to save. Each benchmark call runs 1000 requests from one loop callback, as a read would."""

from __future__ import annotations

import asyncio
import contextvars
import functools
import itertools
import sys
from typing import Any

from bench.micro.test_ws_session import ROUNDS

SCOPE = {
    "type": "http", "asgi": {"version": "3.0", "spec_version": "2.4"}, "http_version": "1.1",
    "server": ("127.0.0.1", 8000), "client": ("127.0.0.1", 50000), "scheme": "http",
    "method": "GET", "root_path": "", "path": "/plaintext", "raw_path": b"/plaintext",
    "query_string": b"", "headers": [], "state": {},
}


class Exchange:
    __slots__ = ("receive", "send")

    def __init__(self, done: asyncio.Future) -> None:
        # send(message) -> next(repeat(done), message) -> done: a C call, like ruvicorn's send().
        self.send = self.receive = functools.partial(next, itertools.repeat(done))

    def app_returned(self) -> None:
        pass


async def run_asgi(app: Any, scope: dict, exchange: Exchange) -> None:
    result = await app(scope, exchange.receive, exchange.send)
    if result is None:
        exchange.app_returned()


def test_asgi_floor(benchmark: Any, loop: Any) -> None:
    from bench.apps import app

    benchmark.group = f"http-plaintext-x{ROUNDS}"
    done = loop.create_future()
    done.set_result(None)
    exchange = Exchange(done)
    base = contextvars.copy_context()
    eager = {"eager_start": True} if sys.version_info >= (3, 12) else {}
    tasks = []

    def requests() -> None:
        for _ in range(ROUNDS):
            scope = SCOPE.copy()
            scope["headers"] = [(b"host", b"bench"), (b"user-agent", b"micro"), (b"accept", b"*/*")]
            task = asyncio.Task(run_asgi(app, scope, exchange), loop=loop, context=base.copy(),
                                **eager)
            if not task.done():
                tasks.append(task)
        loop.stop()

    def run() -> None:
        loop.call_soon(requests)
        loop.run_forever()

    benchmark(run)
    loop.run_until_complete(asyncio.gather(*tasks))
    assert all(t.result() is None for t in tasks)
