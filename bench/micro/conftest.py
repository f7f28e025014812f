"""Micro-benchmarks need pytest-benchmark (``pip install pytest-benchmark``); without it they are
skipped rather than failing."""

import asyncio
from typing import Any, Iterator

import pytest

pytest.importorskip("pytest_benchmark")


@pytest.fixture
def loop() -> Iterator[Any]:
    """A uvloop event loop, set as the current one (the per-request benchmarks' driver)."""
    uvloop = pytest.importorskip("uvloop")
    loop = uvloop.new_event_loop()
    asyncio.set_event_loop(loop)
    yield loop
    asyncio.set_event_loop(None)
    loop.close()
