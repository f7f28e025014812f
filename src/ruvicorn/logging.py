"""Log formatters, the default logging configuration and the access-log entry point.

The module is named ``logging`` on purpose: a log config written for uvicorn names
``uvicorn.logging.DefaultFormatter``; the same config works here with ``ruvicorn.logging``.
Inside the package we always ``import logging`` absolutely, so nothing is shadowed.
"""

from __future__ import annotations

import http
import logging
import re
import sys
from copy import copy
from typing import Any, Literal

TRACE_LOG_LEVEL = 5

LOG_LEVELS: dict[str, int] = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": TRACE_LOG_LEVEL,
}

# Logger names; the uvicorn spellings are mirrored onto these (see alias_uvicorn_loggers).
LOGGER_SUFFIXES = ("", ".error", ".access", ".asgi")

LOGGING_CONFIG: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "default": {
            "()": "ruvicorn.logging.DefaultFormatter",
            "fmt": "%(levelprefix)s %(message)s",
            "use_colors": None,
        },
        "access": {
            "()": "ruvicorn.logging.AccessFormatter",
            "fmt": '%(levelprefix)s %(client_addr)s - "%(request_line)s" %(status_code)s',
        },
    },
    "handlers": {
        "default": {
            "formatter": "default",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stderr",
        },
        "access": {
            "formatter": "access",
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
        },
    },
    "loggers": {
        "ruvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
        "ruvicorn.error": {"level": "INFO"},
        "ruvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
    },
}

_ANSI_FG = {
    "red": 31, "green": 32, "yellow": 33, "blue": 34, "cyan": 36,
    "bright_red": 91, "bright_white": 97,
}


def style(text: str, fg: str | None = None, bold: bool = False) -> str:
    """Wrap ``text`` in ANSI codes (foreground colour and/or bold)."""
    codes = []
    if fg is not None:
        codes.append(str(_ANSI_FG[fg]))
    if bold:
        codes.append("1")
    if not codes:
        return text
    return f"\x1b[{';'.join(codes)}m{text}\x1b[0m"


_LEVEL_COLOURS: dict[int, str] = {
    TRACE_LOG_LEVEL: "blue",
    logging.DEBUG: "cyan",
    logging.INFO: "green",
    logging.WARNING: "yellow",
    logging.ERROR: "red",
    logging.CRITICAL: "bright_red",
}


class ColourizedFormatter(logging.Formatter):
    """Adds ``%(levelprefix)s`` ("INFO:     ") and, on a terminal, colours.

    A record may carry ``extra={"color_message": ...}``: a variant of its message with
    ANSI styling, used only when colours are on.
    """

    def __init__(
        self,
        fmt: str | None = None,
        datefmt: str | None = None,
        style: Literal["%", "{", "$"] = "%",
        use_colors: bool | None = None,
    ) -> None:
        self.use_colors = use_colors if use_colors in (True, False) else self.should_use_colors()
        super().__init__(fmt=fmt, datefmt=datefmt, style=style)

    def should_use_colors(self) -> bool:
        return sys.stdout.isatty()

    def color_level_name(self, level_name: str, level_no: int) -> str:
        colour = _LEVEL_COLOURS.get(level_no)
        return style(level_name, fg=colour) if colour else level_name

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (stdlib name)
        record = copy(record)
        levelname = record.levelname
        pad = " " * max(0, 8 - len(levelname))
        if self.use_colors:
            levelname = self.color_level_name(levelname, record.levelno)
            color_message = record.__dict__.get("color_message")
            if color_message is not None:
                record.msg = color_message
                record.message = record.getMessage()
        record.levelprefix = f"{levelname}:{pad}"
        return super().formatMessage(record)


class DefaultFormatter(ColourizedFormatter):
    def should_use_colors(self) -> bool:
        return sys.stderr.isatty()


_STATUS_COLOURS = {1: "bright_white", 2: "green", 3: "yellow", 4: "red", 5: "bright_red"}


