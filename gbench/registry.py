"""A registry of named objects that load lazily from ``module:object`` strings.

Listing a registry imports nothing heavy: entries are strings until ``get`` is called.
Entries come from explicit registration, from an entry-point group (so ``pip install``
is all a third party does), or from a file path ``path/to/file.py:Object``.
"""

from __future__ import annotations

import difflib
import importlib
import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from gbench.errors import GbenchError


class UnknownNameError(GbenchError, KeyError):
    """An unknown registry name; the message lists what exists (a one-line GbenchError, and a
    KeyError for lookups)."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0])


class Registry:
    """Maps names to lazily imported objects."""

    def __init__(self, kind: str, group: str | None = None) -> None:
        self.kind = kind
        self.group = group
        self._targets: dict[str, str] = {}
        self._loaded: dict[str, Any] = {}
        self._entry_points_read = False

    def register(self, name: str, target: str | Any) -> None:
        """Register ``target`` (an object or a ``module:object`` string) under ``name``."""
        if isinstance(target, str):
            self._targets[name] = target
            self._loaded.pop(name, None)
        else:
            self._targets[name] = f"{target.__module__}:{target.__qualname__}"
            self._loaded[name] = target

    def _read_entry_points(self) -> None:
        if self._entry_points_read or self.group is None:
            return
        self._entry_points_read = True
        for ep in entry_points(group=self.group):
            self._targets.setdefault(ep.name, ep.value)

    def names(self) -> list[str]:
        self._read_entry_points()
        return sorted(self._targets)

    def __contains__(self, name: object) -> bool:
        self._read_entry_points()
        return name in self._targets

    def target(self, name: str) -> str:
        """The ``module:object`` string of ``name`` without importing it."""
        self._read_entry_points()
        if name not in self._targets:
            raise self.unknown(name)
        return self._targets[name]

    def get(self, name: str) -> Any:
        """Import and return the object registered as ``name`` (or a ``file.py:Object``)."""
        if name in self._loaded:
            return self._loaded[name]
        if name not in self and is_file_target(name):
            obj = load_target(name)
        else:
            obj = load_target(self.target(name))
        self._loaded[name] = obj
        return obj

    def unknown(self, name: str) -> UnknownNameError:
        names = self.names()
        close = difflib.get_close_matches(name, names, n=3)
        hint = f" Did you mean {', '.join(close)}?" if close else ""
        return UnknownNameError(
            f"unknown {self.kind} {name!r}.{hint} Known: {', '.join(names) or '(none)'}"
        )


def is_file_target(target: str) -> bool:
    path, _, obj = target.rpartition(":")
    return bool(obj) and path.endswith(".py")


def load_target(target: str) -> Any:
    """Import ``module:object`` or ``path/to/file.py:object``; errors name the target."""
    where, sep, attr = target.rpartition(":")
    if not sep or not where or not attr:
        raise ValueError(f"{target!r} is not of the form 'module:object' or 'file.py:object'")
    module = _import_file(Path(where)) if where.endswith(".py") else importlib.import_module(where)
    obj: Any = module
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise ImportError(f"{where} has no attribute {attr!r}") from None
    return obj


def _import_file(path: Path) -> Any:
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such file")
    name = f"gbench_plugin_{abs(hash(path.resolve()))}"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        del sys.modules[name]
        raise SyntaxError(f"{path}:{err.lineno}: syntax error: {err.msg}") from None
    except BaseException:
        del sys.modules[name]
        raise
    return module
