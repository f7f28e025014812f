"""What the numbers were measured on: CPU, kernel, wrk, h2load, and each interpreter's server
versions."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
from pathlib import Path
from typing import Dict, List, Tuple

from . import h2load, h3load

# Run in the server's interpreter: its Python version and each distribution's (or module's) version.
_PROBE = """
import json, sys, importlib, importlib.metadata as md
def version(name):
    try:
        return md.version(name)
    except md.PackageNotFoundError:
        try:
            return getattr(importlib.import_module(name), "__version__", "unknown")
        except ImportError:
            return None
packages = {n: version(n) for n in sys.argv[1:]}
print(json.dumps({"python": sys.version.split()[0], "packages": packages}))
"""
# Reported with every server: what its speed also depends on.
RELATED = ("uvloop", "httptools", "h11", "websockets", "starlette", "fastapi")


def probe(python: str, module: str, env: dict, cwd: Path) -> Dict:
    """{"python": ..., "version": ..., "packages": {...}}; version None when not importable."""
    names = [module, *(n for n in RELATED if n != module)]
    try:
        done = subprocess.run([python, "-c", _PROBE, *names], capture_output=True, text=True,
                              env=env, cwd=cwd, timeout=30)
        found = json.loads(done.stdout)
    except (OSError, ValueError, subprocess.TimeoutExpired):
        return {"python": None, "version": None, "packages": {}}
    return {"python": found["python"], "version": found["packages"].pop(module),
            "packages": found["packages"]}


def _version_of(python: str) -> str | None:
    try:
        done = subprocess.run([python, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                              capture_output=True, text=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return done.stdout.strip() if done.returncode == 0 else None


def interpreter(spec: str) -> Tuple[str, str] | None:
    """(X.Y, path) of a Python given as a path or as X.Y (pyenv's newest X.Y.*, then pythonX.Y
    on PATH); None if there is none."""
    candidates: List[str] = []
    if not re.fullmatch(r"\d+\.\d+", spec):
        candidates.append(spec)
    else:
        pyenv = shutil.which("pyenv")
        if pyenv:
            root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
            bare = subprocess.run([pyenv, "versions", "--bare"], capture_output=True,
                                  text=True).stdout.split()
            found = [v for v in bare if re.fullmatch(rf"{re.escape(spec)}\.\d+", v)]
            found.sort(key=lambda v: int(v.rsplit(".", 1)[1]), reverse=True)
            candidates += [f"{root}/versions/{v}/bin/python{spec}" for v in found]
        candidates.append(shutil.which(f"python{spec}") or "")
    for path in filter(None, candidates):
        version = _version_of(path)
        if version and (version == spec or not re.fullmatch(r"\d+\.\d+", spec)):
            return version, path
    return None


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def wrk_version() -> str | None:
    try:
        done = subprocess.run(["wrk", "-v"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = (done.stdout + done.stderr).strip()
    # "wrk debian/4.1.0-3+b2 [epoll] Copyright ...": keep the name and version.
    return " ".join(text.split()[:2]) if text else None


def machine() -> Dict:
    return {
        "cpu": cpu_model(),
        "cpus": os.cpu_count(),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "wrk": wrk_version(),
        "h2load": h2load.version(),
        "h3load": h3load.version(),
    }
