"""Declared, typed generator parameters: one place that coerces, checks and fills defaults,
so a name string, keyword arguments and a CLI all agree on what a parameter means."""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

Value = int | float | str

# Node ids are combined into int64 keys u * n + v, so n * n must fit in an int64.
MAX_NODES = 2**31 - 1


def _describe(kind: str, name: str, value: object) -> str:
    return f"{kind}: {name}={value!r}"


@dataclass(frozen=True)
class Param:
    """One parameter: its type (int, float or str), default, one-line doc and allowed values.

    ``default=None`` means the default depends on other parameters (the doc says how); it is
    filled in by the kind's ``derive`` hook, so canonical parameters never hold None.
    """

    name: str
    type: type
    default: Value | None
    doc: str
    allowed: str = ""  # human-readable range, used verbatim in error messages
    check: Callable[[Any], bool] | None = None
    choices: tuple[str, ...] = ()

    def coerce(self, kind: str, value: object) -> Value:
        """Convert ``value`` (a str from a name, or a Python/numpy scalar) to this type."""
        what = _describe(kind, self.name, value)
        if isinstance(value, bool):
            raise ValueError(f"{what} is a bool; expected {self.type.__name__}")
        out: Value
        if self.type is int:
            out = _to_int(value, what)
        elif self.type is float:
            out = _to_float(value, what)
        else:
            if not isinstance(value, str):
                raise ValueError(f"{what} is not a string; allowed: {self.allowed}")
            out = value.strip()
        self.validate(kind, out)
        return out

    def validate(self, kind: str, value: Value) -> None:
        if self.choices and value not in self.choices:
            raise ValueError(
                f"{_describe(kind, self.name, value)} is not allowed; allowed: {self.allowed}"
            )
        if self.check is not None and not self.check(value):
            raise ValueError(
                f"{_describe(kind, self.name, value)} out of range; allowed: {self.allowed}"
            )


def _to_int(value: object, what: str) -> int:
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            pass
        try:
            value = float(text)  # accept "1e6"
        except ValueError:
            raise ValueError(f"{what} is not an integer") from None
    if isinstance(value, numbers.Real) and math.isfinite(value) and float(value).is_integer():
        return int(float(value))
    raise ValueError(f"{what} is not an integer")


def _to_float(value: object, what: str) -> float:
    if isinstance(value, str):
        try:
            out = float(value.strip())
        except ValueError:
            raise ValueError(f"{what} is not a number") from None
    elif isinstance(value, numbers.Real):
        out = float(value)
    else:
        raise ValueError(f"{what} is not a number")
    if not math.isfinite(out):
        raise ValueError(f"{what} is not a finite number")
    return out


def _no_cross_check(params: dict[str, Value]) -> None:
    return None


def _no_derive(params: dict[str, Value]) -> None:
    return None


@dataclass(frozen=True)
class KindSpec:
    """A generator kind: its parameters, a one-line doc and the function that builds it.

    ``cross_check`` raises ValueError for constraints between parameters (e.g. deg < n);
    ``derive`` fills parameters whose default depends on others. ``build`` receives the
    canonical parameters as keyword arguments.
    """

    kind: str
    doc: str
    params: tuple[Param, ...]
    build: Callable[..., Any] = field(repr=False)
    cross_check: Callable[[dict[str, Value]], None] = field(default=_no_cross_check, repr=False)
    derive: Callable[[dict[str, Value]], None] = field(default=_no_derive, repr=False)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted(p.name for p in self.params))

    @property
    def defaults(self) -> dict[str, Value | None]:
        """Declared defaults (None where the default depends on other parameters)."""
        return {p.name: p.default for p in sorted(self.params, key=lambda p: p.name)}

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise ValueError(
            f"unknown parameter {name!r} for {self.kind}; valid parameters: {', '.join(self.names)}"
        )

    def coerce(self, given: Mapping[str, object]) -> dict[str, Value]:
        """Type and range-check the given parameters (no defaults filled)."""
        return {key: self.param(key).coerce(self.kind, value) for key, value in given.items()}

    def canonical(self, given: Mapping[str, object]) -> dict[str, Value]:
        """All parameters, typed, checked, defaults filled, keys sorted."""
        params: dict[str, Value] = {p.name: p.default for p in self.params if p.default is not None}
        params.update(self.coerce(given))
        self.derive(params)
        for p in self.params:  # derived values are checked like given ones
            p.validate(self.kind, params[p.name])
        self.cross_check(params)
        return {key: params[key] for key in sorted(params)}


def format_value(value: Value) -> str:
    """The text of a value in a canonical name; float(text)/int(text) reads it back exactly."""
    return str(value)  # str(float) is the shortest repr that round-trips


def format_name(kind: str, params: Mapping[str, Value]) -> str:
    return f"{kind}:" + ",".join(f"{k}={format_value(params[k])}" for k in sorted(params))


def range_error(kind: str, name: str, value: object, allowed: str) -> ValueError:
    return ValueError(f"{_describe(kind, name, value)} out of range; allowed: {allowed}")


# Parameters shared by every kind: same name, same meaning, same default.
N = Param(
    "n", int, 10_000, "number of nodes", f"2 <= n <= {MAX_NODES}", lambda v: 2 <= v <= MAX_NODES
)
DEG = Param(
    "deg",
    float,
    10.0,
    "target mean degree (= stored directed edges / n)",
    "0 < deg <= n-1",
    lambda v: v > 0,
)
CLASSES = Param("classes", int, 5, "number of classes", "2 <= classes <= n", lambda v: v >= 2)
DIM = Param("dim", int, 32, "feature dimension", "dim >= 1", lambda v: v >= 1)
SNR = Param(
    "snr",
    float,
    1.0,
    "feature signal-to-noise: norm of each class mean, in units of the noise std",
    "snr >= 0",
    lambda v: v >= 0,
)
SEED = Param(
    "seed", int, 0, "random seed (numpy SeedSequence entropy)", "seed >= 0", lambda v: v >= 0
)
DC = Param(
    "dc",
    float,
    0.0,
    "degree-correction tail exponent: 0 = equal expected degrees; >0 = Pareto weights "
    "with P(theta > t) ~ t^-dc (degree pdf ~ k^-(dc+1)), capped at deg*theta <= "
    "sqrt(n*deg); below 1 the tail's mean is infinite",
    "dc = 0 or dc >= 1",
    lambda v: v == 0 or v >= 1,
)
D = Param(
    "d",
    int,
    2,
    "dimension of the unit torus the nodes live in",
    "1 <= d <= 5",
    lambda v: 1 <= v <= 5,
)


def check_common(kind: str, params: dict[str, Value]) -> None:
    """Constraints between the shared parameters."""
    n, deg, classes = (float(params[k]) for k in ("n", "deg", "classes"))  # numeric by their specs
    if deg > n - 1:
        bound = f"0 < deg <= n-1 = {int(n) - 1} for n={int(n)}"
        raise range_error(kind, "deg", params["deg"], bound)
    if classes > n:
        raise range_error(kind, "classes", params["classes"], f"2 <= classes <= n = {int(n)}")
