"""uvicorn's own test suite, run against ruvicorn: how much of a drop-in ruvicorn is.

The uvicorn 0.54.0 sdist is fetched with pip at test time (never committed), its ``tests/`` folder
is run in a child pytest with ``tests/compat/alias`` first on ``sys.path`` (``import uvicorn``
gives ruvicorn's modules), and the number of passing tests must not drop below
``tests/compat/baseline.txt``. Offline, the test skips with the reason. Which tests cannot pass,
and why, is in tests/compat/README.md.

By hand: ``python tests/compat/test_uvicorn_suite.py [pytest args]`` runs the suite and writes
every test's outcome to build/compat/outcomes.txt.
"""

from __future__ import annotations

import hashlib
import importlib.util
import os
import subprocess
import sys
import tarfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
sys.path.insert(0, str(ROOT / "tests"))
from helpers import subprocess_env  # noqa: E402

VERSION = "0.54.0"
SHA256 = "a2e33cbfaa0306f8e6b0c13e0cb89d7d7a2da3e62b90c66e18c33d9807b28620"
CACHE = ROOT / "build" / "compat"
ALIAS = HERE / "alias"
BASELINE = HERE / "baseline.txt"
# What uvicorn's test files import, and what makes their parametrisations exist (httptools and
# wsproto select protocol variants): without them the count would mean something else.
NEEDED = ("httpx2", "pytest_mock", "a2wsgi", "trustme", "websockets", "wsproto", "httptools")
PER_TEST_TIMEOUT = 20


def fetch_sdist() -> Path:
    """The sdist, downloaded once into build/compat/; skips the calling test when offline."""
    sdist = CACHE / f"uvicorn-{VERSION}.tar.gz"
    if sdist.exists() and _sha256(sdist) == SHA256:
        return sdist
    CACHE.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
               "--no-binary", ":all:", f"uvicorn=={VERSION}", "-d", str(CACHE)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        pytest.skip(f"pip download uvicorn=={VERSION} timed out (offline?)")
    if done.returncode != 0 or not sdist.exists():
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        pytest.skip(f"cannot download the uvicorn {VERSION} sdist (offline?): {last}")
    assert _sha256(sdist) == SHA256, f"{sdist} is not the uvicorn {VERSION} sdist we measured"
    return sdist


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def extract_tests(sdist: Path, into: Path) -> Path:
    """Only tests/ and pyproject.toml (its pytest settings): no uvicorn package on the path."""
    top = f"uvicorn-{VERSION}/"
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers()
                   if m.name.startswith(top + "tests/") or m.name == top + "pyproject.toml"]
        if hasattr(tarfile, "data_filter"):
            tar.extractall(into, members=members, filter="data")
        else:  # pragma: no cover (Python before 3.10.12/3.11.4)
            tar.extractall(into, members=members)
    return into / top


def run_suite(workdir: Path, extra_args: list[str] | None = None) -> dict[str, tuple[str, str]]:
    """Runs uvicorn's tests in a child pytest; returns {test id: (outcome, why it failed)}."""
    report = workdir / "report.xml"
    env = subprocess_env()
    env["PYTHONPATH"] = os.pathsep.join([str(ALIAS), env["PYTHONPATH"]])
    command = [sys.executable, "-m", "pytest", "tests", "--ignore=tests/benchmarks",
               "-p", "no:cacheprovider", "-o", "addopts=", "-q", "--no-header",
               "--continue-on-collection-errors",
               f"--timeout={PER_TEST_TIMEOUT}", f"--junitxml={report}",
               *(extra_args or [])]
    subprocess.run(command, cwd=workdir, env=env, stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=1200)
    outcomes: dict[str, tuple[str, str]] = {}
    for case in ET.parse(report).getroot().iter("testcase"):
        name = f"{case.get('classname')}::{case.get('name')}"
        children = {child.tag: child for child in case}
        problem = children.get("failure", children.get("error"))
        if "skipped" in children:
            outcomes[name] = ("skipped", "")
        elif problem is not None:
            # A teardown error after a pass still counts against the test.
            why = " ".join((problem.get("message") or "").split())[:200]
            outcomes[name] = ("failed", why)
        else:
            outcomes[name] = ("passed", "")
    return outcomes


def read_baseline() -> int:
    """The first number in baseline.txt (lines starting with # are comments)."""
    lines = [line for line in BASELINE.read_text().splitlines() if not line.startswith("#")]
    return int(" ".join(lines).split()[0])


def write_outcomes(outcomes: dict[str, tuple[str, str]]) -> Path:
    """build/compat/outcomes.txt: one line per test, "outcome id  (why it failed)"."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / "outcomes.txt"
    lines = [f"{o} {name}  {why}".rstrip() + "\n" for name, (o, why) in sorted(outcomes.items())]
    path.write_text("".join(lines))
    return path


@pytest.mark.timeout(1500)
def test_uvicorn_suite_pass_count(tmp_path: Path) -> None:
    if sys.version_info < (3, 10):
        pytest.skip("uvicorn 0.54's tests need Python 3.10+")
    missing = [name for name in NEEDED if importlib.util.find_spec(name) is None]
    if missing:
        pytest.skip(f"uvicorn's tests need {', '.join(missing)} (pip install '.[test]')")
    workdir = extract_tests(fetch_sdist(), tmp_path)
    outcomes = run_suite(workdir)
    counts = Counter(outcome for outcome, _ in outcomes.values())
    path = write_outcomes(outcomes)
    baseline = read_baseline()
    print(f"uvicorn {VERSION} tests against ruvicorn: {counts['passed']} passed, "
          f"{counts['failed']} failed, {counts['skipped']} skipped (baseline {baseline}); "
          f"outcomes in {path}")
    assert counts["passed"] >= baseline, (
        f"{counts['passed']} of uvicorn's tests pass, fewer than the {baseline} in "
        f"{BASELINE.name}; see {path}")


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        result = run_suite(extract_tests(fetch_sdist(), Path(tmp)), sys.argv[1:])
    print(Counter(outcome for outcome, _ in result.values()), "->", write_outcomes(result))