class AccessFormatter(ColourizedFormatter):
    """Formats records whose args are (client_addr, method, full_path, http_version, status)."""

    def get_status_code(self, status_code: int) -> str:
        try:
            phrase = http.HTTPStatus(status_code).phrase
        except ValueError:
            phrase = ""
        text = f"{status_code} {phrase}"
        if self.use_colors:
            colour = _STATUS_COLOURS.get(status_code // 100)
            return style(text, fg=colour) if colour else text
        return text

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 (stdlib name)
        record = copy(record)
        client_addr, method, full_path, http_version, status_code = record.args  # type: ignore[misc]
        request_line = f"{method} {full_path} HTTP/{http_version}"
        if self.use_colors:
            request_line = style(request_line, bold=True)
        record.client_addr = client_addr
        record.request_line = request_line
        record.status_code = self.get_status_code(int(status_code))  # type: ignore[arg-type]
        return super().formatMessage(record)


# --- configuration -----------------------------------------------------------------------------

# "uvicorn.logging.X" in a user's config means our formatter X; keep "ruvicorn.logging." intact.
_UVICORN_CLASS_PATH = re.compile(r"(?<![\w.])uvicorn\.logging\.")


def rename_uvicorn_paths(text: str) -> str:
    return _UVICORN_CLASS_PATH.sub("ruvicorn.logging.", text)


def _rename_in_dict(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _rename_in_dict(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_rename_in_dict(v) for v in value]
    if isinstance(value, str):
        return rename_uvicorn_paths(value)
    return value


def alias_uvicorn_loggers() -> None:
    """Give each ``ruvicorn*`` logger the set-up of its ``uvicorn*`` twin when the user's config
    configured only the uvicorn name (handlers, level, propagate), so such configs keep working."""
    known = logging.Logger.manager.loggerDict
    for suffix in LOGGER_SUFFIXES:
        source_name = "uvicorn" + suffix
        source = known.get(source_name)
        if not isinstance(source, logging.Logger):
            continue
        if not source.handlers and source.level == logging.NOTSET:
            continue
        target = logging.getLogger("ruvicorn" + suffix)
        if target.handlers or target.level != logging.NOTSET:
            continue  # configured explicitly: the ruvicorn name wins
        for handler in source.handlers:
            target.addHandler(handler)
        target.setLevel(source.level)
        target.propagate = source.propagate


def apply_log_config(log_config: Any, use_colors: bool | None) -> None:
    """Apply a dict, a .json/.yaml/.yml path, or an INI path / parser / file object."""
    import logging.config
    import os

    if isinstance(log_config, os.PathLike):
        log_config = os.fspath(log_config)
    if isinstance(log_config, dict):
        conf = _rename_in_dict(log_config)
        if use_colors in (True, False):
            for name in ("default", "access"):
                formatter = conf.get("formatters", {}).get(name)
                if isinstance(formatter, dict):
                    formatter["use_colors"] = use_colors
        logging.config.dictConfig(conf)
    elif isinstance(log_config, str) and log_config.endswith(".json"):
        import json

        with open(log_config) as f:
            logging.config.dictConfig(json.loads(rename_uvicorn_paths(f.read())))
    elif isinstance(log_config, str) and log_config.endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError as exc:
            raise ImportError(
                "Install PyYAML (or ruvicorn[standard]) to use --log-config with YAML files."
            ) from exc
        with open(log_config) as f:
            logging.config.dictConfig(yaml.safe_load(rename_uvicorn_paths(f.read())))
    elif isinstance(log_config, str):
        import io

        with open(log_config) as f:
            text = rename_uvicorn_paths(f.read())
        logging.config.fileConfig(io.StringIO(text), disable_existing_loggers=False)
    else:
        # A RawConfigParser or an open file: fileConfig reads it as given.
        logging.config.fileConfig(log_config, disable_existing_loggers=False)
    alias_uvicorn_loggers()


def configure_logging(log_config: Any, log_level: Any, access_log: bool,
                      use_colors: bool | None) -> None:
    logging.addLevelName(TRACE_LOG_LEVEL, "TRACE")
    if log_config is not None:
        apply_log_config(log_config, use_colors)
    if log_level is not None:
        level = LOG_LEVELS[log_level.lower()] if isinstance(log_level, str) else int(log_level)
        for suffix in (".error", ".access", ".asgi"):
            logging.getLogger("ruvicorn" + suffix).setLevel(level)
    if access_log is False:
        logging.getLogger("ruvicorn.access").handlers = []
        logging.getLogger("ruvicorn.access").propagate = False

