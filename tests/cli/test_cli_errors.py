"""A wrong command line gives one clear line on stderr and exit status 1 (no traceback)."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import run_cli

APPS = str(Path(__file__).resolve().parent.parent / "server")


def _one_error_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


@pytest.mark.parametrize(("args", "expected"), [
    (["no_such_module_xyz:app"], 'Could not import module "no_such_module_xyz".'),
    (["os:no_such_attr"], 'Attribute "no_such_attr" not found in module "os".'),
    (["os.path:join.nope"], 'Attribute "join.nope" not found in module "os.path".'),
    (["nocolon"], 'Import string "nocolon" must be in format "<module>:<attribute>".'),
])
def test_unimportable_app(args: list[str], expected: str) -> None:
    result = run_cli(args)
    assert result.returncode == 1
    line = _one_error_line(result.stderr)
    assert line.startswith("ERROR:") and expected in line


@pytest.mark.parametrize(("args", "expected"), [
    (["--port", "abc", "x:y"], "'--port'"),
    (["--lifespan", "sometimes", "x:y"], "'--lifespan'"),
    (["--log-level", "loud", "x:y"], "'--log-level'"),
    (["--no-such-option", "x:y"], "--no-such-option"),
    (["--header", "NoColon", "x:y"], "'--header'"),
    (["--env-file", "/no/such/file.env", "x:y"], "'--env-file'"),
    ([], "Missing argument 'APP'"),
])
def test_bad_option(args: list[str], expected: str) -> None:
    result = run_cli(args)
    assert result.returncode == 1
    line = _one_error_line(result.stderr)
    assert line.startswith("Error:") and expected in line


def test_unknown_http_implementation() -> None:
    result = run_cli(["--http", "h3", "--app-dir", APPS, "apps:hello"])
    assert result.returncode == 1
    assert "Unknown --http implementation 'h3'" in _one_error_line(result.stderr)


def test_factory_flag_on_a_non_factory() -> None:
    result = run_cli(["--factory", "--app-dir", APPS, "apps:hello"])
    assert result.returncode == 1
    assert "Error loading ASGI app factory" in result.stderr


def test_error_inside_the_app_module_is_shown() -> None:
    # A missing dependency of the app is reported as itself, not as "could not import module".
    result = run_cli(["--app-dir", str(Path(__file__).parent), "broken_app:app"])
    assert result.returncode != 0
    assert "no_such_dependency_abc" in result.stderr
