"""An app whose every request leaves a reference cycle behind (only the cyclic GC can free it),
and reports how many are still alive and what the server froze at start-up."""

from __future__ import annotations

import gc
import json
import weakref
from typing import Any

STARTUP_OBJECT = [["made at import"]]  # tracked by the GC, alive since start-up: frozen
_alive: weakref.WeakSet = weakref.WeakSet()


class Node:
    def __init__(self) -> None:
        self.me = self  # a cycle: refcounting alone never frees it


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] != "http":
        return
    if scope["path"] == "/stats":
        body = json.dumps({"alive": len(_alive), "frozen": gc.get_freeze_count(),
                           "startup_object_frozen": gc.is_tracked(STARTUP_OBJECT)
                           and _is_frozen(STARTUP_OBJECT),
                           "gc_enabled": gc.isenabled()}).encode()
    else:
        _alive.add(Node())
        body = b"ok"
    await send({"type": "http.response.start", "status": 200,
                "headers": [(b"content-type", b"application/json")]})
    await send({"type": "http.response.body", "body": body})


def _is_frozen(obj: object) -> bool:
    """Frozen objects are in no generation gc.get_objects(gen) lists."""
    return not any(obj is other for gen in range(3) for other in gc.get_objects(gen))
