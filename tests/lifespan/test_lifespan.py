"""Lifespan auto/on/off through the real command line."""

from __future__ import annotations

import signal
from pathlib import Path

import httpx
import pytest

from helpers import protocol_available, run_cli, run_server

APPS = str(Path(__file__).resolve().parent)
serving = pytest.mark.skipif(not protocol_available(), reason="ruvicorn.protocols not built yet")


def test_startup_failed_exits_3() -> None:
    result = run_cli(["--app-dir", APPS, "lifespan_apps:startup_failed"])
    assert result.returncode == 3
    assert "ERROR:    database is down" in result.stderr
    assert "Application startup failed. Exiting." in result.stderr


def test_exception_with_lifespan_on_exits_3() -> None:
    result = run_cli(["--app-dir", APPS, "--lifespan", "on", "lifespan_apps:raises"])
    assert result.returncode == 3
    assert "Exception in 'lifespan' protocol" in result.stderr
    assert "RuntimeError: lifespan not for me" in result.stderr
    assert "Application startup failed. Exiting." in result.stderr


@serving
def test_exception_with_lifespan_auto_keeps_serving() -> None:
    with run_server(["--app-dir", APPS, "lifespan_apps:raises"]) as server:
        assert httpx.get(server.url + "/").text == "ok"
        assert server.stop() == 0
    err = server.stderr_text()
    assert "ASGI 'lifespan' protocol appears unsupported." in err
    assert "Traceback" not in err


@serving
def test_state_is_a_shallow_copy_per_request() -> None:
    with run_server(["--app-dir", APPS, "lifespan_apps:with_state"]) as server:
        with httpx.Client() as client:
            assert client.get(server.url + "/").text == "from-lifespan hits=0"
            assert client.get(server.url + "/").text == "from-lifespan hits=0"


@serving
def test_startup_and_shutdown_messages() -> None:
    with run_server(["--app-dir", APPS, "lifespan_apps:with_state"]) as server:
        assert server.stop(signal.SIGINT) == 0
    err = server.stderr_text()
    expected = ["Started server process", "Waiting for application startup.",
                "Application startup complete.", "Ruvicorn running on", "Shutting down",
                "Waiting for application shutdown.", "Application shutdown complete.",
                "Finished server process"]
    assert all(text in err for text in expected), err
    positions = [err.index(text) for text in expected]
    assert positions == sorted(positions), err


@serving
def test_shutdown_failed_is_logged() -> None:
    with run_server(["--app-dir", APPS, "lifespan_apps:shutdown_failed"]) as server:
        server.stop()
    assert "ERROR:    could not flush" in server.stderr_text()
    assert "Application shutdown failed. Exiting." in server.stderr_text()


@serving
def test_lifespan_off_never_calls_the_app() -> None:
    with run_server(["--app-dir", APPS, "--lifespan", "off",
                     "lifespan_apps:startup_failed"]) as server:
        assert server.stop() == 0
    assert "Waiting for application startup." not in server.stderr_text()
