"""``import uvicorn`` resolving to ruvicorn: what a user gets by changing one word.

Used only by tests/compat/test_uvicorn_suite.py, which puts this folder first on ``sys.path`` and
runs uvicorn's own test files (fetched at test time) against ruvicorn. No uvicorn code is here:
each ``uvicorn.X`` name is either ruvicorn's module of the same purpose (the same module object,
so ``mock.patch("uvicorn.config.X")`` patches ruvicorn), ruvicorn's object under uvicorn's name
(its protocol classes are ``ruvicorn.protocols.HttpProtocol``) or a small stand-in for a name
ruvicorn has no counterpart for (its type aliases). What this alias cannot express is listed in
tests/compat/README.md.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
import types
from typing import Any, Callable

import ruvicorn
import ruvicorn.config
from ruvicorn import Config, Server, main, run

__version__ = ruvicorn.__version__
__all__ = ["Config", "Server", "__version__", "main", "run"]

# uvicorn module -> the ruvicorn module that does its job.
MODULES = {
    "uvicorn.__main__": "ruvicorn.__main__",
    "uvicorn.config": "ruvicorn.config",
    "uvicorn.importer": "ruvicorn.importer",
    "uvicorn.logging": "ruvicorn.logging",
    "uvicorn.main": "ruvicorn.cli",
    "uvicorn.server": "ruvicorn.server",
    "uvicorn.lifespan.on": "ruvicorn.lifespan",
    "uvicorn.lifespan.off": "ruvicorn.lifespan",
    "uvicorn.middleware.asgi2": "ruvicorn.middleware.asgi2",
    "uvicorn.middleware.message_logger": "ruvicorn.middleware.message_logger",
    "uvicorn.middleware.proxy_headers": "ruvicorn.middleware.proxy_headers",
    "uvicorn.middleware.wsgi": "ruvicorn.middleware.wsgi",
    "uvicorn.supervisors.multiprocess": "ruvicorn.supervisors.multiprocess",
    "uvicorn.workers": "ruvicorn.workers",
}


def _protocol(name: str) -> type:
    """One of uvicorn's protocol classes: ruvicorn's HttpProtocol (same constructor) under
    uvicorn's name; passed as ``Config(http=...)`` or ``Config(ws=...)`` it selects ruvicorn's
    C++ protocol."""
    from ruvicorn.protocols import HttpProtocol

    return type(name, (HttpProtocol,), {"__module__": "ruvicorn.protocols"})


def _types_module(module: types.ModuleType) -> None:
    # uvicorn._types: typing aliases only; tests use them in annotations.
    module.__getattr__ = lambda name: Any  # type: ignore[method-assign]


def _worker_module(module: types.ModuleType) -> None:
    from ruvicorn.workers import RuvicornWorker

    module.UvicornWorker = RuvicornWorker  # type: ignore[attr-defined]


def _supervisors_module(module: types.ModuleType) -> None:
    from ruvicorn.supervisors import ChangeReload, Multiprocess

    module.ChangeReload = ChangeReload  # type: ignore[attr-defined]
    module.Multiprocess = Multiprocess  # type: ignore[attr-defined]


def _attrs(**names: Callable[[], Any]) -> Callable[[types.ModuleType], None]:
    def fill(module: types.ModuleType) -> None:
        for key, make in names.items():
            setattr(module, key, make())

    return fill


# Names ruvicorn has no module for: filled here, with ruvicorn's objects or small stand-ins.
STAND_INS: dict[str, Callable[[types.ModuleType], None]] = {
    "uvicorn._types": _types_module,
    "uvicorn.supervisors": _supervisors_module,
    "uvicorn.protocols.http.h11_impl": _attrs(H11Protocol=lambda: _protocol("H11Protocol")),
    "uvicorn.protocols.http.httptools_impl": _attrs(
        HttpToolsProtocol=lambda: _protocol("HttpToolsProtocol")),
    "uvicorn.protocols.http.auto": _attrs(AutoHTTPProtocol=lambda: _protocol("AutoHTTPProtocol")),
    "uvicorn.protocols.websockets.wsproto_impl": _attrs(WSProtocol=lambda: _protocol("WSProtocol")),
    "uvicorn.protocols.websockets.websockets_sansio_impl": _attrs(
        WebSocketsSansIOProtocol=lambda: _protocol("WebSocketsSansIOProtocol")),
    "uvicorn.protocols.websockets.auto": _attrs(
        AutoWebSocketsProtocol=lambda: _protocol("AutoWebSocketsProtocol")),
}

def _ruvicorn(path: str) -> Callable[[], Any]:
    """A lazy reference to ruvicorn's object at "module:attribute"."""
    module, _, attr = path.partition(":")
    return lambda: getattr(importlib.import_module(module), attr)


