"""The ASGI app every server under test serves (``bench.apps:app``).

One app routes by path, so a server is started once per round and serves every scenario; the
routing cost (one dict lookup) is the same for every server.
"""

from __future__ import annotations

import json
from typing import Any, Awaitable, Callable, Dict

Scope = Dict[str, Any]
Message = Dict[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
Handler = Callable[[Scope, Receive, Send], Awaitable[None]]

PLAINTEXT = b"Hello, World!"
BIG = b"x" * 65536
STREAM_CHUNK = b"y" * 1024
STREAM_CHUNKS = 16

_TEXT = [(b"content-type", b"text/plain")]
_JSON = [(b"content-type", b"application/json")]
_OCTETS = [(b"content-type", b"application/octet-stream")]


def _fixed(status: int, headers: list, body: bytes) -> Handler:
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": headers + [(b"content-length", str(len(body)).encode())],
    }
    message = {"type": "http.response.body", "body": body}

    async def handler(scope: Scope, receive: Receive, send: Send) -> None:
        await send(start)
        await send(message)

    return handler


async def json_handler(scope: Scope, receive: Receive, send: Send) -> None:
    # Serialised per request, as a real JSON endpoint would.
    body = json.dumps({"message": "Hello, World!"}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": _JSON + [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def echo(scope: Scope, receive: Receive, send: Send) -> None:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            return
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    body = b"".join(chunks)
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": _OCTETS + [(b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def stream(scope: Scope, receive: Receive, send: Send) -> None:
    # No Content-Length: the server must frame the response with chunked encoding.
    await send({"type": "http.response.start", "status": 200, "headers": _OCTETS})
    for _ in range(STREAM_CHUNKS):
        await send({"type": "http.response.body", "body": STREAM_CHUNK, "more_body": True})
    await send({"type": "http.response.body", "body": b""})


_starlette: Any = None


async def starlette_route(scope: Scope, receive: Receive, send: Send) -> None:
    # Imported on first use so the other scenarios do not pay Starlette's memory.
    global _starlette
    if _starlette is None:
        from starlette.applications import Starlette
        from starlette.responses import JSONResponse
        from starlette.routing import Route

        async def hello(request: Any) -> Any:
            return JSONResponse({"message": "Hello, World!", "path": request.url.path})

        _starlette = Starlette(routes=[Route("/starlette", hello)])
    await _starlette(scope, receive, send)


_fastapi: Any = None


async def fastapi_route(scope: Scope, receive: Receive, send: Send) -> None:
    # The same work as the Starlette route through FastAPI (its dependency and response-model
    # machinery, a dict serialised by FastAPI); imported on first use, like Starlette.
    global _fastapi
    if _fastapi is None:
        from .fastapi_app import api

        _fastapi = api
    await _fastapi(scope, receive, send)


async def websocket_echo(scope: Scope, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        kind = message["type"]
        if kind == "websocket.connect":
            await send({"type": "websocket.accept"})
        elif kind == "websocket.receive":
            if message.get("bytes") is not None:
                await send({"type": "websocket.send", "bytes": message["bytes"]})
            else:
                await send({"type": "websocket.send", "text": message.get("text")})
        else:
            return


async def lifespan(scope: Scope, receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


ROUTES: Dict[str, Handler] = {
    "/plaintext": _fixed(200, _TEXT, PLAINTEXT),
    "/json": json_handler,
    "/64k": _fixed(200, _OCTETS, BIG),
    "/echo": echo,
    "/stream": stream,
    "/starlette": starlette_route,
    "/fastapi": fastapi_route,
}
_not_found = _fixed(404, _TEXT, b"Not Found")


async def app(scope: Scope, receive: Receive, send: Send) -> None:
    kind = scope["type"]
    if kind == "http":
        await ROUTES.get(scope["path"], _not_found)(scope, receive, send)
    elif kind == "websocket":
        await websocket_echo(scope, receive, send)
    elif kind == "lifespan":
        await lifespan(scope, receive, send)
