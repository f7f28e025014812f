"""The ``ruvicorn`` command line and ``ruvicorn.run()``.

Every option of uvicorn 0.54 is accepted with the same name and default. Environment variables:
``RUVICORN_<OPTION>`` (e.g. ``RUVICORN_PORT``), then ``UVICORN_<OPTION>`` as a fallback so existing
deployments keep working.
"""

from __future__ import annotations

import logging
import os
import platform
import ssl
import sys
from typing import Any, Callable, Union

import click

import ruvicorn
from ruvicorn import _core
from ruvicorn.config import (
    EXIT_USAGE,
    HTTP3_IDLE_TIMEOUT,
    HTTP3_MAX_DATAGRAM_SIZE,
    INTERFACES,
    LIFESPAN_CHOICES,
    LIMIT_DEFAULTS,
    SSL_PROTOCOL_VERSION,
    STARTUP_FAILURE,
    Config,
    unimportable_app_exits,
)
from ruvicorn.logging import LOG_LEVELS, LOGGING_CONFIG
from ruvicorn.server import Server

logger = logging.getLogger("ruvicorn.error")


def _parsers_text() -> str:
    """The HTTP/1.1 parsers compiled into the extension, their versions and SIMD paths in use."""
    parts = []
    for parser in _core.build_info()["parsers"]:
        simd = ", ".join(f"{path}: {'yes' if on else 'no'}" for path, on in parser["simd"].items())
        parts.append(f"{parser['name']} {parser['version']}" + (f" ({simd})" if simd else ""))
    return "parsers: " + ", ".join(parts)


def _loop_text() -> str:
    """The loop `--loop auto` picks."""
    try:
        import uvloop
    except ImportError:
        return "loop: asyncio"
    return f"loop: uvloop {uvloop.__version__}"


