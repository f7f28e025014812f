"""Glue between Config/Server and the C++ protocol in ``ruvicorn._core``.

The C++ side parses requests, builds scopes and implements receive()/send(); this module builds the
per-server context once and holds the coroutines that run the app (where its exceptions are caught
and logged: the one place that does). ``HttpProtocol`` is the same C++ protocol built with the
arguments of uvicorn's protocol classes, for code that creates its own server.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import os
import sys
from typing import TYPE_CHECKING, Any, Callable

from ruvicorn import _core
from ruvicorn.logging import TRACE_LOG_LEVEL
from ruvicorn.middleware.proxy_headers import TrustedHosts, apply_proxy_headers
from ruvicorn.tls import extension_for

if TYPE_CHECKING:
    from ruvicorn.config import Config
    from ruvicorn.server import ServerState

logger = logging.getLogger("ruvicorn.error")
access_logger = logging.getLogger("ruvicorn.access")

PATHSEND_CHUNK = 256 * 1024


async def run_asgi(app: Any, scope: dict, exchange: Any) -> None:
    """Runs the app for one HTTP request or WebSocket (``exchange`` is the C++ HttpCycle or
    WsSession); the one place where the app's exceptions are caught and logged (with
    ``ruvicorn.metrics.run_asgi_metered``, the same with the moment the app is called)."""
    try:
        result = await app(scope, exchange.receive, exchange.send)
    except BaseException as exc:
        if app_raised(exchange, exc):
            raise
    else:
        if result is None:
            exchange.app_returned()
        else:
            app_returned_value(exchange, result)


def app_raised(exchange: Any, exc: BaseException) -> bool:
    """The app raised: True if the exception must propagate (not an Exception)."""
    exchange.app_failed()  # 500 before the response/accept, else close (1011 for WebSockets)
    if not isinstance(exc, Exception):
        return True
    if isinstance(exc, _core.ClientDisconnected):
        return False  # WebSocket send() after the client left: how the app finds out
    logger.error("Exception in ASGI application\n", exc_info=exc)
    return False


def app_returned_value(exchange: Any, result: Any) -> None:
    # An ASGI app returns None; anything else is a bug in it (often a response object returned
    # instead of sent), handled as uvicorn does: like an exception, but an open WebSocket is
    # dropped (1006) rather than closed with 1011.
    logger.error("ASGI callable should return None, but returned %r.", result)
    exchange.app_returned_value()


def _reraise(exc: BaseException) -> None:
    """A KeyboardInterrupt or SystemExit an eagerly started app raised, raised again from a loop
    callback: it stops the loop as it would have from the task's own step."""
    raise exc


def _eager_tasks(loop: asyncio.AbstractEventLoop) -> bool:
    """Whether app tasks start eagerly (Python 3.12+): an app that does not suspend answers
    inside data_received, its response joining the same write. A task factory set on the loop
    (before the server starts) is honoured instead, through loop.create_task."""
    return sys.version_info >= (3, 12) and loop.get_task_factory() is None


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
    options.per_message_deflate = config.ws_per_message_deflate
    # None or 0: no keepalive
    options.ping_interval = float(config.ws_ping_interval or 0.0)
    options.ping_timeout = float(config.ws_ping_timeout or 0.0)
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
    ctx.configure(
        limits=config.limits(),
        parser=config.http,
        date_header=config.date_header,
        server_header=config.server_header,
        default_headers=config.headers,
    )
    ctx.timeout_keep_alive = float(config.timeout_keep_alive)
    ctx.timeout_request_header = float(config.timeout_request_header)
    ctx.limit_concurrency = config.limit_concurrency or 0
    ctx.ws_enabled = config.ws != "none"
    ctx.reset_contextvars = config.reset_contextvars
    ctx.http2 = bool(config.http2)
    ctx.h2_keep_alive_interval = float(config.http2_keep_alive_interval or 0.0)
    ctx.h2_keep_alive_timeout = float(config.http2_keep_alive_timeout or 0.0)
    ctx.app = app
    ctx.loop = loop
    # Any object with create_task() and call_later() may serve as the loop (HttpProtocol).
    ctx.plain_loop = not isinstance(loop, asyncio.AbstractEventLoop)
    ctx.base_context = contextvars.copy_context()  # what every app task starts from a copy of
    ctx.eager_task_type = asyncio.Task if not ctx.plain_loop and _eager_tasks(loop) else None
    ctx.reraise_fn = _reraise
    ctx.run_http = run_asgi
    ctx.run_websocket = run_asgi
    ctx.ws_options = _ws_options(config)
    ctx.connections = server_state.connections
    ctx.tasks = server_state.tasks
    ctx.lifespan_state = server_state.lifespan_state
    ctx.root_path = config.root_path
    ctx.access_log = _access_log if config.access_log else None
    ctx.logger = logger
    ctx.trace_log = logger.isEnabledFor(TRACE_LOG_LEVEL)  # connection lines, as uvicorn logs them
    ctx.tls_extension = extension_for(config)  # scope["extensions"]["tls"] over TLS
    if config.proxy_headers:
        ctx.proxy_trusted = TrustedHosts(config.forwarded_allow_ips)
        ctx.proxy_apply = apply_proxy_headers
    server_state.http_context = ctx  # the server reads its request count and stops its timers
    if not ctx.plain_loop:  # a plain loop's connections each arm their next deadline instead
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

    return factory


class HttpProtocol(_core.HttpProtocol):
    """ruvicorn's protocol, built as uvicorn builds its protocol classes (``H11Protocol``,
    ``HttpToolsProtocol``, ``WSProtocol``...): for code that creates its own server, e.g.
    ``loop.create_server(lambda: HttpProtocol(config=config, server_state=state, app_state={}))``.

    The first one built for a ``ServerState`` and loop builds the server's context from
    ``config`` (loading it if needed); later ones share it. ``_loop`` may also be an object
    with only ``create_task()`` and ``call_later()``: responses are then written at once.
    WebSocket upgrades are served by the same protocol.
    """

    def __init__(self, config: Config, server_state: ServerState, app_state: dict[str, Any],
                 _loop: Any = None) -> None:
        loop = _loop if _loop is not None else asyncio.get_event_loop()
        ctx = server_state.http_context
        if ctx is None or ctx.loop is not loop:
            if not config.loaded:
                config.load()
            ctx = create_http_context(config, loop, config.loaded_app, server_state)
            ctx.sweep_while_idle = False  # no server stops it: it stops when idle
        ctx.lifespan_state = app_state
        super().__init__(ctx)
        self.loop = loop
        self.transport: Any = None

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        super().connection_made(transport)
