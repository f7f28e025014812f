"""A small Starlette app served unchanged by ruvicorn (see test_framework_starlette.py)."""

from __future__ import annotations

import asyncio
from typing import AsyncIterator

from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

_BACKGROUND: dict[str, asyncio.Event] = {}


def _event(token: str) -> asyncio.Event:
    return _BACKGROUND.setdefault(token, asyncio.Event())


async def home(request: Request) -> Response:
    return JSONResponse({"hello": "world", "method": request.method})


async def user(request: Request) -> Response:
    return JSONResponse({"name": request.path_params["name"], "q": request.query_params.get("q")})


async def echo(request: Request) -> Response:
    body = await request.body()
    media_type = request.headers.get("content-type", "application/octet-stream")
    return Response(body, media_type=media_type)


async def upload(request: Request) -> Response:
    size = chunks = 0
    async for chunk in request.stream():
        size += len(chunk)
        chunks += 1
    return JSONResponse({"size": size, "chunks": chunks})


async def json_echo(request: Request) -> Response:
    return JSONResponse({"got": await request.json()})


async def stream(request: Request) -> Response:
    async def parts() -> AsyncIterator[str]:
        for i in range(5):
            await asyncio.sleep(0)
            yield f"part{i}\n"

    return StreamingResponse(parts(), media_type="text/plain")


async def endless(request: Request) -> Response:
    """Streams until the client goes away; records that the stream stopped."""
    token = request.query_params["token"]

    async def ticks() -> AsyncIterator[str]:
        try:
            while True:
                yield "tick\n"
                await asyncio.sleep(0.01)
        finally:
            _event("endless-" + token).set()

    return StreamingResponse(ticks(), media_type="text/plain")


async def endless_stopped(request: Request) -> Response:
    try:
        await asyncio.wait_for(_event("endless-" + request.query_params["token"]).wait(), 5)
    except asyncio.TimeoutError:
        return JSONResponse({"stopped": False})
    return JSONResponse({"stopped": True})


async def _finish(token: str) -> None:
    await asyncio.sleep(0.05)
    _event(token).set()


async def background(request: Request) -> Response:
    token = request.query_params["token"]
    return PlainTextResponse("scheduled", background=BackgroundTask(_finish, token))


async def background_done(request: Request) -> Response:
    try:
        await asyncio.wait_for(_event(request.query_params["token"]).wait(), 5)
    except asyncio.TimeoutError:
        return JSONResponse({"done": False})
    return JSONResponse({"done": True})


async def task_info(request: Request) -> Response:
    # Frameworks built on anyio expect to run inside an asyncio Task.
    return JSONResponse({"has_task": asyncio.current_task() is not None})


app = Starlette(routes=[
    Route("/", home, methods=["GET", "POST"]),
    Route("/users/{name}", user),
    Route("/echo", echo, methods=["POST"]),
    Route("/upload", upload, methods=["POST"]),
    Route("/json", json_echo, methods=["POST"]),
    Route("/stream", stream),
    Route("/background", background),
    Route("/background-done", background_done),
    Route("/task", task_info),
    Route("/endless", endless),
    Route("/endless-stopped", endless_stopped),
])
