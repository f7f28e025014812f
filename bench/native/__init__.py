"""Load clients written in C, compiled on first use with the machine's C compiler ($CC or cc).

The binary is cached under bench/results/bin/ by a hash of its source and compiler, so an edit
to the source rebuilds it and a rerun does not.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

SOURCES = Path(__file__).resolve().parent
CACHE = SOURCES.parent / "results" / "bin"


class BuildError(RuntimeError):
    pass


def compiler() -> str | None:
    cc = os.environ.get("CC") or "cc"
    return shutil.which(cc)


def binary(name: str) -> Path:
    """Path of the compiled bench/native/<name>.c, building it if needed."""
    cc = compiler()
    if cc is None:
        raise BuildError(f"no C compiler (set CC or install cc) to build bench/native/{name}.c")
    source = SOURCES / f"{name}.c"
    digest = hashlib.sha256(source.read_bytes() + cc.encode()).hexdigest()[:16]
    target = CACHE / f"{name}-{digest}"
    if target.exists():
        return target
    CACHE.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(".tmp")
    done = subprocess.run([cc, "-O2", "-std=gnu11", "-Wall", "-Wextra", "-o", str(partial),
                           str(source)], capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError(f"building bench/native/{name}.c failed:\n{done.stderr.strip()}")
    partial.replace(target)
    return target
