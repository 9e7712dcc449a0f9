"""Model plugins: the registry (entry-point group ``gbench.models``, or ``file.py:Class``),
and the checks that give a broken plugin a one-line error naming its file and problem.

Shipped baselines register through the same entry-point group as any user's package.
"""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

from gbench.errors import GbenchError
from gbench.models.plugin import BACKENDS, Budget, GraphInfo, Metadata, Model, OverBudgetError
from gbench.models.space import Categorical, Float, Int, LogFloat, SpaceError, check_space, describe
from gbench.record import LABEL_INPUTS
from gbench.registry import Registry, is_file_target

__all__ = [
    "Budget",
    "Categorical",
    "Float",
    "GraphInfo",
    "Int",
    "LogFloat",
    "Metadata",
    "Model",
    "OverBudgetError",
    "PluginError",
    "get",
    "info",
    "names",
]

MODELS = Registry("model", group="gbench.models")


class PluginError(GbenchError):
    """A plugin that cannot be used; the message names the file (or target) and the problem."""


def names() -> list[str]:
    return MODELS.names()


def target(name: str) -> str:
    """Where ``name``'s plugin lives (``module:Class``, or ``/abs/path/file.py:Class``);
    imports nothing."""
    if name.endswith(".py") and name not in MODELS:
        raise PluginError(_needs_class(Path(name)))
    if name in MODELS or not is_file_target(name):
        return MODELS.target(name)
    path, _, cls = name.rpartition(":")
    if not Path(path).is_file():
        raise PluginError(f"{path}: no such file")
    return f"{Path(path).resolve()}:{cls}"  # what a child loads, whatever its folder


def loadable(name: str) -> str:
    """``name`` as a child loads it whatever its working folder: a registered name as it is,
    a plugin file by its absolute path."""
    return target(name) if is_file_target(name) else name


def _needs_class(path: Path) -> str:
    """The error for a plugin file named without its class: the classes it defines, read
    without running it."""
    import ast

    if not path.is_file():
        return f"{path}: no such file (a plugin file is named as path/to/file.py:Class)"
    try:
        tree = ast.parse(path.read_text(), str(path))
    except (SyntaxError, ValueError, UnicodeDecodeError) as err:
        return f"{path}: a plugin file is named with its class, and this one does not parse: {err}"
    classes = [n.name for n in tree.body if isinstance(n, ast.ClassDef)]
    plugins = [
        n.name
        for n in tree.body
        if isinstance(n, ast.ClassDef) and any(ast.unparse(b).endswith("Model") for b in n.bases)
    ]
    listed = plugins or classes
    found = f"classes in it: {', '.join(listed)}" if listed else "it defines no class"
    example = f"{path}:{listed[0]}" if listed else f"{path}:YourModel"
    return f"{path}: name the plugin's class too, as {example} ({found})"


def get(name: str) -> type[Model]:
    """The plugin class registered as ``name``, or loaded from ``path/to/file.py:Class``."""
    where = name.rpartition(":")[0] if is_file_target(name) else MODELS.target(name)
    try:
        obj = MODELS.get(name)
    except (FileNotFoundError, SyntaxError) as err:
        msg = str(err)
        raise PluginError(msg if msg.startswith(where) else f"{where}: {msg}") from None
    except GbenchError:
        raise
    except Exception as err:  # whatever the plugin module raised while importing
        at = "".join(f":{f.lineno}" for f in own_frames(err, name)[-1:])
        kind = "" if isinstance(err, ImportError) else f"import failed: {type(err).__name__}: "
        msg = str(err).removeprefix(f"{where}: ")
        raise PluginError(f"{where}{at}: {kind}{msg}") from None
    return check_plugin(obj, where)


def own_frames(err: BaseException, name: str) -> list[traceback.FrameSummary]:
    """The frames of ``err``'s traceback in plugin ``name``'s own files, outermost first:
    where an error is the author's to fix, rather than the library frame that raised it."""
    from gbench.sandbox.policy import plugin_paths

    try:
        roots = plugin_paths(target(name)) if name else []
    except GbenchError:
        return []
    own = []
    for frame in traceback.extract_tb(err.__traceback__) if err.__traceback__ else []:
        path = Path(frame.filename).resolve()
        if any(path == root or root in path.parents for root in roots):
            own.append(frame)
    return own


def check_plugin(obj: Any, where: str) -> type[Model]:
    label = getattr(obj, "__name__", repr(obj))
    if not (isinstance(obj, type) and issubclass(obj, Model)):
        raise PluginError(f"{where}: {label} is not a subclass of gbench.models.Model")
    meta = getattr(obj, "meta", None)
    if not isinstance(meta, Metadata):
        raise PluginError(f"{where}: {label} has no `meta = Metadata(...)`")
    for field in ("name", "version", "paper", "licence"):
        if not getattr(meta, field):
            raise PluginError(f"{where}: {label}.meta.{field} is empty")
    if obj.backend not in BACKENDS:
        raise PluginError(f"{where}: {label}.backend must be one of {', '.join(BACKENDS)}")
    if obj.label_inputs not in LABEL_INPUTS:
        raise PluginError(f"{where}: {label}.label_inputs must be one of {', '.join(LABEL_INPUTS)}")
    try:
        obj.entry_form()
    except TypeError as err:
        raise PluginError(f"{where}: {label} {err}; override exactly one") from None
    try:
        check_space(obj.space)
    except SpaceError as err:
        raise PluginError(f"{where}: {label}: bad search space: {err}") from None
    return obj


def portable(name: str) -> str:
    """``name`` as results and bundles keep it: a plugin file by its own name and class
    (``model.py:MyGNN``), never by where it lies on the machine that ran it."""
    if not is_file_target(name):
        return name
    path, _, cls = name.rpartition(":")
    return f"{Path(path).name}:{cls}"


def info(name: str) -> dict[str, Any]:
    """Metadata and search space of a plugin, JSON-friendly."""
    cls = get(name)
    m = cls.meta
    return {
        "name": m.name,
        "registered_as": portable(name),
        "version": m.version,
        "family": m.family,
        "backend": cls.backend,
        "entry": cls.entry_form(),
        "label_inputs": cls.takes_labels(),
        "authors": list(m.authors),
        "paper": m.paper,
        "code": m.code,
        "licence": m.licence,
        "citation": m.citation,
        "changes": m.changes,
        "space": {k: describe(p) for k, p in cls.space.items()},
    }
