from __future__ import annotations

import subprocess
import sys

import ruvicorn


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
