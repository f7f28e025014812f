"""Shared by the HTTP/2 tests and their fixtures: where the repository is, how the test server
is started, and finding external clients."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

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
