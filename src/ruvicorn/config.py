"""``Config``: the one object that turns options into behaviour.

Options keep uvicorn's names and defaults, with these deliberate differences:
``timeout_graceful_shutdown`` defaults to 30 s (uvicorn: wait forever), ``timeout_request_header``
(10 s) and the gunicorn-named request limits are ours, and ``http``/``ws``/``loop`` values that name
uvicorn's Python implementations are mapped onto ours with a one-line notice.
"""

from __future__ import annotations

import asyncio
import contextlib
import glob
import inspect
import logging
import os
import socket
import ssl
import sys
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator, Union

from ruvicorn import _core
from ruvicorn.importer import AppModuleNotFoundError, ImportFromStringError, import_from_string
from ruvicorn.logging import LOGGING_CONFIG, TRACE_LOG_LEVEL, configure_logging, style

# Exit statuses. uvicorn exits 3 for every start-up problem; we keep 3 for a failed lifespan
# start-up or bind and use 1 for "your command is wrong" (bad option, app cannot be imported).
EXIT_USAGE = 1
STARTUP_FAILURE = 3

HTTP_CHOICES = ("auto", "pico", "llhttp", "h11", "httptools", "zttp")
# uvicorn's Python parsers mapped onto our C++ back ends (httptools wraps llhttp).
HTTP_ALIASES = {"h11": "pico", "httptools": "llhttp", "zttp": "auto"}
WS_CHOICES = ("auto", "none", "websockets", "websockets-sansio", "wsproto")
LIFESPAN_CHOICES = ("auto", "on", "off")
LOOP_CHOICES = ("none", "auto", "asyncio", "uvloop", "zuvloop")
INTERFACES = ("auto", "asgi3", "asgi2", "wsgi")
SSL_PROTOCOL_VERSION: int = ssl.PROTOCOL_TLS_SERVER

HTTP3_IDLE_TIMEOUT = 30.0  # seconds; the QUIC idle timeout (RFC 9000 10.1)
# The largest UDP payload we send: what QUIC deployments use (it fits the usual 1500-byte paths
# with room for tunnels); RFC 9000 14 lets loss detection cope with paths that carry less.
HTTP3_MAX_DATAGRAM_SIZE = 1350

MAX_HEADER_COUNT = 32768  # gunicorn's ceiling for --limit-request-fields; 0 means this

# The core's Limits defaults (src/cpp/core/include/ruvicorn/limits.hpp, the one place they live),
# by Limits field name: what an option means when it is not given.
LIMIT_DEFAULTS: dict[str, int] = dict(_core.LIMIT_DEFAULTS)

RELOAD_DEFAULT_INCLUDES = ["*.py"]
RELOAD_DEFAULT_EXCLUDES = [".*", ".py[cod]", ".sw.*", "~*"]

logger = logging.getLogger("ruvicorn.error")


def create_ssl_context(
    certfile: Union[str, os.PathLike],
    keyfile: Union[str, os.PathLike] | None,
    password: str | None,
    ssl_version: int,
    cert_reqs: int,
    ca_certs: Union[str, os.PathLike] | None,
    ciphers: str | None,
) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl_version)
    context.load_cert_chain(certfile, keyfile, (lambda: password) if password else None)
    context.verify_mode = ssl.VerifyMode(cert_reqs)
    if ca_certs:
        context.load_verify_locations(ca_certs)
    if ciphers:
        context.set_ciphers(ciphers)
    return context


def _as_list(value: Union[list[str], str, None]) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(dict.fromkeys(value))


def _pattern_dirs(patterns: list[str]) -> list[Path]:
    """The directories a --reload-include/-exclude pattern names: itself if it is one, else what
    it matches as a glob (relative to the working directory unless absolute)."""
    found: list[Path] = []
    for pattern in patterns:
        if pattern == ".*":
            continue  # as a glob it would name every hidden directory; it is meant for files
        path = Path(pattern)
        if path.is_dir():
            found.append(path.resolve())
        elif path.is_absolute():
            found.extend(Path(p).resolve() for p in glob.glob(pattern) if Path(p).is_dir())
        else:
            found.extend(p.resolve() for p in Path.cwd().glob(pattern) if p.is_dir())
    return found


def _outermost(dirs: list[Path]) -> list[Path]:
    """``dirs`` without duplicates and without those inside another one."""
    unique = list(dict.fromkeys(dirs))
    return [d for d in unique if not any(o in d.parents for o in unique)]


