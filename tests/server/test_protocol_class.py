"""ruvicorn.protocols.HttpProtocol: the protocol built as uvicorn's protocol classes are, by code
that runs its own ``loop.create_server``, on an asyncio loop or on a plain object that only has
``create_task()`` and ``call_later()`` (what uvicorn's protocols use of their ``_loop``)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from helpers import protocol_available, subprocess_env

pytestmark = pytest.mark.skipif(not protocol_available(), reason="ruvicorn.protocols not built")

SCRIPT = """
import asyncio, sys
import ruvicorn
from ruvicorn.protocols import HttpProtocol
from ruvicorn.server import ServerState


async def app(scope, receive, send):
    body, more = b"", True
    while more:
        message = await receive()
        body, more = body + message.get("body", b""), message.get("more_body", False)
    text = f"{scope['method']} {scope['path']} {scope['state']['who']} {body.decode()}".encode()
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-length", str(len(text)).encode())]})
    await send({"type": "http.response.body", "body": text})


class PlainLoop:
    def __init__(self, loop):
        self._loop = loop

    def create_task(self, coro):
        return self._loop.create_task(coro)

    def call_later(self, delay, callback, *args):
        return self._loop.call_later(delay, callback, *args)


async def main(plain):
    loop = asyncio.get_running_loop()
    # Named as the protocol to serve, ruvicorn's own class is no "custom class".
    config = ruvicorn.Config(app, lifespan="off", access_log=False, http=HttpProtocol,
                             ws=HttpProtocol, timeout_keep_alive=0.5)
    state = ServerState()
    extra = {"_loop": PlainLoop(loop)} if plain else {}

    def factory():
        return HttpProtocol(config=config, server_state=state, app_state={"who": "me"}, **extra)

    server = await loop.create_server(factory, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /a HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n")
    print((await asyncio.wait_for(reader.readuntil(b"GET /a me "), 10)).split(b"\\r\\n")[0])
    # The body follows the head in its own write: the app may wait for it in receive().
    writer.write(b"POST /b HTTP/1.1\\r\\nHost: x\\r\\nContent-Length: 5\\r\\n\\r\\n")
    await writer.drain()
    writer.write(b"hello")
    print((await asyncio.wait_for(reader.readuntil(b"POST /b me hello"), 10))[-16:])
    # Idle past --timeout-keep-alive: the server closes the connection.
    print("closed when idle", await asyncio.wait_for(reader.read(), 10) == b"")
    print("requests", state.total_requests)
    writer.close()
    server.close()


asyncio.run(main(sys.argv[1] == "plain"))
"""


@pytest.mark.parametrize("loop", ["asyncio", "plain"])
def test_uvicorn_signature_serves_a_socket(loop: str) -> None:
    result = subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPT), loop],
                            capture_output=True, text=True, env=subprocess_env(), timeout=60)
    assert result.returncode == 0, result.stderr
    assert "internal error" not in result.stderr  # nothing fell back on a loop's failure
    assert "custom" not in result.stderr
    assert result.stdout.splitlines() == [
        "b'HTTP/1.1 200 OK'",
        "b'POST /b me hello'",
        "closed when idle True",
        "requests 2",
    ], result.stderr
