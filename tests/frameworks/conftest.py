"""Fixtures for framework tests: each module names its ``APP`` and gets one server per parser."""

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


@pytest.fixture(scope="module", params=PARSERS)
def parser(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def server(parser: str, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    app = request.module.APP
    args = [app, "--host", "127.0.0.1", "--http", parser, "--log-level", "info",
            "--no-access-log"]
    with run_server(args, cwd=str(REPO)) as proc:
        yield proc


@pytest.fixture
def client(server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=10) as c:
        yield c
