"""How the WebSocket tests start servers (shared by conftest.py and the modules that start their
own). A uniquely named module: ``conftest`` is ambiguous when several test directories run."""

from __future__ import annotations

import ast
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from helpers import ServerProcess

REPO = Path(__file__).resolve().parents[2]
if str(REPO / "tests") not in sys.path:
    sys.path.insert(0, str(REPO / "tests"))

APP = "tests.websocket.ws_apps:app"


def server_args(app: str, parser: str, extra: list[str]) -> list[str]:
    # A short graceful shutdown keeps teardown bounded even if an app is left hanging.
    return [app, "--host", "127.0.0.1", "--http", parser, "--log-level", "info",
            "--timeout-graceful-shutdown", "3", *extra]


def events(server: ServerProcess, token: str, count: int = 1) -> list[Any]:
    """What the app recorded under ``token`` (ws_apps.record), waiting for ``count`` entries."""
    r = httpx.get(f"{server.url}/events/{token}?count={count}", timeout=15)
    return list(ast.literal_eval(r.text))
