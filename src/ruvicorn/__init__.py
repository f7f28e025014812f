"""ruvicorn: an ASGI server with a C++ protocol core, a drop-in for uvicorn."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["Config", "Server", "__version__", "main", "run"]


def __getattr__(name: str) -> Any:
    # Lazy, so that `import ruvicorn` stays cheap and spawned workers import only what they use.
    if name == "Config":
        from ruvicorn.config import Config

        return Config
    if name == "Server":
        from ruvicorn.server import Server

        return Server
    if name in ("run", "main"):
        from ruvicorn import cli

        return getattr(cli, name)
    raise AttributeError(f"module 'ruvicorn' has no attribute {name!r}")
