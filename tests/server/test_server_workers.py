"""--workers N: one listening socket, N processes, restarts, health checks and signals."""

from __future__ import annotations

import os
import re
import signal
from pathlib import Path

import httpx
import pytest

from helpers import protocol_available, run_server, start_server

APPS = str(Path(__file__).resolve().parent)
LIFESPAN_APPS = str(Path(__file__).resolve().parent.parent / "lifespan")
BASE = ["--app-dir", APPS]
READY = "Application startup complete."
pytestmark = pytest.mark.skipif(not protocol_available(), reason="ruvicorn.protocols not built")


def _worker_pids(text: str) -> list[int]:
    return [int(pid) for pid in re.findall(r"Started server process \[(\d+)\]", text)]


def test_workers_start_and_stop() -> None:
    with run_server([*BASE, "--workers", "2", "apps:echo_scope"]) as server:
        assert server.wait_for_stderr(READY, count=2)
        pids = _worker_pids(server.stderr_text())
        assert len(set(pids)) == 2 and server.pid not in pids
        assert "pid=" in httpx.get(server.url + "/", timeout=10).text
        assert server.stop(signal.SIGTERM) == 0
    err = server.stderr_text()
    assert f"Started parent process [{server.pid}]" in err
    assert "Received SIGTERM, exiting." in err
    assert f"Stopping parent process [{server.pid}]" in err
    assert err.count("Finished server process") == 2


def test_web_concurrency_sets_workers() -> None:
    with run_server([*BASE, "apps:hello"], env={"WEB_CONCURRENCY": "2"}) as server:
        assert server.wait_for_stderr(READY, count=2)
        assert "Started parent process" in server.stderr_text()


def test_dead_worker_is_replaced() -> None:
    with run_server([*BASE, "--workers", "2", "apps:hello"]) as server:
        assert server.wait_for_stderr(READY, count=2)
        victim = _worker_pids(server.stderr_text())[0]
        os.kill(victim, signal.SIGKILL)
        assert server.wait_for_stderr(f"Child process [{victim}] died", 15)
        assert server.wait_for_stderr(READY, count=3)
        assert httpx.get(server.url + "/", timeout=10).text == "hello"


def test_hung_worker_fails_health_check() -> None:
    args = [*BASE, "--workers", "2", "--timeout-worker-healthcheck", "1", "apps:hello"]
    with run_server(args) as server:
        assert server.wait_for_stderr(READY, count=2)
        victim = _worker_pids(server.stderr_text())[0]
        os.kill(victim, signal.SIGSTOP)
        assert server.wait_for_stderr(f"Child process [{victim}] did not answer", 15)
        assert server.wait_for_stderr(READY, count=3)


def test_sighup_restarts_workers_one_by_one() -> None:
    with run_server([*BASE, "--workers", "2", "apps:hello"]) as server:
        assert server.wait_for_stderr(READY, count=2)
        old = set(_worker_pids(server.stderr_text()))
        server.send_signal(signal.SIGHUP)
        assert server.wait_for_stderr("Received SIGHUP, restarting processes.", 10)
        assert server.wait_for_stderr("Finished server process", 30, count=2)
        new = set(_worker_pids(server.stderr_text())) - old
        assert len(new) == 2
        assert httpx.get(server.url + "/", timeout=10).text == "hello"


def test_sigttin_and_sigttou() -> None:
    with run_server([*BASE, "--workers", "2", "apps:hello"]) as server:
        assert server.wait_for_stderr(READY, count=2)
        server.send_signal(signal.SIGTTIN)
        assert server.wait_for_stderr("increasing the number of processes", 10)
        assert server.wait_for_stderr(READY, count=3)
        server.send_signal(signal.SIGTTOU)
        assert server.wait_for_stderr("decreasing number of processes", 10)
        assert server.wait_for_stderr("Finished server process", 20)
        assert httpx.get(server.url + "/", timeout=10).text == "hello"


def test_worker_that_cannot_start_stops_the_parent() -> None:
    server = start_server(["--app-dir", LIFESPAN_APPS, "--workers", "2",
                           "lifespan_apps:startup_failed"])
    assert server.wait(40) == 3
    assert "failed to start, stopping the parent process" in server.stderr_text()


def test_workers_need_an_import_string() -> None:
    import subprocess
    import sys

    from helpers import subprocess_env

    code = ("import ruvicorn\nasync def app(s, r, c): pass\n"
            "ruvicorn.run(app, workers=2)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            env=subprocess_env(), timeout=30)
    assert result.returncode == 1
    assert "You must pass the application as an import string" in result.stderr
