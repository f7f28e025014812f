"""Applications the server tests serve (imported by the ruvicorn subprocess via --app-dir)."""

from __future__ import annotations

import asyncio
import os
import sys
from typing import Any


async def hello(scope: dict, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": b"hello"})


async def uvicorn_logger_names(scope: dict, receive: Any, send: Any) -> None:
    """The FastAPI habit: log through uvicorn's logger names, look at uvicorn.access's set-up."""
    import logging

    if scope["type"] != "http":
        return
    error = logging.getLogger("uvicorn.error")
    error.info("app info through uvicorn.error")
    error.warning("app warning through uvicorn.error")
    access = logging.getLogger("uvicorn.access")
    body = (f"access_handlers={len(access.handlers)} access_level={access.level} "
            f"error_level={error.getEffectiveLevel()} "
            f"uvicorn_imported={'uvicorn' in sys.modules}")
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body.encode()})


async def echo_scope(scope: dict, receive: Any, send: Any) -> None:
    """Answers with the parts of the scope the server is responsible for."""
    if scope["type"] != "http":
        return
    client = scope.get("client")
    body = (f"scheme={scope['scheme']} client={client[0] if client else None} "
            f"root_path={scope['root_path']} pid={os.getpid()}").encode()
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


async def slow(scope: dict, receive: Any, send: Any) -> None:
    """Sleeps for ?seconds=N (default 1) before answering: an in-flight request."""
    if scope["type"] != "http":
        return
    query = dict(p.split("=") for p in scope["query_string"].decode().split("&") if "=" in p)
    # Tests wait for this line to know the request is in flight.
    print("slow request started", file=sys.stderr, flush=True)
    await asyncio.sleep(float(query.get("seconds", "1")))
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"done"})


def create_app() -> Any:
    """A factory (no arguments) returning an ASGI app."""
    return hello


class ASGI2App:
    def __init__(self, scope: dict) -> None:
        self.scope = scope

    async def __call__(self, receive: Any, send: Any) -> None:
        if self.scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"asgi2"})


def wsgi_app(environ: dict, start_response: Any) -> list[bytes]:
    body = f"wsgi {environ['REQUEST_METHOD']} {environ['PATH_INFO']}".encode()
    start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]


def env_app_factory() -> Any:
    """Reports an environment variable, to check --env-file."""
    value = os.environ.get("RUVICORN_TEST_VALUE", "unset").encode()

    async def app(scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": value})

    return app
