"""Config: option mapping, app loading and the one options -> core limits table (in process)."""

from __future__ import annotations

import logging
import pickle
import sys
from pathlib import Path

import pytest

from ruvicorn.config import LIMIT_DEFAULTS, Config
from ruvicorn.middleware.asgi2 import ASGI2Middleware
from ruvicorn.middleware.wsgi import WSGIMiddleware

APPS = str(Path(__file__).resolve().parent.parent / "server")


@pytest.fixture(autouse=True)
def _apps_on_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.syspath_prepend(APPS)
    monkeypatch.delenv("WEB_CONCURRENCY", raising=False)
    monkeypatch.delenv("FORWARDED_ALLOW_IPS", raising=False)


def test_limits_defaults_are_the_cores() -> None:
    limits = Config("apps:hello").limits()
    # Left out: the core keeps its own default (src/cpp/core/include/ruvicorn/limits.hpp).
    assert "max_head_size" not in limits and "high_water" not in limits
    for field in ("max_request_line", "max_header_count", "max_header_field_size",
                  "ws_max_message", "ws_max_queue", "ws_max_queue_bytes"):
        assert limits[field] == LIMIT_DEFAULTS[field]
    assert limits["max_body_size"] == 0
    # The gunicorn-named per-line limits are opt-in: by default only the head is bounded.
    assert (LIMIT_DEFAULTS["max_request_line"], LIMIT_DEFAULTS["max_header_field_size"]) == (0, 0)


def test_limits_from_options() -> None:
    limits = Config("apps:hello", limit_request_line=100, limit_request_fields=0,
                    limit_request_field_size=200, h11_max_incomplete_event_size=1000,
                    limit_request_body=5, ws_max_size=7, ws_max_queue=3,
                    ws_max_queue_bytes=11).limits()
    assert limits["max_request_line"] == 100
    assert limits["max_header_count"] == 32768  # 0 means gunicorn's ceiling
    assert limits["max_header_field_size"] == 200
    assert limits["max_head_size"] == 1000
    assert limits["max_body_size"] == 5
    assert (limits["ws_max_message"], limits["ws_max_queue"]) == (7, 3)
    assert limits["ws_max_queue_bytes"] == 11


@pytest.mark.parametrize(("given", "expected"), [
    ("auto", "auto"), ("pico", "pico"), ("llhttp", "llhttp"),
    ("h11", "pico"), ("httptools", "llhttp"), ("zttp", "auto"),
])
def test_http_mapping(given: str, expected: str) -> None:
    assert Config("apps:hello", http=given).http == expected


@pytest.mark.parametrize(("given", "expected"), [
    ("auto", "auto"), ("none", "none"), ("websockets", "auto"), ("wsproto", "auto"),
    ("websockets-sansio", "auto"),
])
def test_ws_mapping(given: str, expected: str) -> None:
    assert Config("apps:hello", ws=given).ws == expected


def test_defaults_that_differ_from_uvicorn() -> None:
    config = Config("apps:hello")
    assert config.timeout_graceful_shutdown == 30
    assert config.timeout_request_header == 10.0
    assert config.timeout_keep_alive == 5


def test_environment_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEB_CONCURRENCY", "3")
    monkeypatch.setenv("FORWARDED_ALLOW_IPS", "10.0.0.1")
    config = Config("apps:hello")
    assert config.workers == 3
    assert config.forwarded_allow_ips == "10.0.0.1"
    assert Config("apps:hello", workers=2, forwarded_allow_ips="*").workers == 2
    assert Config("apps:hello").forwarded_allow_ips == "10.0.0.1"


def test_forwarded_allow_ips_default() -> None:
    assert Config("apps:hello").forwarded_allow_ips == "127.0.0.1,::1"


def test_load_wraps_by_interface() -> None:
    config = Config("apps:ASGI2App")
    config.load()
    assert config.interface == "asgi2"
    # --proxy-headers is applied by the C++ protocol, not by wrapping the app (see
    # tests/server/test_server_serve.py::test_proxy_headers_from_trusted_peer).
    assert isinstance(config.loaded_app, ASGI2Middleware)

    config = Config("apps:wsgi_app", interface="wsgi", proxy_headers=False)
    config.load()
    assert isinstance(config.loaded_app, WSGIMiddleware)
    assert config.ws == "none"

    config = Config("apps:hello", proxy_headers=False)
    config.load()
    assert config.interface == "asgi3"
    import apps

    assert config.loaded_app is apps.hello


class _ListHandler(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())


def test_factory_detected_with_warning() -> None:
    import apps

    config = Config("apps:create_app", proxy_headers=False)
    handler = _ListHandler()
    logging.getLogger("ruvicorn.error").addHandler(handler)
    try:
        config.load()
    finally:
        logging.getLogger("ruvicorn.error").removeHandler(handler)
    assert config.loaded_app is apps.hello
    assert any("ASGI app factory detected" in m for m in handler.messages)


def test_factory_flag() -> None:
    import apps

    config = Config("apps:create_app", factory=True, proxy_headers=False)
    config.load()
    assert config.loaded_app is apps.hello


def test_encoded_headers() -> None:
    config = Config("apps:hello", headers=[("X-One", "1")])
    config.load()
    assert config.encoded_headers == [(b"server", b"ruvicorn"), (b"x-one", b"1")]
    config = Config("apps:hello", headers=[("Server", "mine")])
    config.load()
    assert config.encoded_headers == [(b"server", b"mine")]
    config = Config("apps:hello", server_header=False)
    config.load()
    assert config.encoded_headers == []


def test_loop_factory() -> None:
    import asyncio

    assert Config("apps:hello", loop="none").get_loop_factory() is None
    assert Config("apps:hello", loop="asyncio").get_loop_factory() is asyncio.new_event_loop
    uvloop = pytest.importorskip("uvloop")
    assert Config("apps:hello", loop="auto").get_loop_factory() is uvloop.new_event_loop
    assert Config("apps:hello", loop="zuvloop").get_loop_factory() is uvloop.new_event_loop
    assert Config("apps:hello", loop="asyncio:new_event_loop").get_loop_factory() \
        is asyncio.new_event_loop


def test_config_pickles_for_workers() -> None:
    config = Config("apps:hello", workers=2)
    config.load()
    copy = pickle.loads(pickle.dumps(config))
    assert copy.app == "apps:hello" and not copy.loaded and copy.loaded_app is None
    copy.load()
    assert copy.loaded


def test_bind_socket_tcp() -> None:
    config = Config("apps:hello", port=0)
    sock = config.bind_socket()
    try:
        assert sock.getsockname()[0] == "127.0.0.1" and sock.getsockname()[1] > 0
        assert sock.get_inheritable()
    finally:
        sock.close()


def test_python_api_exports() -> None:
    import ruvicorn

    assert ruvicorn.Config is Config
    from ruvicorn.server import Server

    assert ruvicorn.Server is Server
    assert callable(ruvicorn.run)
    assert "ruvicorn" in sys.modules


def test_limit_max_requests_jitter() -> None:
    from ruvicorn.server import Server

    limits = {Server(Config("apps:hello", limit_max_requests=10,
                            limit_max_requests_jitter=5)).limit_max_requests
              for _ in range(200)}
    assert limits <= set(range(10, 16)) and len(limits) > 1
    assert Server(Config("apps:hello")).limit_max_requests is None
