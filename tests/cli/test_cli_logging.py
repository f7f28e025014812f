"""Logging: formats, --log-config in every format, and configs written for uvicorn's loggers."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from helpers import run_cli, start_server, wait_port
from ruvicorn.logging import (
    AccessFormatter,
    DefaultFormatter,
    configure_logging,
    mirror_logger_families,
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
        configure_logging(json.loads(json.dumps(UVICORN_STYLE_CONFIG)), None, True, None)
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
        mirror_logger_families({"ruvicorn.error", "uvicorn.error"})
        assert logging.getLogger("ruvicorn.error").level == logging.DEBUG
        assert logging.getLogger("uvicorn.error").level == logging.ERROR
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


# --- uvicorn's logger names, without uvicorn ----------------------------------------------------

SERVER_APPS = Path(__file__).resolve().parent.parent / "server"


@pytest.mark.parametrize("log_level", [None, "warning"])
def test_app_logging_through_uvicorn_names(log_level: str | None) -> None:
    """An app that logs through uvicorn.error gets the server's handler and level; uvicorn.access
    carries the access handler; uvicorn is not imported for it."""
    import httpx

    args = ["apps:uvicorn_logger_names", "--app-dir", str(SERVER_APPS)]
    if log_level:
        args += ["--log-level", log_level]
    server = start_server(args)  # --log-level warning hides the start-up line: wait for the port
    try:
        assert server.port is not None
        wait_port(server.host, server.port)
        body = httpx.get(server.url + "/", timeout=10).text
        assert server.wait_for_stderr("app warning through uvicorn.error", timeout=10)
    finally:
        server.stop()
    level = logging.WARNING if log_level else logging.INFO
    assert f"access_handlers=1 access_level={level} error_level={level}" in body
    assert "uvicorn_imported=False" in body
    stderr = server.stderr_text()
    assert "WARNING:  app warning through uvicorn.error" in stderr
    assert ("INFO:     app info through uvicorn.error" in stderr) is (log_level is None)


def test_no_access_log_also_silences_uvicorn_access() -> None:
    from ruvicorn.config import Config

    try:
        Config("os:getcwd", access_log=False)
        assert logging.getLogger("uvicorn.access").handlers == []
        Config("os:getcwd", log_level="debug")
        for name in ("uvicorn.error", "uvicorn.access", "uvicorn.asgi"):
            assert logging.getLogger(name).level == logging.DEBUG
        assert len(logging.getLogger("uvicorn.access").handlers) == 1
        assert logging.getLogger("uvicorn").handlers == logging.getLogger("ruvicorn").handlers
    finally:
        Config("os:getcwd")


def test_config_naming_only_uvicorn_root_sets_every_level() -> None:
    """dictConfig resets the children of a logger it sets up: naming only "uvicorn" gives
    uvicorn.error/.access/.asgi (and so ruvicorn's) that logger's level, as with uvicorn."""
    from ruvicorn.config import Config

    conf = {"version": 1, "disable_existing_loggers": False,
            "loggers": {"uvicorn": {"level": "ERROR"}}}
    try:
        Config("os:getcwd", log_config=conf)
        for family in ("uvicorn", "ruvicorn"):
            for suffix in (".error", ".access", ".asgi"):
                assert logging.getLogger(family + suffix).getEffectiveLevel() == logging.ERROR
    finally:
        Config("os:getcwd")


@pytest.mark.parametrize("kind", ["file object", "ConfigParser"])
def test_ini_objects_for_uvicorn_names(tmp_path: Path, kind: str) -> None:
    import configparser
    import io

    logfile = tmp_path / "out.log"
    text = _write_configs(tmp_path, logfile)["ini"].read_text()
    log_config: object = io.StringIO(text)
    if kind == "ConfigParser":
        log_config = configparser.ConfigParser()
        log_config.read_string(text)  # type: ignore[attr-defined]
    try:
        configure_logging(log_config, None, True, None)
        logging.getLogger("ruvicorn.error").info("through the ini file object")
        for handler in logging.getLogger("ruvicorn.error").handlers:
            handler.flush()
        assert "ruvicorn.error|INFO|through the ini file object" in logfile.read_text()
    finally:
        _reset("uvicorn.error", "ruvicorn.error")
        from ruvicorn.config import Config

        Config("os:getcwd")
