"""Glue between Config/Server and the C++ protocol in ``ruvicorn._core``.

The C++ side parses requests, builds scopes and implements receive()/send(); this module builds the
per-server context once and holds the coroutines that run the app (where its exceptions are caught
and logged: the one place that does).
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import TYPE_CHECKING, Any, Callable

from ruvicorn import _core
from ruvicorn.middleware.proxy_headers import TrustedHosts, apply_proxy_headers

if TYPE_CHECKING:
    from ruvicorn.config import Config
    from ruvicorn.server import ServerState

logger = logging.getLogger("ruvicorn.error")
access_logger = logging.getLogger("ruvicorn.access")

PATHSEND_CHUNK = 256 * 1024


async def run_asgi(app: Any, scope: dict, exchange: Any) -> None:
    """Runs the app for one HTTP request or WebSocket (``exchange`` is the C++ HttpCycle or
    WsSession); the one place where the app's exceptions are caught and logged."""
    try:
        await app(scope, exchange.receive, exchange.send)
    except BaseException as exc:
        exchange.app_failed()  # 500 before the response/accept, else close (1011 for WebSockets)
        if not isinstance(exc, Exception):
            raise
        if isinstance(exc, _core.ClientDisconnected):
            return  # WebSocket send() after the client left: how the app finds out, not a failure
        logger.error("Exception in ASGI application\n", exc_info=exc)
    else:
        exchange.app_returned()


def _client_and_path(scope: dict) -> tuple[str, str]:
    """'host:port' (or '-') and the path with its query string, as the log lines show them."""
    client = scope.get("client")
    client_addr = f"{client[0]}:{client[1]}" if client else "-"
    path = scope["path"]
    query = scope.get("query_string", b"")
    if query:
        path = f"{path}?{query.decode('latin-1')}"
    return client_addr, path


def _ws_log(scope: dict, outcome: str) -> None:
    """uvicorn's handshake line: '127.0.0.1:5000 - "WebSocket /path" [accepted]' (or 403)."""
    if not logger.isEnabledFor(logging.INFO):
        return
    logger.info('%s - "WebSocket %s" %s', *_client_and_path(scope), outcome)


def _ws_options(config: Config) -> Any:
    options = _core.WsOptions()
    options.per_message_deflate = bool(getattr(config, "ws_per_message_deflate", True))
    interval = getattr(config, "ws_ping_interval", 20.0)
    timeout = getattr(config, "ws_ping_timeout", 20.0)
    options.ping_interval = float(interval) if interval else 0.0  # None or 0: no keepalive
    options.ping_timeout = float(timeout) if timeout else 0.0
    options.log = _ws_log
    return options


async def pathsend(cycle: Any, path: str) -> None:
    """http.response.pathsend: streams the file in bounded chunks through the normal body path."""
    with open(os.fspath(path), "rb") as f:
        while True:
            chunk = f.read(PATHSEND_CHUNK)
            if not chunk:
                break
            await cycle.send({"type": "http.response.body", "body": chunk, "more_body": True})
    await cycle.send({"type": "http.response.body", "body": b"", "more_body": False})


def _access_log(scope: dict, status: int, size: int) -> None:
    if not access_logger.isEnabledFor(logging.INFO):
        return
    client_addr, path = _client_and_path(scope)
    access_logger.info(
        '%s - "%s %s HTTP/%s" %d',
        client_addr,
        scope["method"],
        path,
        scope["http_version"],
        status,
        extra={"status_code": status, "scope": scope},
    )


def create_http_context(
    config: Config, loop: asyncio.AbstractEventLoop, app: Any, server_state: ServerState
) -> Any:
    ctx = _core.HttpContext()
    headers = [(str(k), str(v)) for k, v in (getattr(config, "headers", None) or [])]
    ctx.configure(
        limits=config.limits(),
        parser=str(getattr(config, "http", "auto") or "auto"),
        date_header=bool(getattr(config, "date_header", True)),
        server_header=bool(getattr(config, "server_header", True)),
        default_headers=headers,
    )
    ctx.timeout_keep_alive = float(getattr(config, "timeout_keep_alive", 5))
    ctx.timeout_request_header = float(getattr(config, "timeout_request_header", 10.0))
    ctx.limit_concurrency = int(getattr(config, "limit_concurrency", None) or 0)
    ctx.ws_enabled = getattr(config, "ws", "auto") != "none"
    ctx.reset_contextvars = bool(getattr(config, "reset_contextvars", False))
    ctx.app = app
    ctx.loop = loop
    ctx.run_http = run_asgi
    ctx.run_websocket = run_asgi
    ctx.ws_options = _ws_options(config)
    ctx.server_state = server_state
    ctx.connections = server_state.connections
    ctx.tasks = server_state.tasks
    ctx.lifespan_state = getattr(server_state, "lifespan_state", None)
    ctx.root_path = str(getattr(config, "root_path", "") or "")
    ctx.access_log = _access_log if getattr(config, "access_log", True) else None
    ctx.logger = logger
    if getattr(config, "proxy_headers", False):
        ctx.proxy_trusted = TrustedHosts(config.forwarded_allow_ips or "127.0.0.1")
        ctx.proxy_apply = apply_proxy_headers
    ctx.start_timers()
    return ctx


def create_http_factory(
    config: Config, loop: asyncio.AbstractEventLoop, app: Any, server_state: ServerState
) -> Callable[[], Any]:
    """The protocol factory for ``loop.create_server``: one C++ HttpProtocol per connection."""
    ctx = create_http_context(config, loop, app, server_state)
    protocol = _core.HttpProtocol

    def factory() -> Any:
        return protocol(ctx)

    factory.context = ctx  # type: ignore[attr-defined]
    return factory
