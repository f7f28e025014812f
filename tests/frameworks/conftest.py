"""Fixtures for framework tests: each module names its ``APP`` and gets one server per variant:
HTTP/1.1 with each parser, and HTTP/2 (prior knowledge; no parser plays a part there)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

import httpx
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests"))

from fw_client import make_client  # noqa: E402

from helpers import ServerProcess, run_server  # noqa: E402

# HTTP/1.1 with each parser; HTTP/2 (prior knowledge) once, since it does not use them.
VARIANTS = ["pico/http1", "llhttp/http1", "pico/http2"]


@pytest.fixture(scope="module", params=VARIANTS)
def variant(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture(scope="module")
def parser(variant: str) -> str:
    return variant.split("/")[0]


@pytest.fixture(scope="module")
def protocol(variant: str) -> str:
    return variant.split("/")[1]


@pytest.fixture(scope="module")
def server(parser: str, request: pytest.FixtureRequest) -> Iterator[ServerProcess]:
    app = request.module.APP
    args = [app, "--host", "127.0.0.1", "--http", parser, "--log-level", "info",
            "--no-access-log"]
    with run_server(args, cwd=str(REPO)) as proc:
        yield proc


@pytest.fixture
def client(server: ServerProcess, protocol: str) -> Iterator[httpx.Client]:
    with make_client(server.url, protocol) as c:
        yield c
