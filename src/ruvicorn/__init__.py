"""ruvicorn: an ASGI server with a C++ protocol core, a drop-in for uvicorn."""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
