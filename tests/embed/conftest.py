from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

# example_server.py beside this file; the HTTP/2 conformance module in tests/http2.
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "http2"))

from example_server import build_example  # noqa: E402


@pytest.fixture(scope="session")
def example_binary() -> Path:
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    return build_example()
