"""Building and running the C++ embedding example (examples/cpp) for the tests in this folder.

The core is installed into a prefix and the example is built against it as an outside CMake
project, under build/embed-tests (or $RUVICORN_EMBED_TEST_BUILD).
"""

from __future__ import annotations

import contextlib
import os
import selectors
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("RUVICORN_EMBED_TEST_BUILD", ROOT / "build" / "embed-tests"))


def _run(*args: str, timeout: float = 600) -> None:
    result = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-4000:]


def build_example() -> Path:
    generator = ["-G", "Ninja"] if shutil.which("ninja") else []
    core, prefix, example = BUILD / "core", BUILD / "prefix", BUILD / "example"
    if not (core / "CMakeCache.txt").exists():
        _run("cmake", "-S", str(ROOT), "-B", str(core), *generator, "-DRUVICORN_PYTHON=OFF",
             "-DRUVICORN_TESTS=OFF", "-DCMAKE_BUILD_TYPE=Release",
             f"-DPython3_EXECUTABLE={sys.executable}")
    _run("cmake", "--build", str(core), "-j", "2", timeout=900)
    _run("cmake", "--install", str(core), "--prefix", str(prefix))
    if not (example / "CMakeCache.txt").exists():
        _run("cmake", "-S", str(ROOT / "examples" / "cpp"), "-B", str(example), *generator,
             "-DCMAKE_BUILD_TYPE=Release", f"-DCMAKE_PREFIX_PATH={prefix}")
    _run("cmake", "--build", str(example))
    return example / "ruvicorn_example_server"


@contextlib.contextmanager
def example_server(binary: Path, parser: str = "pico") -> Iterator[str]:
    """Runs the example on a free port; yields its base URL; stops it by PID (exit status 0)."""
    proc = subprocess.Popen(
        [str(binary), "--host", "127.0.0.1", "--port", "0", "--parser", parser],
        stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        with selectors.DefaultSelector() as sel:
            sel.register(proc.stdout, selectors.EVENT_READ)
            assert sel.select(timeout=10), "the example did not start"
        line = proc.stdout.readline()
        assert line.startswith("listening on http://"), line
        yield line.split("listening on ", 1)[1].strip()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            assert proc.wait(timeout=5) == 0
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=5)
            raise
