"""The interface adapters and the proxy-headers middleware, called directly (no sockets)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from ruvicorn.middleware.asgi2 import ASGI2Middleware
from ruvicorn.middleware.proxy_headers import ProxyHeadersMiddleware, TrustedHosts
from ruvicorn.middleware.wsgi import WSGIMiddleware, build_environ


def _scope(**overrides: Any) -> dict:
    scope = {"type": "http", "http_version": "1.1", "method": "GET", "scheme": "http",
             "path": "/p", "root_path": "", "query_string": b"a=1", "headers": [],
             "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 8000)}
    scope.update(overrides)
    return scope


async def _capture(app: Any, scope: dict, body: bytes = b"") -> list[dict]:
    sent: list[dict] = []
    messages = [{"type": "http.request", "body": body, "more_body": False}]

    async def receive() -> dict:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        sent.append(message)

    await app(scope, receive, send)
    return sent


def _seen_scope(trusted: Any, scope: dict) -> dict:
    seen: dict = {}

    async def app(scope: dict, receive: Any, send: Any) -> None:
        seen.update(scope)

    asyncio.run(ProxyHeadersMiddleware(app, trusted)(scope, None, None))
    return seen


FORWARDED = [(b"x-forwarded-for", b"198.51.100.1, 10.0.0.2"), (b"x-forwarded-proto", b"https")]


def test_proxy_trusted_peer() -> None:
    seen = _seen_scope("127.0.0.1", _scope(headers=FORWARDED))
    # 10.0.0.2 is not trusted, so it is the right-most untrusted hop: the client.
    assert seen["client"] == ("10.0.0.2", 0) and seen["scheme"] == "https"


def test_proxy_trusted_network_walks_the_chain() -> None:
    seen = _seen_scope("127.0.0.1, 10.0.0.0/8", _scope(headers=FORWARDED))
    assert seen["client"] == ("198.51.100.1", 0)


def test_proxy_untrusted_peer() -> None:
    seen = _seen_scope("10.9.9.9", _scope(headers=FORWARDED))
    assert seen["client"] == ("127.0.0.1", 5000) and seen["scheme"] == "http"


def test_proxy_websocket_scheme() -> None:
    seen = _seen_scope("*", _scope(type="websocket", headers=[(b"x-forwarded-proto", b"https")]))
    assert seen["scheme"] == "wss"


def test_proxy_ignores_bogus_scheme() -> None:
    seen = _seen_scope("*", _scope(headers=[(b"x-forwarded-proto", b"javascript")]))
    assert seen["scheme"] == "http"


def test_trusted_hosts_literals_and_unix_peers() -> None:
    hosts = TrustedHosts("/tmp/app.sock, 192.168.0.0/16")
    assert "192.168.4.4" in hosts and "10.0.0.1" not in hosts
    assert "/tmp/app.sock" in hosts
    assert None in hosts  # a UNIX-socket peer, trusted because a literal is listed
    assert None not in TrustedHosts("127.0.0.1")
    assert "anything" in TrustedHosts("*")


def test_trusted_hosts_answers_stay_right_when_remembered() -> None:
    hosts = TrustedHosts("127.0.0.1, ::1, 10.0.0.0/8")
    for _ in range(3):  # the first round fills the memo, the others read it
        assert "127.0.0.1" in hosts and "::1" in hosts and "10.1.2.3" in hosts
        assert "127.0.0.2" not in hosts and "8.8.8.8" not in hosts and "not-an-ip" not in hosts
    many = [f"192.0.{i // 256}.{i % 256}" for i in range(TrustedHosts.MEMO_SIZE + 10)]
    assert not any(h in hosts for h in many)  # the memo stays bounded while answering
    assert len(hosts._memo) <= TrustedHosts.MEMO_SIZE
    assert "10.9.9.9" in hosts


def test_asgi2() -> None:
    class App:
        def __init__(self, scope: dict) -> None:
            self.scope = scope

        async def __call__(self, receive: Any, send: Any) -> None:
            await send({"type": "http.response.start", "status": 204, "headers": []})

    sent = asyncio.run(_capture(ASGI2Middleware(App), _scope()))
    assert sent == [{"type": "http.response.start", "status": 204, "headers": []}]


def test_wsgi_environ() -> None:
    environ = build_environ(_scope(
        path="/api/caf\u00e9", root_path="/api",
        headers=[(b"content-type", b"text/plain"), (b"content-length", b"3"),
                 (b"x-a", b"1"), (b"x-a", b"2"), (b"x_a", b"spoof")]), b"abc")
    assert environ["SCRIPT_NAME"] == "/api"
    assert environ["PATH_INFO"] == "/caf\u00e9".encode().decode("latin-1")
    assert environ["QUERY_STRING"] == "a=1"
    assert environ["CONTENT_TYPE"] == "text/plain" and environ["CONTENT_LENGTH"] == "3"
    assert environ["HTTP_X_A"] == "1,2"  # the underscore spelling is dropped, not merged
    assert environ["wsgi.input"].read() == b"abc"
    assert environ["REMOTE_ADDR"] == "127.0.0.1" and environ["SERVER_PORT"] == "8000"


def test_wsgi_response_runs_in_a_thread() -> None:
    threads: list[str] = []

    def app(environ: dict, start_response: Any) -> list[bytes]:
        threads.append(threading.current_thread().name)
        start_response("201 Created", [("X-Y", "z")])
        return [b"a", b"", b"b", environ["wsgi.input"].read()]

    sent = asyncio.run(_capture(WSGIMiddleware(app), _scope(), body=b"!"))
    assert sent[0] == {"type": "http.response.start", "status": 201, "headers": [(b"x-y", b"z")]}
    assert b"".join(m["body"] for m in sent[1:]) == b"ab!"
    assert sent[-1]["more_body"] is False
    assert threads[0].startswith("ruvicorn-wsgi")


def test_wsgi_exception_before_response_propagates() -> None:
    def app(environ: dict, start_response: Any) -> list[bytes]:
        raise ValueError("boom")

    with pytest.raises(ValueError):
        asyncio.run(_capture(WSGIMiddleware(app), _scope()))


def test_wsgi_bounded_concurrency() -> None:
    running = 0
    peak = 0
    lock = threading.Lock()

    def app(environ: dict, start_response: Any) -> list[bytes]:
        nonlocal running, peak
        with lock:
            running += 1
            peak = max(peak, running)
        threading.Event().wait(0.02)
        with lock:
            running -= 1
        start_response("200 OK", [])
        return [b"x"]

    middleware = WSGIMiddleware(app, workers=2)

    async def many() -> None:
        await asyncio.gather(*(_capture(middleware, _scope()) for _ in range(8)))

    asyncio.run(many())
    assert peak <= 2
