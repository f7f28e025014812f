"""Turn "package.module:attr.sub" into the object it names."""

from __future__ import annotations

import importlib
from typing import Any


class ImportFromStringError(Exception):
    """The import string is malformed, its module is missing, or an attribute is missing."""


class AppModuleNotFoundError(ImportFromStringError, ModuleNotFoundError):
    """The module the import string names cannot be found (an ImportError too)."""


def import_from_string(import_str: Any) -> Any:
    """Return ``import_str`` unchanged unless it is a string; otherwise import what it names.

    A ModuleNotFoundError raised *inside* the target module (a missing dependency) propagates
    unchanged, so the user sees the real cause rather than "could not import module".
    """
    if not isinstance(import_str, str):
        return import_str
    module_name, _, attrs = import_str.partition(":")
    if not module_name or not attrs:
        raise ImportFromStringError(
            f'Import string "{import_str}" must be in format "<module>:<attribute>".'
        )
    try:
        obj: Any = importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name and not module_name.startswith(f"{exc.name}."):
            raise
        raise AppModuleNotFoundError(f'Could not import module "{module_name}".',
                                     name=module_name) from None
    for attr in attrs.split("."):
        try:
            obj = getattr(obj, attr)
        except AttributeError:
            raise ImportFromStringError(
                f'Attribute "{attrs}" not found in module "{module_name}".'
            ) from None
    return obj
