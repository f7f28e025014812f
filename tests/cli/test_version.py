from __future__ import annotations

import platform
import re
import subprocess
import sys
from pathlib import Path

import pytest

import ruvicorn
from helpers import run_cli

PINS = Path(__file__).resolve().parents[2] / "third_party" / "pins.cmake"


def _pins() -> dict[str, str]:
    if not PINS.exists():
        pytest.skip("third_party/pins.cmake not beside the tests (not a source checkout)")
    return dict(re.findall(r'set\((RUVICORN_\w+) "([^"]*)"\)', PINS.read_text()))


def test_import_core_extension() -> None:
    from ruvicorn import _core

    assert _core.__version__ == ruvicorn.__version__


def test_python_m_version() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "ruvicorn", "--version"],
        capture_output=True, text=True, timeout=30, check=True,
    )
    assert ruvicorn.__version__ in out.stdout
    assert "ruvicorn" in out.stdout


def test_build_info_reports_the_pinned_parsers() -> None:
    from ruvicorn import _core

    pins = _pins()
    info = _core.build_info()
    assert info["version"] == ruvicorn.__version__
    assert info["compiler"]
    pico, llhttp = info["parsers"]
    assert pico["name"] == "picohttpparser"
    assert pico["version"] == pins["RUVICORN_PICO_UPSTREAM"]
    assert pico["source"] == f"{pins['RUVICORN_PICO_PACKAGE']} {pins['RUVICORN_PICO_VERSION']}"
    assert set(pico["simd"]) == {"SSE4.2"} and isinstance(pico["simd"]["SSE4.2"], bool)
    assert llhttp["name"] == "llhttp"
    assert llhttp["version"] == pins["RUVICORN_LLHTTP_UPSTREAM"]
    assert llhttp["source"] == (
        f"{pins['RUVICORN_LLHTTP_PACKAGE']} {pins['RUVICORN_LLHTTP_VERSION']}")


def test_version_names_parsers_simd_and_loop() -> None:
    from ruvicorn import _core

    pins = _pins()
    result = run_cli(["--version"])
    assert result.returncode == 0, result.stderr
    line = result.stdout.strip()
    sse42 = "yes" if _core.build_info()["parsers"][0]["simd"]["SSE4.2"] else "no"
    try:
        import uvloop
        loop = f"loop: uvloop {uvloop.__version__}"
    except ImportError:
        loop = "loop: asyncio"
    assert line == (
        f"Running ruvicorn {ruvicorn.__version__} with {platform.python_implementation()} "
        f"{platform.python_version()} on {platform.system()}; "
        f"parsers: picohttpparser {pins['RUVICORN_PICO_UPSTREAM']} (SSE4.2: {sse42}), "
        f"llhttp {pins['RUVICORN_LLHTTP_UPSTREAM']}; {loop}"), line
