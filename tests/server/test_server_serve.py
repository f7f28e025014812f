"""Serving through the real command line: signals, graceful shutdown, options that shape
responses and scopes, interfaces, environment."""

from __future__ import annotations

import signal
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from helpers import protocol_available, run_server, start_server

APPS = str(Path(__file__).resolve().parent)
BASE = ["--app-dir", APPS]
pytestmark = pytest.mark.skipif(not protocol_available(), reason="ruvicorn.protocols not built")


class Background:
    """One request on a thread, so the test can signal the server while it is in flight."""

    def __init__(self, url: str, timeout: float = 30.0) -> None:
        self.response: httpx.Response | None = None
        self.error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, args=(url, timeout), daemon=True)
        self._thread.start()

    def _run(self, url: str, timeout: float) -> None:
        try:
            self.response = httpx.get(url, timeout=timeout)
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            self.error = exc

    def join(self, timeout: float = 30.0) -> None:
        self._thread.join(timeout)
        assert not self._thread.is_alive()


def test_serves_and_stops_on_sigterm() -> None:
    with run_server([*BASE, "apps:hello"]) as server:
        response = httpx.get(server.url + "/")
        assert response.status_code == 200 and response.text == "hello"
        assert server.stop(signal.SIGTERM) == 0
    assert "Finished server process" in server.stderr_text()


def test_stops_on_sigint_with_status_0() -> None:
    with run_server([*BASE, "apps:hello"]) as server:
        assert server.stop(signal.SIGINT) == 0


def test_in_flight_request_finishes_during_graceful_shutdown() -> None:
    with run_server([*BASE, "apps:slow"]) as server:
        request = Background(server.url + "/?seconds=1.5")
        assert server.wait_for_stderr("slow request started", 10)
        assert server.stop(signal.SIGTERM) == 0
        request.join()
    assert request.response is not None and request.response.text == "done"
    assert "Waiting for" in server.stderr_text()


def test_graceful_shutdown_timeout_cancels_the_request() -> None:
    with run_server([*BASE, "--timeout-graceful-shutdown", "1", "apps:slow"]) as server:
        request = Background(server.url + "/?seconds=60")
        assert server.wait_for_stderr("slow request started", 10)
        started = time.monotonic()
        assert server.stop(signal.SIGTERM) == 0
        assert time.monotonic() - started < 10
        request.join()
    assert request.response is None or request.response.status_code >= 500
    assert "timeout graceful shutdown exceeded" in server.stderr_text()


def test_second_ctrl_c_forces_exit() -> None:
    with run_server([*BASE, "apps:slow"]) as server:
        request = Background(server.url + "/?seconds=60")
        assert server.wait_for_stderr("slow request started", 10)
        server.send_signal(signal.SIGINT)
        assert server.wait_for_stderr("Shutting down", 10)
        started = time.monotonic()
        server.send_signal(signal.SIGINT)
        server.wait(15)
        assert time.monotonic() - started < 10
        request.join()


def test_limit_max_requests_stops_the_process() -> None:
    with run_server([*BASE, "--limit-max-requests", "3", "apps:hello"]) as server:
        with httpx.Client() as client:
            for _ in range(3):
                assert client.get(server.url + "/").status_code == 200
        assert server.wait(15) == 0
    assert "Maximum request limit of 3 exceeded. Terminating process." in server.stderr_text()


def test_limit_concurrency_answers_503() -> None:
    with run_server([*BASE, "--limit-concurrency", "1", "apps:slow"]) as server:
        request = Background(server.url + "/?seconds=2")
        assert server.wait_for_stderr("slow request started", 10)
        assert httpx.get(server.url + "/?seconds=0").status_code == 503
        request.join()
    assert request.response is not None and request.response.status_code == 200


def _get(server: Any, path: str = "/", **kwargs: Any) -> httpx.Response:
    return httpx.get(server.url + path, timeout=10, **kwargs)


def test_default_headers_and_toggles() -> None:
    with run_server([*BASE, "--header", "X-Custom: yes", "apps:hello"]) as server:
        response = _get(server)
        assert response.headers["server"] == "ruvicorn"
        assert "date" in response.headers
        assert response.headers["x-custom"] == "yes"
    with run_server([*BASE, "--no-server-header", "--no-date-header", "apps:hello"]) as server:
        response = _get(server)
        assert "server" not in response.headers and "date" not in response.headers
    # A --header Server replaces ours instead of adding a second one.
    with run_server([*BASE, "--header", "server:custom", "apps:hello"]) as server:
        response = _get(server)
        assert response.headers.get_list("server") == ["custom"]


