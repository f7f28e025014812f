"""Builds the core's C++ unit tests with CMake (no Python in them) and runs them with ctest."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RUVICORN_CPP_TEST_BUILD", ROOT / "build" / "cpp-tests"))


@pytest.mark.timeout(900)
def test_core_unit_tests_pass() -> None:
    if shutil.which("cmake") is None:
        pytest.skip("cmake is not installed")
    configure = [
        "cmake", "-S", str(ROOT), "-B", str(BUILD),
        "-DRUVICORN_PYTHON=OFF", "-DRUVICORN_TESTS=ON", "-DCMAKE_BUILD_TYPE=Release",
        f"-DPython3_EXECUTABLE={sys.executable}",
    ]
    if shutil.which("ninja"):
        configure += ["-G", "Ninja"]
    if (BUILD / "CMakeCache.txt").exists():
        configure = ["cmake", "-S", str(ROOT), "-B", str(BUILD)]
    subprocess.run(configure, check=True, capture_output=True, text=True, timeout=600)
    build = subprocess.run(
        ["cmake", "--build", str(BUILD), "-j", str(os.cpu_count() or 2)],
        capture_output=True, text=True, timeout=900,
    )
    assert build.returncode == 0, build.stdout[-4000:] + build.stderr[-4000:]
    run = subprocess.run(
        # In parallel: the fuzz replays run for a fixed time each, one core apiece.
        ["ctest", "--test-dir", str(BUILD), "-j", str(os.cpu_count() or 2), "--output-on-failure",
         "--timeout", "120"],
        capture_output=True, text=True, timeout=900,
    )
    print(run.stdout[-8000:])
    assert run.returncode == 0, run.stdout[-8000:] + run.stderr[-2000:]
    assert "tests passed" in run.stdout
