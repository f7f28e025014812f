"""Fixtures for the HTTP wire tests: one server per test module and parser back end.

A module may set ``SERVER_ARGS`` (extra command-line options) for its server. The server runs
``tests.http.apps:app`` from the repository root. No ``__init__.py`` here on purpose: with one,
this directory would be imported as a package named ``http`` and shadow the standard library.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from helpers import ServerProcess, run_server  # noqa: E402

PARSERS = ["pico", "llhttp"]
APP = "tests.http.apps:app"


def server_args(app: str, parser: str, extra: list[str]) -> list[str]:
    # info level because readiness is the "running on" line; the access log is noise here.
    # A short graceful shutdown keeps teardown bounded even if an app is left hanging.
    return [app, "--host", "127.0.0.1", "--http", parser, "--log-level", "info",
            "--no-access-log", "--timeout-graceful-shutdown", "3", *extra]


@pytest.fixture(scope="module", params=PARSERS)
def parser(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def server(parser: str, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    extra = list(getattr(request.module, "SERVER_ARGS", []))
    with run_server(server_args(APP, parser, extra), cwd=str(REPO)) as proc:
        yield proc


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c
