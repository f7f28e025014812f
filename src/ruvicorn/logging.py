"""Log formatters, the default logging configuration and the access-log entry point.

The module is named ``logging`` on purpose: a log config written for uvicorn names
``uvicorn.logging.DefaultFormatter``; the same config works here with ``ruvicorn.logging``.
Inside the package we always ``import logging`` absolutely, so nothing is shadowed.
"""

from __future__ import annotations

import configparser
import http
import io
import logging
import logging.config
import os
import re
import sys
from copy import copy
from typing import Any, Collection, Literal

TRACE_LOG_LEVEL = 5

LOG_LEVELS: dict[str, int] = {
    "critical": logging.CRITICAL,
    "error": logging.ERROR,
    "warning": logging.WARNING,
    "info": logging.INFO,
    "debug": logging.DEBUG,
    "trace": TRACE_LOG_LEVEL,
}

# Logger names under each family; see mirror_logger_families.
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

# The two logger families: ours, and uvicorn's names that apps and log configs still use.
FAMILIES = ("ruvicorn", "uvicorn")


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


def _touched(named: Collection[str], family: str, suffix: str) -> bool:
    """Whether a config naming ``named`` set up ``family + suffix``: named itself, or through its
    family's root logger (dictConfig and fileConfig reset the children of a logger they set up)."""
    return family + suffix in named or (suffix != "" and family in named)


def _copy_logger(source: logging.Logger, target: logging.Logger) -> None:
    target.handlers = list(source.handlers)
    target.setLevel(source.level)
    target.propagate = source.propagate
    target.disabled = source.disabled


def mirror_logger_families(named: Collection[str]) -> None:
    """After a log config that named the loggers ``named``: each ``ruvicorn*`` logger and its
    ``uvicorn*`` twin get the same handlers, level and propagation, copied from the one the config
    set up. So a config written for uvicorn's names drives ruvicorn's log, and an app that logs
    through ``uvicorn.error`` (or reads ``uvicorn.access``) gets the server's handlers and levels.
    A twin the config names explicitly is left as configured."""
    for suffix in LOGGER_SUFFIXES:
        ours, theirs = (_touched(named, family, suffix) for family in FAMILIES)
        if ours == theirs:
            continue  # both configured, or neither: nothing to carry over
        source, target = FAMILIES if ours else FAMILIES[::-1]
        _copy_logger(logging.getLogger(source + suffix), logging.getLogger(target + suffix))


def _ini_logger_names(parser: Any) -> set[str]:
    keys = parser.get("loggers", "keys", fallback="")
    names = set()
    for key in (k.strip() for k in keys.split(",")):
        if key and key != "root":
            names.add(parser.get(f"logger_{key}", "qualname", fallback=key))
    return names


def apply_log_config(log_config: Any, use_colors: bool | None) -> set[str]:
    """Apply a dict, a .json/.yaml/.yml path, or an INI path / parser / file object; return the
    names of the loggers it configures."""
    if isinstance(log_config, os.PathLike):
        log_config = os.fspath(log_config)
    if isinstance(log_config, str) and log_config.endswith(".json"):
        import json

        with open(log_config) as f:
            log_config = json.loads(f.read())
    elif isinstance(log_config, str) and log_config.endswith((".yaml", ".yml")):
        try:
            import yaml
        except ImportError as exc:
            raise ImportError(
                "Install the PyYAML package or ruvicorn[standard] to use `--log-config` with "
                "YAML files."
            ) from exc
        with open(log_config) as f:
            log_config = yaml.safe_load(f.read())

    if isinstance(log_config, dict):
        conf = _rename_in_dict(log_config)
        if use_colors in (True, False):
            for name in ("default", "access"):
                formatter = conf.get("formatters", {}).get(name)
                if isinstance(formatter, dict):
                    formatter["use_colors"] = use_colors
        logging.config.dictConfig(conf)
        return set(conf.get("loggers", {}))

    if isinstance(log_config, str) or hasattr(log_config, "readline"):
        if isinstance(log_config, str):
            with open(log_config) as f:
                text = f.read()
        else:
            text = log_config.read()
        log_config = configparser.ConfigParser()
        log_config.read_file(io.StringIO(rename_uvicorn_paths(text)))
    # A RawConfigParser (ours, or the caller's): fileConfig reads it as given.
    logging.config.fileConfig(log_config, disable_existing_loggers=False)
    return _ini_logger_names(log_config)


def configure_logging(log_config: Any, log_level: Any, access_log: bool,
                      use_colors: bool | None) -> None:
    logging.addLevelName(TRACE_LOG_LEVEL, "TRACE")
    if log_config is not None:
        mirror_logger_families(apply_log_config(log_config, use_colors))
    for family in FAMILIES:
        if log_level is not None:
            level = LOG_LEVELS[log_level.lower()] if isinstance(log_level, str) else int(log_level)
            for suffix in (".error", ".access", ".asgi"):
                logging.getLogger(family + suffix).setLevel(level)
        if access_log is False:
            logging.getLogger(family + ".access").handlers = []
            logging.getLogger(family + ".access").propagate = False
