"""Process supervisors: ``Multiprocess`` (--workers N) and ``ChangeReload`` (--reload)."""

from __future__ import annotations

from ruvicorn.supervisors.multiprocess import Multiprocess
from ruvicorn.supervisors.reload import ChangeReload

__all__ = ["ChangeReload", "Multiprocess"]