def _fail(message: str, status: int = EXIT_USAGE) -> None:
    logger.error(message)
    sys.exit(status)


def _accepts_no_arguments(obj: Any) -> bool:
    try:
        inspect.signature(obj).bind()
    except (TypeError, ValueError):
        return False
    return True


def _is_asgi3(app: Any) -> bool:
    if inspect.isclass(app):
        return hasattr(app, "__await__")
    if inspect.isfunction(app) or inspect.ismethod(app):
        return inspect.iscoroutinefunction(app)
    call = type(app).__call__ if callable(app) else None
    return inspect.iscoroutinefunction(call)


def _our_protocol(value: Any) -> bool:
    """ruvicorn.protocols.HttpProtocol (or a subclass): the protocol ruvicorn serves anyway."""
    protocols = sys.modules.get("ruvicorn.protocols")  # a subclass exists only once imported
    return (protocols is not None and isinstance(value, type)
            and issubclass(value, protocols.HttpProtocol))


class Config:
    def __init__(
        self,
        app: Any,
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
        env_file: Union[str, os.PathLike] | None = None,
        log_config: Any = LOGGING_CONFIG,
        log_level: Union[str, int] | None = None,
        access_log: bool = True,
        use_colors: bool | None = None,
        interface: str = "auto",
        reload: bool = False,
        reload_dirs: Union[list[str], str, None] = None,
        reload_delay: float = 0.25,
        reload_includes: Union[list[str], str, None] = None,
        reload_excludes: Union[list[str], str, None] = None,
        workers: int | None = None,
        proxy_headers: bool = True,
        server_header: bool = True,
        date_header: bool = True,
        forwarded_allow_ips: Union[list[str], str, None] = None,
        root_path: str = "",
        limit_concurrency: int | None = None,
        limit_max_requests: int | None = None,
        limit_max_requests_jitter: int = 0,
        backlog: int = 2048,
        timeout_keep_alive: float = 5,
        timeout_notify: float = 30,
        timeout_graceful_shutdown: float | None = 30,
        timeout_worker_healthcheck: float = 5,
        callback_notify: Callable[..., Awaitable[None]] | None = None,
        ssl_keyfile: Union[str, os.PathLike] | None = None,
        ssl_certfile: Union[str, os.PathLike] | None = None,
        ssl_keyfile_password: str | None = None,
        ssl_version: int = SSL_PROTOCOL_VERSION,
        ssl_cert_reqs: int = ssl.CERT_NONE,
        ssl_ca_certs: Union[str, os.PathLike] | None = None,
        ssl_ciphers: str | None = None,
        ssl_context_factory: Callable[..., ssl.SSLContext] | None = None,
        headers: list[tuple[str, str]] | None = None,
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
        self.app = app
        self.host = host
        self.port = port
        self.uds = uds
        self.fd = fd
        self.loop = loop
        self.http = http
        self.http2 = http2
        self.ws = ws
        self.ws_max_size = ws_max_size
        self.ws_max_queue = ws_max_queue
        self.ws_max_queue_bytes = ws_max_queue_bytes
        self.ws_ping_interval = ws_ping_interval
        self.ws_ping_timeout = ws_ping_timeout
        self.ws_per_message_deflate = ws_per_message_deflate
        self.lifespan = lifespan
        self.log_config = log_config
        self.log_level = log_level
        self.access_log = access_log
        self.use_colors = use_colors
        self.interface = interface
        self.reload = reload
        self.reload_delay = reload_delay
        self.workers = workers or 1
        self.proxy_headers = proxy_headers
        self.server_header = server_header
        self.date_header = date_header
        self.root_path = root_path
        self.limit_concurrency = limit_concurrency
        self.limit_max_requests = limit_max_requests
        self.limit_max_requests_jitter = limit_max_requests_jitter
        self.backlog = backlog
        self.timeout_keep_alive = timeout_keep_alive
        self.timeout_notify = timeout_notify
        self.timeout_graceful_shutdown = timeout_graceful_shutdown
        self.timeout_worker_healthcheck = timeout_worker_healthcheck
        self.callback_notify = callback_notify
        self.ssl_keyfile = ssl_keyfile
        self.ssl_certfile = ssl_certfile
        self.ssl_keyfile_password = ssl_keyfile_password
        self.ssl_version = ssl_version
        self.ssl_cert_reqs = ssl_cert_reqs
        self.ssl_ca_certs = ssl_ca_certs
        self.ssl_ciphers = ssl_ciphers
        self.ssl_context_factory = ssl_context_factory
        self.headers: list[tuple[str, str]] = [tuple(h) for h in headers or []]  # type: ignore[misc]
        self.encoded_headers: list[tuple[bytes, bytes]] = []
        self.factory = factory
        self.h11_max_incomplete_event_size = h11_max_incomplete_event_size
        self.reset_contextvars = reset_contextvars
        self.timeout_request_header = timeout_request_header
        self.limit_request_line = limit_request_line
        self.limit_request_fields = limit_request_fields
        self.limit_request_field_size = limit_request_field_size
        self.limit_request_body = limit_request_body
        self.wsgi_workers = wsgi_workers
        self.http2_max_concurrent_streams = http2_max_concurrent_streams
        self.http2_initial_stream_window_size = http2_initial_stream_window_size
        self.http2_initial_connection_window_size = http2_initial_connection_window_size
        self.http2_max_frame_size = http2_max_frame_size
        self.http2_max_header_list_size = http2_max_header_list_size
        self.http2_keep_alive_interval = http2_keep_alive_interval
        self.http2_keep_alive_timeout = http2_keep_alive_timeout
        self.http3 = http3
        self.http3_max_concurrent_streams = http3_max_concurrent_streams
        self.http3_idle_timeout = http3_idle_timeout
        self.http3_max_datagram_size = http3_max_datagram_size
        self.metrics = metrics
        self.metrics_address = metrics_address
        self.metrics_port = metrics_port
        self.ssl: ssl.SSLContext | None = None
        self.loaded = False
        self.loaded_app: Any = None

        self.configure_logging()

        self.http = self._resolve_http(http)
        self.ws = self._resolve_ws(ws)
        self._check_http2()
        self._check_http3()
        if loop == "zuvloop":
            logger.info("--loop zuvloop is served by uvloop in ruvicorn.")

        self.reload_dirs: list[Path] = []
        self.reload_dirs_excludes: list[Path] = []
        self.reload_includes: list[str] = []
        self.reload_excludes: list[str] = []
        if (reload_dirs or reload_includes or reload_excludes) and not self.should_reload:
            logger.warning("Current configuration will not reload as not all conditions are met, "
                           "please refer to documentation.")
        if self.should_reload:
            self._resolve_reload(_as_list(reload_dirs), _as_list(reload_includes),
                                 _as_list(reload_excludes))

        if metrics:
            from ruvicorn.metrics import MISSING_CLIENT, client_available

            if not client_available():
                _fail(MISSING_CLIENT)
            if not 0 <= metrics_port <= 65535:
                _fail(f"--metrics-port must be between 0 and 65535, not {metrics_port}.")

        if env_file is not None:
            try:
                from dotenv import load_dotenv
            except ImportError:
                _fail("--env-file needs python-dotenv: pip install python-dotenv "
                      "(or ruvicorn[standard]).")
            logger.info("Loading environment from '%s'", env_file)
            load_dotenv(dotenv_path=env_file)

        if workers is None and "WEB_CONCURRENCY" in os.environ:
            self.workers = int(os.environ["WEB_CONCURRENCY"])
        if forwarded_allow_ips is None:
            forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1,::1")
        self.forwarded_allow_ips: Union[list[str], str] = forwarded_allow_ips

        if self.reload and self.workers > 1:
            logger.warning('"workers" flag is ignored when reloading is enabled.')

    # --- option mapping ----------------------------------------------------------------------

    @staticmethod
    def _resolve_http(http: Any) -> str:
        if _our_protocol(http):
            return "auto"
        if not isinstance(http, str):
            logger.info("A custom HTTP protocol class is not supported by ruvicorn; using its "
                        "C++ HTTP/1.1 protocol.")
            return "auto"
        if http in HTTP_ALIASES:
            mapped = HTTP_ALIASES[http]
            logger.info("--http %s is uvicorn's; ruvicorn serves it with its C++ '%s' parser.",
                        http, mapped)
            return mapped
        if http not in ("auto", "pico", "llhttp"):
            _fail(f"Unknown --http implementation {http!r}; choose auto, pico or llhttp.")
        return http

    @staticmethod
    def _resolve_ws(ws: Any) -> str:
        if _our_protocol(ws):
            return "auto"
        if ws in ("auto", "none"):
            return ws
        name = ws if isinstance(ws, str) else "custom class"
        logger.info("--ws %s: ruvicorn serves WebSockets with its C++ implementation.", name)
        return "auto"

    def _check_http2(self) -> None:
        """Bounds from RFC 9113 6.5.2 (and a sane floor), each with a one-line message."""
        checks = [
            ("--http2-max-concurrent-streams", self.http2_max_concurrent_streams, 1, 2**31 - 1),
            ("--http2-initial-stream-window-size", self.http2_initial_stream_window_size,
             1, 2**31 - 1),
            ("--http2-initial-connection-window-size", self.http2_initial_connection_window_size,
             65535, 2**31 - 1),
            ("--http2-max-frame-size", self.http2_max_frame_size, 16384, 2**24 - 1),
            ("--http2-max-header-list-size", self.http2_max_header_list_size, 1024, 2**31 - 1),
        ]
        for option, value, low, high in checks:
            if value is not None and not low <= value <= high:
                _fail(f"{option} must be between {low} and {high}, not {value}.")
        for option, seconds in (("--http2-keep-alive-interval", self.http2_keep_alive_interval),
                                ("--http2-keep-alive-timeout", self.http2_keep_alive_timeout)):
            if seconds is not None and seconds < 0:
                _fail(f"{option} must not be negative, not {seconds}.")

    def _check_http3(self) -> None:
        """--http3 needs a certificate (QUIC always uses TLS 1.3), a TCP listener whose port it
        shares, and a QUIC library; each missing piece is one line."""
        checks = [
            ("--http3-max-concurrent-streams", self.http3_max_concurrent_streams, 1, 2**31 - 1),
            ("--http3-max-datagram-size", self.http3_max_datagram_size, 1200, 65527),
        ]
        for option, value, low, high in checks:
            if value is not None and not low <= value <= high:
                _fail(f"{option} must be between {low} and {high}, not {value}.")
        if self.http3_idle_timeout is None or self.http3_idle_timeout <= 0:
            _fail(f"--http3-idle-timeout must be positive, not {self.http3_idle_timeout}.")
        if not self.http3:
            return
        if not (self.ssl_certfile and self.ssl_keyfile):
            _fail("--http3 needs --ssl-certfile and --ssl-keyfile (QUIC always uses TLS 1.3).")
        if self.uds is not None:
            _fail("--http3 needs a TCP listener (--host/--port or --fd) to share its port, "
                  "not --uds.")
        if self.ssl_cert_reqs != ssl.CERT_NONE:
            # Neither QUIC library verifies client certificates as a server: HTTP/3 would let
            # in the clients the TLS listener refuses.
            _fail("--http3 cannot check client certificates (--ssl-cert-reqs "
                  f"{int(self.ssl_cert_reqs)}): the QUIC libraries do not verify them; serve "
                  "mutual TLS over HTTP/1.1 and HTTP/2 only.")
        try:
            from ruvicorn.http3 import load_library

            load_library()
        except ImportError as exc:
            _fail(str(exc))

    def _resolve_reload(self, dirs: list[str], includes: list[str], excludes: list[str]) -> None:
        watched = [Path(d).resolve() for d in dirs]
        for directory, given in zip(watched, dirs):
            if not directory.is_dir():
                logger.warning("Reload directory '%s' does not exist; not watching it.", given)
        watched = [d for d in watched if d.is_dir()] + _pattern_dirs(includes)
        self.reload_dirs_excludes = _outermost(_pattern_dirs(excludes))
        watched = [d for d in watched if not any(d == x or x in d.parents
                                                 for x in self.reload_dirs_excludes)]
        self.reload_dirs = _outermost(watched)  # a watched directory covers its subdirectories
        self.reload_includes = [p for p in includes if p not in excludes]
        self.reload_excludes = excludes
        if not self.reload_dirs:
            if dirs:
                logger.warning("Provided reload directories %s did not contain valid directories, "
                               "watching current working directory.", dirs)
            self.reload_dirs = [Path.cwd()]
        logger.info("Will watch for changes in these directories: %s",
                    sorted(str(d) for d in self.reload_dirs))

    def limits(self) -> dict[str, int]:
        """The one place where options become the core's ``ruvicorn::Limits``; a field left out
        keeps the core's default."""
        limits = {
            "max_request_line": max(0, self.limit_request_line),
            "max_header_count": self.limit_request_fields or MAX_HEADER_COUNT,
            "max_header_field_size": max(0, self.limit_request_field_size),
            "max_body_size": self.limit_request_body or 0,
            "ws_max_message": self.ws_max_size,
            "ws_max_queue": self.ws_max_queue,
            "ws_max_queue_bytes": self.ws_max_queue_bytes,
        }
        if self.h11_max_incomplete_event_size:
            limits["max_head_size"] = self.h11_max_incomplete_event_size
        http2 = {
            "h2_max_concurrent_streams": self.http2_max_concurrent_streams,
            "h2_initial_stream_window": self.http2_initial_stream_window_size,
            "h2_initial_connection_window": self.http2_initial_connection_window_size,
            "h2_max_frame_size": self.http2_max_frame_size,
            "h2_max_header_list_size": self.http2_max_header_list_size,
        }
        limits.update({name: value for name, value in http2.items() if value is not None})
        if self.http3_max_concurrent_streams is not None:
            limits["h3_max_concurrent_streams"] = self.http3_max_concurrent_streams
        return limits

    # --- derived properties ------------------------------------------------------------------

    @property
    def asgi_version(self) -> str:
        return "2.0" if self.interface == "asgi2" else "3.0"

    @property
    def is_ssl(self) -> bool:
        return bool(self.ssl_keyfile or self.ssl_certfile or self.ssl_context_factory)

    @property
    def use_subprocess(self) -> bool:
        return bool(self.reload or self.workers > 1)

    @property
    def should_reload(self) -> bool:
        return isinstance(self.app, str) and self.reload

    def configure_logging(self) -> None:
        configure_logging(self.log_config, self.log_level, self.access_log, self.use_colors)

    # --- loading -----------------------------------------------------------------------------

    def load_app(self) -> Any:
        """Import the app. A module that cannot be imported raises ImportError (the command line
        turns it into one line, see ``unimportable_app_exits``); a malformed import string or a
        missing attribute logs one line and exits 1."""
        try:
            return import_from_string(self.app)
        except AppModuleNotFoundError:
            raise
        except ImportFromStringError as exc:
            _fail(f"Error loading ASGI app. {exc}")

    def load(self) -> None:
        assert not self.loaded, "Config.load() called twice"
        self.ssl = self._make_ssl_context()

        # uvicorn's Config.encoded_headers, kept for code that reads it. Serving does not use it:
        # the C++ response writer applies the same rule (a Server header replaces ours).
        encoded = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in self.headers]
        if self.server_header and not any(name == b"server" for name, _ in encoded):
            encoded.insert(0, (b"server", b"ruvicorn"))
        self.encoded_headers = encoded

        from ruvicorn.lifespan import LifespanOff, LifespanOn

        self.lifespan_class = LifespanOff if self.lifespan == "off" else LifespanOn

        app = self.load_app()
        app = self._call_factory(app)
        if self.interface == "auto":
            self.interface = "asgi3" if _is_asgi3(app) else "asgi2"
        if self.interface == "wsgi":
            from ruvicorn.middleware.wsgi import WSGIMiddleware

            app = WSGIMiddleware(app, workers=self.wsgi_workers)
            self.ws = "none"
        elif self.interface == "asgi2":
            from ruvicorn.middleware.asgi2 import ASGI2Middleware

            app = ASGI2Middleware(app)
        if logger.getEffectiveLevel() <= TRACE_LOG_LEVEL:
            from ruvicorn.middleware.message_logger import MessageLoggerMiddleware

            app = MessageLoggerMiddleware(app)
        # --proxy-headers is applied by the protocol itself (ruvicorn.protocols), not by a
        # middleware: requests without X-Forwarded-* headers then cost nothing extra.
        self.loaded_app = app
        self.loaded = True

    def _call_factory(self, app: Any) -> Any:
        if self.factory:
            try:
                return app()
            except TypeError as exc:
                _fail(f"Error loading ASGI app factory: {exc}")
        if callable(app) and not inspect.isclass(app) and _accepts_no_arguments(app):
            logger.warning("ASGI app factory detected. Using it, but please consider setting the "
                           "--factory flag explicitly.")
            return app()
        return app

    def _make_ssl_context(self) -> ssl.SSLContext | None:
        def default_factory() -> ssl.SSLContext:
            if not self.ssl_certfile:
                raise RuntimeError("the default SSL context needs ssl_certfile")
            return create_ssl_context(
                certfile=self.ssl_certfile, keyfile=self.ssl_keyfile,
                password=self.ssl_keyfile_password, ssl_version=self.ssl_version,
                cert_reqs=self.ssl_cert_reqs, ca_certs=self.ssl_ca_certs,
                ciphers=self.ssl_ciphers,
            )

        context: ssl.SSLContext | None = None
        try:
            if self.ssl_context_factory is not None:
                context = self.ssl_context_factory(self, default_factory)
                if not isinstance(context, ssl.SSLContext):
                    raise TypeError("ssl_context_factory must return an ssl.SSLContext")
            elif self.is_ssl:
                context = default_factory()
        except (OSError, ssl.SSLError, ValueError) as exc:
            _fail(f"Invalid TLS configuration: {exc}", STARTUP_FAILURE)
        if context is not None:
            # RFC 9113 3.2: h2 is chosen by ALPN; the server's preference order wins.
            context.set_alpn_protocols(["h2", "http/1.1"] if self.http2 else ["http/1.1"])
        return context

    # --- event loop ----------------------------------------------------------------------------

    def get_loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop] | None:
        """A callable that makes the event loop, or None for asyncio's default."""
        name = self.loop
        if name == "none":
            return None
        if name == "asyncio":
            return asyncio.new_event_loop
        if name in ("uvloop", "zuvloop"):
            import uvloop

            return uvloop.new_event_loop
        if name == "auto":
            try:
                import uvloop
            except ImportError:
                return asyncio.new_event_loop
            return uvloop.new_event_loop
        try:
            return import_from_string(name)
        except ImportFromStringError as exc:
            _fail(f"Error loading custom loop setup function. {exc}")
        return None

    @property
    def loop_factory(self) -> Callable[[], asyncio.AbstractEventLoop] | None:
        return self.get_loop_factory()

    # --- sockets -------------------------------------------------------------------------------

    def bind_socket(self) -> socket.socket:
        """Bind the listening socket in the supervisor (workers / reload) and log where."""
        if self.uds is not None:
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                if os.path.exists(self.uds) and _is_stale_socket(self.uds):
                    os.unlink(self.uds)
                sock.bind(self.uds)
                os.chmod(self.uds, 0o666)
            except OSError as exc:
                _fail(str(exc), STARTUP_FAILURE)
            log_running(self, unix_path=self.uds)
        elif self.fd is not None:
            sock = self.socket_from_fd()
            log_running(self, fd_name=sock.getsockname())
        else:
            family = socket.AF_INET6 if self.host and ":" in self.host else socket.AF_INET
            sock = socket.socket(family=family)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                sock.bind((self.host, self.port))
            except OSError as exc:
                _fail(str(exc), STARTUP_FAILURE)
            log_running(self, port=sock.getsockname()[1])
        if self.fd is None:  # an inherited socket is listened on by the loop that serves it
            sock.listen(self.backlog)
        sock.set_inheritable(True)
        return sock

    def socket_from_fd(self) -> socket.socket:
        """A socket on a duplicate of ``--fd``: closing it on shutdown leaves the caller's file
        descriptor open (the family and type are read from the descriptor)."""
        assert self.fd is not None
        return socket.socket(fileno=os.dup(self.fd))

    def __getstate__(self) -> dict:
        # Workers are spawned with a pickled Config; the loaded app and TLS context are rebuilt.
        state = self.__dict__.copy()
        state.update(ssl=None, loaded=False, loaded_app=None)
        state.pop("lifespan_class", None)
        return state


