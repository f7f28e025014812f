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


def _cpu_has_sse42() -> bool:
    if platform.machine().lower() not in ("x86_64", "amd64", "i686", "i386"):
        return False
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        pytest.skip("no /proc/cpuinfo: cannot tell whether the CPU has SSE4.2")
    return re.search(r"^flags\s*:.*\bsse4_2\b", flags, re.M) is not None


def test_sse42_scan_follows_the_cpu_and_can_be_turned_off() -> None:
    # picohttpparser is built with and without SSE4.2 and picks one at run time (the wheel runs
    # on any x86-64); RUVICORN_PICO_SSE42=0 forces the portable scan, read once at start.
    on = run_cli(["--version"], env={"RUVICORN_PICO_SSE42": "1"})
    off = run_cli(["--version"], env={"RUVICORN_PICO_SSE42": "0"})
    assert on.returncode == 0 and off.returncode == 0, on.stderr + off.stderr
    expected = "yes" if _cpu_has_sse42() else "no"
    assert f"(SSE4.2: {expected})" in on.stdout, on.stdout
    assert "(SSE4.2: no)" in off.stdout, off.stdout