def test_root_path() -> None:
    with run_server([*BASE, "--root-path", "/api", "apps:echo_scope"]) as server:
        assert "root_path=/api" in _get(server).text


PROXY = {"X-Forwarded-For": "203.0.113.7, 127.0.0.1", "X-Forwarded-Proto": "https"}


def test_proxy_headers_from_trusted_peer() -> None:
    with run_server([*BASE, "apps:echo_scope"]) as server:
        text = _get(server, headers=PROXY).text
    assert "scheme=https" in text and "client=203.0.113.7" in text


def test_proxy_headers_from_untrusted_peer_are_ignored() -> None:
    with run_server([*BASE, "--forwarded-allow-ips", "10.1.2.3", "apps:echo_scope"]) as server:
        text = _get(server, headers=PROXY).text
    assert "scheme=http " in text and "client=127.0.0.1" in text


def test_no_proxy_headers() -> None:
    with run_server([*BASE, "--no-proxy-headers", "apps:echo_scope"]) as server:
        assert "client=127.0.0.1" in _get(server, headers=PROXY).text


def test_forwarded_allow_ips_from_environment() -> None:
    env = {"FORWARDED_ALLOW_IPS": "10.1.2.3"}
    with run_server([*BASE, "apps:echo_scope"], env=env) as server:
        assert "client=127.0.0.1" in _get(server, headers=PROXY).text


def test_access_log_format_and_switch() -> None:
    with run_server([*BASE, "apps:hello"]) as server:
        _get(server, "/path?x=1")
        assert server.wait_for_stdout('"GET /path?x=1 HTTP/1.1" 200 OK', 10)
        assert server.stdout_text().startswith("INFO:     127.0.0.1:")
    with run_server([*BASE, "--no-access-log", "apps:hello"]) as server:
        _get(server, "/path")
        server.stop()
    assert "GET /path" not in server.stdout_text()


@pytest.mark.parametrize(("args", "body"), [
    (["apps:ASGI2App"], "asgi2"),
    (["--interface", "asgi2", "apps:ASGI2App"], "asgi2"),
    (["--interface", "wsgi", "apps:wsgi_app"], "wsgi GET /x"),
    (["apps:create_app"], "hello"),
    (["--factory", "apps:create_app"], "hello"),
])
def test_interfaces_and_factories(args: list[str], body: str) -> None:
    with run_server([*BASE, *args]) as server:
        assert _get(server, "/x").text == body


def test_env_file_is_loaded_before_the_app(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("RUVICORN_TEST_VALUE=from-dotenv\n")
    with run_server([*BASE, "--env-file", str(env_file), "--factory",
                     "apps:env_app_factory"]) as server:
        assert _get(server).text == "from-dotenv"
    assert f"Loading environment from '{env_file}'" in server.stderr_text()


@pytest.mark.parametrize("prefix", ["RUVICORN", "UVICORN"])
def test_options_from_environment(prefix: str) -> None:
    env = {f"{prefix}_ROOT_PATH": "/from-env", f"{prefix}_APP": "apps:echo_scope"}
    with run_server(BASE, env=env) as server:
        assert "root_path=/from-env" in _get(server).text


def test_http_and_loop_aliases_are_accepted() -> None:
    with run_server([*BASE, "--http", "httptools", "--loop", "asyncio", "--ws", "websockets",
                     "--http2", "apps:hello"]) as server:
        assert _get(server).text == "hello"
    err = server.stderr_text()
    assert "--http httptools is uvicorn's" in err
    assert "HTTP/2" not in err  # uvicorn's --http2 is simply what ruvicorn does by default


@pytest.mark.parametrize("parser", ["pico", "llhttp"])
def test_parser_choice(parser: str) -> None:
    with run_server([*BASE, "--http", parser, "apps:hello"]) as server:
        assert _get(server).text == "hello"


def test_port_in_use_exits_3() -> None:
    with run_server([*BASE, "apps:hello"]) as first:
        second = start_server([*BASE, "--port", str(first.port), "apps:hello"])
        assert second.wait(20) == 3
        assert "address already in use" in second.stderr_text().lower()