@contextlib.contextmanager
def unimportable_app_exits() -> Iterator[None]:
    """For the command line and worker processes: an app whose module cannot be imported is one
    log line and exit status 1 rather than a traceback (the Python API raises ImportError)."""
    try:
        yield
    except AppModuleNotFoundError as exc:
        _fail(f"Error loading ASGI app. {exc}")


def _is_stale_socket(path: str) -> bool:
    probe = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    try:
        probe.connect(path)
    except ConnectionRefusedError:
        return True
    except OSError:
        return False
    finally:
        probe.close()
    return False


def log_running(config: Config, port: int | None = None, unix_path: str | None = None,
                fd_name: Any = None) -> None:
    """The start-up line tools and tests wait for (uvicorn's wording, our name)."""
    if unix_path is not None:
        logger.info("Ruvicorn running on unix socket %s (Press CTRL+C to quit)", unix_path)
        return
    if fd_name is not None:
        logger.info("Ruvicorn running on socket %s (Press CTRL+C to quit)", fd_name)
        return
    host = "0.0.0.0" if config.host is None else config.host
    address = "%s://[%s]:%d" if ":" in host else "%s://%s:%d"
    scheme = "https" if config.is_ssl else "http"
    logger.info(f"Ruvicorn running on {address} (Press CTRL+C to quit)", scheme, host, port,
                extra={"color_message": "Ruvicorn running on " + style(address, bold=True)
                       + " (Press CTRL+C to quit)"})

