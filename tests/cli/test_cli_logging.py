"""Logging: formats, --log-config in every format, and configs written for uvicorn's loggers."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from helpers import run_cli
from ruvicorn.logging import (
    AccessFormatter,
    DefaultFormatter,
    alias_uvicorn_loggers,
    apply_log_config,
)


def _record(msg: str, args: tuple, level: int = logging.INFO) -> logging.LogRecord:
    return logging.LogRecord("ruvicorn.error", level, __file__, 1, msg, args, None)


def test_default_format() -> None:
    formatter = DefaultFormatter("%(levelprefix)s %(message)s", use_colors=False)
    assert formatter.format(_record("hello %s", ("x",))) == "INFO:     hello x"
    assert formatter.format(_record("w", (), logging.WARNING)) == "WARNING:  w"


def test_trace_level_name() -> None:
    from ruvicorn.config import Config

    Config("os:getcwd", log_level="trace")
    assert logging.getLevelName(5) == "TRACE"
    assert logging.getLogger("ruvicorn.error").level == 5


def test_access_format() -> None:
    formatter = AccessFormatter(
        '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s', use_colors=False)
    record = _record('%s - "%s %s HTTP/%s" %d', ("127.0.0.1:5000", "GET", "/a?b=1", "1.1", 404))
    assert formatter.format(record) == \
        'INFO:     127.0.0.1:5000 - "GET /a?b=1 HTTP/1.1" 404 Not Found'


def test_colours_on_request() -> None:
    formatter = DefaultFormatter("%(levelprefix)s %(message)s", use_colors=True)
    assert "\x1b[32mINFO\x1b[0m" in formatter.format(_record("x", ()))


UVICORN_STYLE_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"()": "uvicorn.logging.DefaultFormatter",
                             "fmt": "UV %(levelprefix)s %(message)s", "use_colors": False}},
    "handlers": {"mem": {"class": "logging.StreamHandler", "formatter": "plain",
                         "stream": "ext://sys.stdout"}},
    "loggers": {"uvicorn.error": {"handlers": ["mem"], "level": "WARNING",
                                  "propagate": False}},
}


def _reset(*names: str) -> None:
    for name in names:
        logger = logging.getLogger(name)
        logger.handlers = []
        logger.setLevel(logging.NOTSET)
        logger.propagate = True


def test_uvicorn_logger_config_is_mirrored() -> None:
    _reset("uvicorn.error", "ruvicorn.error")
    try:
        apply_log_config(json.loads(json.dumps(UVICORN_STYLE_CONFIG)), use_colors=None)
        target = logging.getLogger("ruvicorn.error")
        assert target.level == logging.WARNING
        assert target.handlers == logging.getLogger("uvicorn.error").handlers
        # uvicorn.logging.DefaultFormatter was resolved to ours (uvicorn need not be installed).
        assert isinstance(target.handlers[0].formatter, DefaultFormatter)
    finally:
        _reset("uvicorn.error", "ruvicorn.error")


def test_explicit_ruvicorn_config_wins() -> None:
    _reset("uvicorn.error", "ruvicorn.error")
    try:
        logging.getLogger("ruvicorn.error").setLevel(logging.DEBUG)
        logging.getLogger("uvicorn.error").setLevel(logging.ERROR)
        alias_uvicorn_loggers()
        assert logging.getLogger("ruvicorn.error").level == logging.DEBUG
    finally:
        _reset("uvicorn.error", "ruvicorn.error")


def _write_configs(tmp_path: Path, logfile: Path) -> dict[str, Path]:
    handler = {"class": "logging.FileHandler", "filename": str(logfile), "formatter": "f"}
    conf = {
        "version": 1, "disable_existing_loggers": False,
        "formatters": {"f": {"format": "%(name)s|%(levelname)s|%(message)s"}},
        "handlers": {"file": handler},
        "loggers": {"uvicorn.error": {"handlers": ["file"], "level": "INFO"}},
    }
    json_path = tmp_path / "log.json"
    json_path.write_text(json.dumps(conf))
    yaml_path = tmp_path / "log.yaml"
    yaml_path.write_text(
        "version: 1\ndisable_existing_loggers: false\n"
        "formatters:\n  f:\n    format: '%(name)s|%(levelname)s|%(message)s'\n"
        f"handlers:\n  file:\n    class: logging.FileHandler\n    filename: '{logfile}'\n"
        "    formatter: f\n"
        "loggers:\n  uvicorn.error:\n    handlers: [file]\n    level: INFO\n")
    ini_path = tmp_path / "log.ini"
    ini_path.write_text(
        "[loggers]\nkeys=root,uv\n\n[handlers]\nkeys=file\n\n[formatters]\nkeys=f\n\n"
        "[logger_root]\nlevel=WARNING\nhandlers=\n\n"
        "[logger_uv]\nlevel=INFO\nhandlers=file\nqualname=uvicorn.error\npropagate=0\n\n"
        f"[handler_file]\nclass=FileHandler\nformatter=f\nargs=('{logfile}',)\n\n"
        "[formatter_f]\nformat=%(name)s|%(levelname)s|%(message)s\n")
    return {"json": json_path, "yaml": yaml_path, "ini": ini_path}


@pytest.mark.parametrize("kind", ["json", "yaml", "ini"])
def test_log_config_file_for_uvicorn_loggers(tmp_path: Path, kind: str) -> None:
    """A config file that only names uvicorn.error still receives ruvicorn's error log."""
    logfile = tmp_path / "out.log"
    path = _write_configs(tmp_path, logfile)[kind]
    result = run_cli(["--log-config", str(path), "no_such_module_xyz:app"])
    assert result.returncode == 1
    assert 'ruvicorn.error|ERROR|Error loading ASGI app. Could not import module' \
        in logfile.read_text()