class UvicornDeprecationWarning(DeprecationWarning):
    pass


# Names that uvicorn's modules have and ruvicorn's do not (private, or uvicorn's tables): set on
# the module if missing, so one such import does not keep a whole test file from being collected.
EXTRAS: dict[str, dict[str, Callable[[], Any]]] = {
    "uvicorn.config": {
        "LoopFactoryType": lambda: Any,
        "UvicornDeprecationWarning": lambda: UvicornDeprecationWarning,
        "HTTP_PROTOCOLS": lambda: dict.fromkeys(("auto", "h11", "httptools"), "auto"),
        "WS_PROTOCOLS": lambda: {"auto": "auto", "none": None, "websockets": "auto",
                                 "websockets-sansio": "auto", "wsproto": "auto"},
        "LIFESPAN": lambda: {"auto": "auto", "on": "on", "off": "off"},
    },
    "uvicorn.protocols.http.flow_control": {
        "HIGH_WATER_LIMIT": lambda: ruvicorn.config.LIMIT_DEFAULTS["high_water"],
    },
    "uvicorn.middleware.proxy_headers": {
        "_TrustedHosts": _ruvicorn("ruvicorn.middleware.proxy_headers:TrustedHosts"),
    },
    "uvicorn.middleware.wsgi": {
        "_WSGIMiddleware": _ruvicorn("ruvicorn.middleware.wsgi:WSGIMiddleware"),
    },
    "uvicorn.supervisors.multiprocess": {
        "Process": _ruvicorn("ruvicorn.supervisors.process:WorkerProcess"),
    },
    "uvicorn.supervisors.basereload": {
        "BaseReload": _ruvicorn("ruvicorn.supervisors.reload:ChangeReload"),
        "_display_path": _ruvicorn("ruvicorn.supervisors.reload:_display"),
    },
    "uvicorn.supervisors.statreload": {
        "StatReload": _ruvicorn("ruvicorn.supervisors.reload:ChangeReload"),
    },
    "uvicorn.supervisors.watchfilesreload": {
        "FileFilter": _ruvicorn("ruvicorn.supervisors.reload:FileFilter"),
        "WatchFilesReload": _ruvicorn("ruvicorn.supervisors.reload:ChangeReload"),
    },
}
PACKAGES = {"uvicorn.lifespan", "uvicorn.supervisors", "uvicorn.middleware", "uvicorn.protocols",
            "uvicorn.protocols.http", "uvicorn.protocols.websockets"}


class _AliasLoader(importlib.abc.Loader):
    def __init__(self, fullname: str) -> None:
        self.fullname = fullname
        self.target: types.ModuleType | None = None
        self.target_spec: importlib.machinery.ModuleSpec | None = None

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType | None:
        target = MODULES.get(self.fullname)
        if target is None:
            return None  # a fresh module, filled by exec_module
        self.target = importlib.import_module(target)
        self.target_spec = self.target.__spec__
        return self.target

    def exec_module(self, module: types.ModuleType) -> None:
        if self.target is not None:
            # The import system set __spec__ to ours; ruvicorn's module keeps its own.
            module.__spec__ = self.target_spec
        if self.fullname in PACKAGES:
            module.__path__ = []
        if self.fullname in STAND_INS:
            STAND_INS[self.fullname](module)
        for name, make in EXTRAS.get(self.fullname, {}).items():
            if not hasattr(module, name):
                setattr(module, name, make())


class _AliasFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> Any:
        if fullname in MODULES or fullname in STAND_INS or fullname in PACKAGES or \
                fullname in EXTRAS:
            return importlib.machinery.ModuleSpec(fullname, _AliasLoader(fullname),
                                                  is_package=fullname in PACKAGES)
        return None


def _alias_logger_config() -> None:
    # A user who changed one word has LOGGING_CONFIG["loggers"]["ruvicorn"] where uvicorn's
    # tests write ["uvicorn"]: the same entry under both names.
    loggers = ruvicorn.config.LOGGING_CONFIG["loggers"]
    for name in list(loggers):
        if name.startswith("ruvicorn"):
            loggers[name[1:]] = loggers[name]


sys.meta_path.insert(0, _AliasFinder())
_alias_logger_config()
