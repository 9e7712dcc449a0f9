"""Typed hyperparameter search spaces: what a plugin may be tuned over, checked up front.

A space is a dict of name -> parameter. The runner samples it (Optuna, same trial count for
every model); ``defaults`` gives the configuration used without a search.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any


class SpaceError(ValueError):
    """A search space that cannot be sampled; the message names the parameter."""


@dataclass(frozen=True)
class Int:
    low: int
    high: int
    log: bool = False
    default: int | None = None

    def check(self, name: str) -> None:
        if not (isinstance(self.low, int) and isinstance(self.high, int)):
            raise SpaceError(f"parameter {name!r}: Int bounds must be integers")
        if self.low > self.high:
            raise SpaceError(f"parameter {name!r}: low {self.low} > high {self.high}")
        if self.log and self.low < 1:
            raise SpaceError(f"parameter {name!r}: a log-scale Int needs low >= 1")
        _check_default(name, self, self.default)

    def contains(self, v: Any) -> bool:
        return isinstance(v, int) and not isinstance(v, bool) and self.low <= v <= self.high

    def center(self) -> int:
        if self.default is not None:
            return self.default
        if self.log:
            return round(math.sqrt(self.low * self.high))
        return (self.low + self.high) // 2


@dataclass(frozen=True)
class Float:
    low: float
    high: float
    log: bool = False
    default: float | None = None

    def check(self, name: str) -> None:
        if not (math.isfinite(self.low) and math.isfinite(self.high)):
            raise SpaceError(f"parameter {name!r}: Float bounds must be finite numbers")
        if self.low > self.high:
            raise SpaceError(f"parameter {name!r}: low {self.low} > high {self.high}")
        if self.log and self.low <= 0:
            raise SpaceError(f"parameter {name!r}: a log-scale Float needs low > 0")
        _check_default(name, self, self.default)

    def contains(self, v: Any) -> bool:
        return isinstance(v, int | float) and not isinstance(v, bool) and self.low <= v <= self.high

    def center(self) -> float:
        if self.default is not None:
            return self.default
        if self.log:
            return math.sqrt(self.low * self.high)
        return (self.low + self.high) / 2


@dataclass(frozen=True)
class Categorical:
    choices: tuple[Any, ...]
    default: Any = None

    def check(self, name: str) -> None:
        if not isinstance(self.choices, tuple | list) or not self.choices:
            raise SpaceError(f"parameter {name!r}: Categorical needs a non-empty tuple of choices")
        if not all(isinstance(c, str | int | float | bool) or c is None for c in self.choices):
            raise SpaceError(f"parameter {name!r}: choices must be str, int, float, bool or None")
        _check_default(name, self, self.default)

    def contains(self, v: Any) -> bool:
        return v in self.choices

    def center(self) -> Any:
        return self.choices[0] if self.default is None else self.default


def LogFloat(low: float, high: float, default: float | None = None) -> Float:
    """A float sampled uniformly in log space (learning rates, weight decay)."""
    return Float(low, high, log=True, default=default)


Param = Int | Float | Categorical


def _check_default(name: str, p: Param, default: Any) -> None:
    if default is not None and not p.contains(default):
        raise SpaceError(f"parameter {name!r}: default {default!r} is outside its range")


def check_space(space: Any) -> dict[str, Param]:
    """Validate a plugin's declared space; raise ``SpaceError`` naming every problem at once
    (an author fixes them in one pass, not one run each)."""
    if not isinstance(space, dict):
        raise SpaceError(
            f"search space must be a dict of name -> parameter, not {type(space).__name__}"
        )
    problems = []
    for name, p in space.items():
        if not isinstance(name, str) or not name.isidentifier():
            problems.append(f"parameter name {name!r} is not an identifier")
        elif not isinstance(p, Int | Float | Categorical):
            problems.append(
                f"parameter {name!r} is a {type(p).__name__}; "
                "use Int, Float, LogFloat or Categorical"
            )
        else:
            try:
                p.check(name)
            except SpaceError as err:
                problems.append(str(err))
    if problems:
        raise SpaceError("; ".join(problems))
    return space


def defaults(space: dict[str, Param]) -> dict[str, Any]:
    """The configuration used without a search: declared defaults, else the range's centre."""
    return {name: p.center() for name, p in space.items()}


def check_config(
    space: dict[str, Param], config: dict[str, Any], outside: bool = False
) -> dict[str, Any]:
    """A full configuration: defaults filled in; unknown parameters rejected, and values
    outside their range too unless ``outside`` allows them (of the same type: an Int's value
    an integer, a Categorical's a plain value)."""
    unknown = sorted(set(config) - set(space))
    problems = []
    if unknown:
        problems.append(f"unknown parameter(s) {', '.join(unknown)}; known: {', '.join(space)}")
    allowed = _same_type if outside else (lambda p, v: p.contains(v))
    problems += [
        f"parameter {name!r}: {v!r} is {'not of the type of' if outside else 'outside'} "
        f"{space[name]}"
        for name, v in config.items()
        if name in space and not allowed(space[name], v)
    ]
    if problems:
        raise SpaceError("; ".join(problems))
    return {**defaults(space), **config}


def inside(space: dict[str, Param], config: dict[str, Any]) -> bool:
    """Whether every value of ``config`` lies in ``space`` (the protocol's configurations)."""
    return all(name in space and space[name].contains(v) for name, v in config.items())


def _same_type(p: Param, v: Any) -> bool:
    if isinstance(p, Categorical):
        return isinstance(v, str | int | float | bool) or v is None
    return (Int(-(2**62), 2**62) if isinstance(p, Int) else Float(-math.inf, math.inf)).contains(v)


def describe(p: Param) -> dict[str, Any]:
    """A JSON-friendly description of one parameter (for listings and the leaderboard)."""
    if isinstance(p, Categorical):
        return {"type": "categorical", "choices": list(p.choices), "default": p.default}
    kind = "int" if isinstance(p, Int) else "float"
    if p.log:
        kind = f"log-{kind}"
    return {"type": kind, "low": p.low, "high": p.high, "default": p.default}


def parse(d: dict[str, Any]) -> Param:
    """The parameter :func:`describe` gave ``d`` for (how the runner rebuilds a plugin's space
    from the metadata a sandboxed child sent, without importing the plugin)."""
    kind = d.get("type")
    if kind == "categorical":
        return Categorical(tuple(d["choices"]), d.get("default"))
    if kind in ("int", "log-int"):
        return Int(d["low"], d["high"], kind == "log-int", d.get("default"))
    if kind in ("float", "log-float"):
        return Float(d["low"], d["high"], kind == "log-float", d.get("default"))
    raise SpaceError(f"unknown parameter type {kind!r}")
