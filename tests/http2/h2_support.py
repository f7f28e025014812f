"""Shared by the HTTP/2 tests and their fixtures: where the repository is, how the test server
is started, and finding external clients."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
for extra in ("tests", "tests/http", "tests/websocket"):
    if str(REPO / extra) not in sys.path:
        sys.path.insert(0, str(REPO / extra))

APP = "tests.http.apps:app"


def server_args(extra: list[str], app: str = APP) -> list[str]:
    return [app, "--host", "127.0.0.1", "--log-level", "info", "--no-access-log",
            "--timeout-graceful-shutdown", "3", *extra]


def need(tool: str) -> str:
    """The path of an external client, or a skip that names it."""
    path = shutil.which(tool)
    if path is None:
        pytest.skip(f"{tool} is not installed (Debian: nghttp2-client / curl / nodejs)")
    return path


def client_env() -> dict[str, str]:
    """The environment for external clients: without the sanitizer runtime that CI preloads
    for the server (curl or Chromium under LD_PRELOAD=libasan hang or abort)."""
    return {k: v for k, v in os.environ.items()
            if k not in ("LD_PRELOAD", "ASAN_OPTIONS", "UBSAN_OPTIONS")}


def run_client(cmd: list[str], timeout: float = 60,
               **kwargs: Any) -> subprocess.CompletedProcess[str]:
    """Runs an external client to completion; a non-zero exit fails the test with its output."""
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=client_env(),
                         **kwargs)
    assert out.returncode == 0, (cmd, out.returncode, out.stdout[-2000:], out.stderr[-2000:])
    return out