def _print_version(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    if not value or ctx.resilient_parsing:
        return
    click.echo(f"Running ruvicorn {ruvicorn.__version__} with {platform.python_implementation()} "
               f"{platform.python_version()} on {platform.system()}; {_parsers_text()}; "
               f"{_loop_text()}")
    ctx.exit()


class _Command(click.Command):
    """Reports a bad command line in one line and exits 1 (click alone prints usage, exits 2)."""

    def main(self, *args: Any, **kwargs: Any) -> Any:  # type: ignore[override]
        kwargs["standalone_mode"] = False
        try:
            result = super().main(*args, **kwargs)
        except click.ClickException as exc:
            click.echo(f"Error: {exc.format_message()} (see 'ruvicorn --help')", err=True)
            sys.exit(EXIT_USAGE)
        except click.Abort:
            sys.exit(EXIT_USAGE)
        sys.exit(result if isinstance(result, int) else 0)


@click.command(cls=_Command, context_settings={"auto_envvar_prefix": "RUVICORN"})
@click.argument("app", envvar=["RUVICORN_APP", "UVICORN_APP"])
@click.option("--host", type=str, default="127.0.0.1", show_default=True,
              help="Address to bind the listening socket to.")
@click.option("--port", type=int, default=8000, show_default=True,
              help="Port to bind to; 0 lets the system pick a free one.")
@click.option("--uds", type=str, default=None, help="Listen on this UNIX domain socket path.")
@click.option("--fd", type=int, default=None,
              help="Listen on an already open socket, given by its file descriptor.")
@click.option("--reload", is_flag=True, default=False,
              help="Restart the worker when watched files change.")
@click.option("--reload-dir", "reload_dirs", multiple=True, type=click.Path(exists=True),
              help="Directory to watch (repeatable). Default: the current working directory.")
@click.option("--reload-include", "reload_includes", multiple=True,
              help="Glob of files to watch (repeatable). '*.py' is always included unless "
                   "excluded with --reload-exclude.")
@click.option("--reload-exclude", "reload_excludes", multiple=True,
              help="Glob of files to ignore (repeatable). '.*, .py[cod], .sw.*, ~*' are ignored "
                   "unless included with --reload-include.")
@click.option("--reload-delay", type=float, default=0.25, show_default=True,
              help="Seconds between two checks for changed files.")
@click.option("--workers", type=int, default=None,
              help="Number of worker processes. Default: $WEB_CONCURRENCY if set, else 1. "
                   "Ignored with --reload.")
@click.option("--loop", type=str, default="auto", show_default=True,
              metavar="[auto|asyncio|uvloop|zuvloop]",
              help="Event loop: uvloop when installed (auto), asyncio, or uvloop. zuvloop is "
                   "served by uvloop. A module:callable loop factory is accepted too.")
@click.option("--http", type=str, default="auto", show_default=True,
              metavar="[auto|pico|llhttp|h11|httptools|zttp]",
              help="HTTP/1.1 parser of the C++ core: pico (auto) or llhttp. uvicorn's h11, "
                   "httptools and zttp are accepted and mapped to these.")
@click.option("--http2/--no-http2", is_flag=True, default=True, show_default=True,
              help="Serve HTTP/2: over TLS when ALPN chooses h2, on cleartext to clients that "
                   "open with the HTTP/2 preface or ask for Upgrade: h2c.")
@click.option("--http2-max-concurrent-streams", type=int,
              default=LIMIT_DEFAULTS["h2_max_concurrent_streams"], show_default=True,
              help="Streams one HTTP/2 connection may have open at once (a reset stream counts "
                   "until its app task ends); more are refused.")
@click.option("--http2-initial-stream-window-size", type=int,
              default=LIMIT_DEFAULTS["h2_initial_stream_window"], show_default=True,
              help="Request-body bytes an HTTP/2 stream may send ahead of its app.")
@click.option("--http2-initial-connection-window-size", type=int,
              default=LIMIT_DEFAULTS["h2_initial_connection_window"], show_default=True,
              help="Request-body bytes all streams of a connection may send ahead of their apps.")
@click.option("--http2-max-frame-size", type=int, default=LIMIT_DEFAULTS["h2_max_frame_size"],
              show_default=True, help="Largest HTTP/2 frame payload accepted (16384-16777215).")
@click.option("--http2-max-header-list-size", type=int,
              default=LIMIT_DEFAULTS["h2_max_header_list_size"], show_default=True,
              help="Largest HTTP/2 request header list (name + value + 32 bytes per field); "
                   "431 beyond.")
@click.option("--http2-keep-alive-interval", type=float, default=None,
              help="PING an HTTP/2 connection after this many idle seconds. Default: never.")
@click.option("--http2-keep-alive-timeout", type=float, default=20.0, show_default=True,
              help="Close an HTTP/2 connection whose keep-alive PING is not answered in time.")
@click.option("--http3/--no-http3", is_flag=True, default=False, show_default=True,
              help="Serve HTTP/3 over QUIC on UDP, on the TLS listener's host and port (needs "
                   "--ssl-certfile/--ssl-keyfile and pip install 'ruvicorn[http3]'); HTTP/1.1 "
                   "and HTTP/2 responses then advertise it with Alt-Svc.")
@click.option("--http3-max-concurrent-streams", type=int,
              default=LIMIT_DEFAULTS["h3_max_concurrent_streams"], show_default=True,
              help="Request streams one HTTP/3 connection may have open at once (a reset stream "
                   "counts until its app task ends); more are refused (H3_REQUEST_REJECTED).")
@click.option("--http3-idle-timeout", type=float, default=HTTP3_IDLE_TIMEOUT, show_default=True,
              help="Close a QUIC connection idle for this many seconds.")
@click.option("--http3-max-datagram-size", type=int, default=HTTP3_MAX_DATAGRAM_SIZE,
              show_default=True,
              help="Largest UDP payload the server sends (1200-65527; loss detection finds "
                   "paths that carry less).")
@click.option("--ws", type=str, default="auto", show_default=True,
              metavar="[auto|none|websockets|websockets-sansio|wsproto]",
              help="WebSocket support (C++ implementation); 'none' turns it off. uvicorn's "
                   "implementation names are accepted.")
@click.option("--ws-max-size", type=int, default=LIMIT_DEFAULTS["ws_max_message"],
              show_default=True,
              help="Largest WebSocket message accepted, in bytes.")
@click.option("--ws-max-queue", type=int, default=LIMIT_DEFAULTS["ws_max_queue"],
              show_default=True,
              help="WebSocket messages buffered for an app that is not receiving.")
@click.option("--ws-max-queue-bytes", type=int, default=LIMIT_DEFAULTS["ws_max_queue_bytes"],
              show_default=True,
              help="WebSocket message bytes buffered for an app that is not receiving (reading "
                   "pauses at this or --ws-max-queue, whichever comes first).")
@click.option("--ws-ping-interval", type=float, default=20.0, show_default=True,
              help="Seconds between WebSocket pings.")
@click.option("--ws-ping-timeout", type=float, default=20.0, show_default=True,
              help="Seconds to wait for a WebSocket pong.")
@click.option("--ws-per-message-deflate", type=bool, default=True, show_default=True,
              help="Offer WebSocket per-message-deflate compression.")
@click.option("--lifespan", type=click.Choice(LIFESPAN_CHOICES), default="auto",
              show_default=True, help="Run the ASGI lifespan protocol: auto, on or off.")
@click.option("--interface", type=click.Choice(INTERFACES), default="auto", show_default=True,
              help="Application interface: ASGI 3, ASGI 2 or WSGI (auto detects ASGI 2/3).")
@click.option("--env-file", type=click.Path(exists=True), default=None,
              help="Load environment variables from this file before importing the app.")
@click.option("--log-config", type=click.Path(exists=True), default=None,
              help="Logging configuration file: .json, .yaml/.yml (dictConfig) or .ini.")
@click.option("--log-level", type=click.Choice(list(LOG_LEVELS)), default=None,
              help="Log level.  [default: info]")
@click.option("--access-log/--no-access-log", is_flag=True, default=True,
              help="Log one line per request (or not).")
@click.option("--use-colors/--no-use-colors", is_flag=True, default=None,
              help="Colour the log output (default: when writing to a terminal).")
@click.option("--proxy-headers/--no-proxy-headers", is_flag=True, default=True,
              help="Take client address and scheme from X-Forwarded-For / X-Forwarded-Proto "
                   "sent by trusted proxies.")
@click.option("--server-header/--no-server-header", is_flag=True, default=True,
              help="Send the Server response header.")
@click.option("--date-header/--no-date-header", is_flag=True, default=True,
              help="Send the Date response header.")
@click.option("--forwarded-allow-ips", type=str, default=None,
              help="Comma-separated IP addresses, networks or literals (such as a UNIX socket "
                   "path) trusted to send proxy headers; '*' trusts all. Default: "
                   "$FORWARDED_ALLOW_IPS if set, else '127.0.0.1,::1'.")
@click.option("--root-path", type=str, default="",
              help="ASGI 'root_path' of an app mounted below a URL prefix.")
@click.option("--limit-concurrency", type=int, default=None,
              help="Answer 503 once this many connections or tasks are active.")
@click.option("--backlog", type=int, default=2048,
              help="Length of the listening socket's queue of pending connections.")
@click.option("--limit-max-requests", type=int, default=None,
              help="Stop the process (a supervisor restarts it) after this many requests.")
@click.option("--limit-max-requests-jitter", type=int, default=0, show_default=True,
              help="Random extra requests (0..N) added to --limit-max-requests so workers do "
                   "not all restart at once.")
@click.option("--timeout-keep-alive", type=int, default=5, show_default=True,
              help="Close an idle keep-alive connection after this many seconds.")
@click.option("--timeout-graceful-shutdown", type=int, default=30, show_default=True,
              help="Seconds in-flight requests get to finish on shutdown before they are "
                   "cancelled (uvicorn waits forever by default).")
@click.option("--timeout-worker-healthcheck", type=int, default=5, show_default=True,
              help="Seconds a worker process has to answer a health check.")
@click.option("--ssl-keyfile", type=str, default=None, help="TLS private key file.")
@click.option("--ssl-certfile", type=str, default=None, help="TLS certificate (chain) file.")
@click.option("--ssl-keyfile-password", type=str, default=None,
              help="Password of the TLS key file.")
@click.option("--ssl-version", type=int, default=int(SSL_PROTOCOL_VERSION), show_default=True,
              help="TLS protocol constant of Python's ssl module.")
@click.option("--ssl-cert-reqs", type=int, default=int(ssl.CERT_NONE), show_default=True,
              help="Client certificate requirement (ssl.CERT_* constant).")
@click.option("--ssl-ca-certs", type=str, default=None,
              help="CA bundle used to verify client certificates.")
@click.option("--ssl-ciphers", type=str, default=None,
              help="OpenSSL cipher string. Default: OpenSSL's defaults.")
@click.option("--header", "headers", multiple=True,
              help="Response header added to every response, as Name:Value (repeatable).")
@click.option("--version", is_flag=True, callback=_print_version, expose_value=False,
              is_eager=True, help="Print the ruvicorn, parser and loop versions and exit.")
@click.option("--app-dir", type=str, default="", show_default=True,
              help="Directory put first on sys.path before importing APP (default: the current "
                   "directory).")
@click.option("--h11-max-incomplete-event-size", type=int, default=None,
              help="Largest request head (request line and headers) in bytes, 431 beyond "
                   f"(uvicorn's h11 option). Default: {LIMIT_DEFAULTS['max_head_size']}.")
@click.option("--reset-contextvars", is_flag=True, default=False,
              help="Run each request in a fresh contextvars.Context (hides lifespan context).")
@click.option("--factory", is_flag=True, default=False,
              help="APP is a factory: a callable with no arguments that returns the app.")
@click.option("--timeout-request-header", type=float, default=10.0, show_default=True,
              help="Close a connection that has not sent a complete request head within this "
                   "many seconds (408 if a request had started).")
@click.option("--limit-request-line", type=int, default=LIMIT_DEFAULTS["max_request_line"],
              show_default=True,
              help="Longest request line in bytes (414 beyond); 0: only the head limit applies.")
@click.option("--limit-request-fields", type=int, default=LIMIT_DEFAULTS["max_header_count"],
              show_default=True,
              help="Most header fields in a request (431 beyond); 0: gunicorn's maximum, 32768.")
@click.option("--limit-request-field-size", type=int,
              default=LIMIT_DEFAULTS["max_header_field_size"], show_default=True,
              help="Longest header line in bytes (431 beyond); 0: only the head limit applies.")
@click.option("--limit-request-body", type=int, default=None,
              help="Largest request body in bytes (413 beyond). Default: unlimited.")
@click.option("--metrics", is_flag=True, default=False,
              help="Serve Prometheus metrics on their own endpoint (needs prometheus_client: "
                   "ruvicorn[metrics]). With --workers, one endpoint for all workers.")
@click.option("--metrics-address", type=str, default="127.0.0.1", show_default=True,
              help="Address the metrics endpoint listens on.")
@click.option("--metrics-port", type=int, default=9090, show_default=True,
              help="Port of the metrics endpoint (GET /metrics); 0 picks a free one.")
def main(app: str, headers: tuple[str, ...], reload_dirs: tuple[str, ...],
         reload_includes: tuple[str, ...], reload_excludes: tuple[str, ...],
         log_config: str | None, **options: Any) -> None:
    """Serve the ASGI (or WSGI) application APP, given as module:attribute."""
    parsed_headers = []
    for header in headers:
        name, sep, value = header.partition(":")
        if not sep or not name.strip():
            raise click.BadParameter(f"{header!r} is not Name:Value", param_hint="'--header'")
        parsed_headers.append((name.strip(), value.strip()))
    run(
        app,
        headers=parsed_headers,
        reload_dirs=list(reload_dirs) or None,
        reload_includes=list(reload_includes) or None,
        reload_excludes=list(reload_excludes) or None,
        log_config=LOGGING_CONFIG if log_config is None else log_config,
        **options,
    )


def run(
    app: Any,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    uds: str | None = None,
    fd: int | None = None,
    loop: str = "auto",
    http: Any = "auto",
    http2: bool = True,
    ws: Any = "auto",
    ws_max_size: int = LIMIT_DEFAULTS["ws_max_message"],
    ws_max_queue: int = LIMIT_DEFAULTS["ws_max_queue"],
    ws_ping_interval: float | None = 20.0,
    ws_ping_timeout: float | None = 20.0,
    ws_per_message_deflate: bool = True,
    lifespan: str = "auto",
    interface: str = "auto",
    reload: bool = False,
    reload_dirs: Union[list[str], str, None] = None,
    reload_includes: Union[list[str], str, None] = None,
    reload_excludes: Union[list[str], str, None] = None,
    reload_delay: float = 0.25,
    workers: int | None = None,
    env_file: Union[str, os.PathLike] | None = None,
    log_config: Any = LOGGING_CONFIG,
    log_level: Union[str, int] | None = None,
    access_log: bool = True,
    proxy_headers: bool = True,
    server_header: bool = True,
    date_header: bool = True,
    forwarded_allow_ips: Union[list[str], str, None] = None,
    root_path: str = "",
    limit_concurrency: int | None = None,
    backlog: int = 2048,
    limit_max_requests: int | None = None,
    limit_max_requests_jitter: int = 0,
    timeout_keep_alive: float = 5,
    timeout_graceful_shutdown: float | None = 30,
    timeout_worker_healthcheck: float = 5,
    ssl_keyfile: Union[str, os.PathLike] | None = None,
    ssl_certfile: Union[str, os.PathLike] | None = None,
    ssl_keyfile_password: str | None = None,
    ssl_version: int = SSL_PROTOCOL_VERSION,
    ssl_cert_reqs: int = ssl.CERT_NONE,
    ssl_ca_certs: Union[str, os.PathLike] | None = None,
    ssl_ciphers: str | None = None,
    ssl_context_factory: Callable[..., ssl.SSLContext] | None = None,
    headers: list[tuple[str, str]] | None = None,
    use_colors: bool | None = None,
    app_dir: str | None = None,
    factory: bool = False,
    h11_max_incomplete_event_size: int | None = None,
    reset_contextvars: bool = False,
    # ruvicorn's own options
    timeout_request_header: float | None = 10.0,
    limit_request_line: int = LIMIT_DEFAULTS["max_request_line"],
    limit_request_fields: int = LIMIT_DEFAULTS["max_header_count"],
    limit_request_field_size: int = LIMIT_DEFAULTS["max_header_field_size"],
    limit_request_body: int | None = None,
    wsgi_workers: int = 10,
    http2_max_concurrent_streams: int | None = None,
    http2_initial_stream_window_size: int | None = None,
    http2_initial_connection_window_size: int | None = None,
    http2_max_frame_size: int | None = None,
    http2_max_header_list_size: int | None = None,
    http2_keep_alive_interval: float | None = None,
    http2_keep_alive_timeout: float | None = 20.0,
    ws_max_queue_bytes: int = LIMIT_DEFAULTS["ws_max_queue_bytes"],
    http3: bool = False,
    http3_max_concurrent_streams: int | None = None,
    http3_idle_timeout: float = HTTP3_IDLE_TIMEOUT,
    http3_max_datagram_size: int = HTTP3_MAX_DATAGRAM_SIZE,
    metrics: bool = False,
    metrics_address: str = "127.0.0.1",
    metrics_port: int = 9090,
) -> None:
    """Run a server in this process (or under a supervisor for reload/workers).

    uvicorn 0.54's ``run()`` signature (the same parameters, order and defaults, except the
    30 s ``timeout_graceful_shutdown``), then ruvicorn's own options; each is ``Config``'s.
    """
    options = dict(locals())
    del options["app"], options["app_dir"]
    if app_dir is not None:
        sys.path.insert(0, app_dir)
    config = Config(app, **options)
    if config.reload or config.workers > 1:
        if not isinstance(app, str):
            logger.warning("You must pass the application as an import string to enable "
                           "'reload' or 'workers'.")
            sys.exit(EXIT_USAGE)
    else:
        with unimportable_app_exits():
            config.load_app()  # fail fast, with one line, before anything is bound

    server = Server(config=config)
    try:
        if config.should_reload:
            from ruvicorn.supervisors.reload import ChangeReload

            ChangeReload(config, sockets=[config.bind_socket()]).run()
        elif config.workers > 1:
            from ruvicorn.supervisors.multiprocess import Multiprocess

            Multiprocess(config, sockets=[config.bind_socket()]).run()
        else:
            server.run()
    except KeyboardInterrupt:
        pass
    finally:
        if config.uds and os.path.exists(config.uds):
            os.remove(config.uds)
    if not server.started and not config.should_reload and config.workers == 1:
        sys.exit(STARTUP_FAILURE)


def _add_uvicorn_envvars(command: click.Command) -> None:
    """RUVICORN_<NAME> first, UVICORN_<NAME> as a fallback, for every option."""
    for param in command.params:
        if isinstance(param, click.Option) and param.name and param.envvar is None:
            name = param.name.upper()
            param.envvar = [f"RUVICORN_{name}", f"UVICORN_{name}"]


_add_uvicorn_envvars(main)
