"""Seeded, vectorised synthetic graph generators: O(edges) time and memory, numpy/scipy only.

A graph is named by its kind and all its parameters, e.g.
``csbm:classes=5,dc=0.0,deg=10.0,dim=32,h=0.2,n=10000,seed=0,snr=1.0``; the same name always
gives byte-identical arrays (on one platform and numpy version).

>>> g = generate("csbm", n=1000, h=0.2)
>>> generate(g.name) == g
True
"""

from __future__ import annotations

from collections.abc import Mapping

from gbench.generators import csbm, rgg, rsn
from gbench.generators.graph import SyntheticGraph
from gbench.generators.spec import KindSpec, Param, Value

KINDS: Mapping[str, KindSpec] = {spec.kind: spec for spec in (csbm.SPEC, rgg.SPEC, rsn.SPEC)}

__all__ = ["KINDS", "KindSpec", "Param", "SyntheticGraph", "generate", "parse_name"]


def _spec(kind: str) -> KindSpec:
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(
            f"unknown generator kind {kind!r}; available kinds: {', '.join(sorted(KINDS))}"
        ) from None


def _split(name: str) -> tuple[KindSpec, dict[str, Value]]:
    """The kind's spec and the typed, range-checked parameters written in ``name``."""
    if not isinstance(name, str):
        raise ValueError(f"generator name must be a string, got {type(name).__name__}")
    kind, _, rest = name.partition(":")
    spec = _spec(kind.strip())
    given: dict[str, str] = {}
    for token in rest.split(","):
        if not token.strip():
            continue
        key, eq, value = token.partition("=")
        key = key.strip()
        if not eq or not key:
            raise ValueError(
                f"malformed parameter {token.strip()!r} in {name!r}; expected key=value"
            )
        if key in given:
            raise ValueError(f"parameter {key!r} given twice in {name!r}")
        spec.param(key)  # unknown names fail here, naming the valid ones
        given[key] = value
    return spec, spec.coerce(given)


def parse_name(name: str) -> tuple[str, dict[str, Value]]:
    """``"csbm:n=10000,deg=10,h=0.2"`` -> ``("csbm", {all parameters, typed, defaults filled})``.

    Raises ValueError (one line) for an unknown kind or parameter, a malformed token, or a
    value out of its allowed range.
    """
    spec, given = _split(name)
    return spec.kind, spec.canonical(given)


def generate(name_or_kind: str, **params: object) -> SyntheticGraph:
    """Build a graph from a name (``"csbm:n=1000,h=0.2"``) or a kind plus keyword parameters.

    Parameters not given take their defaults (see ``KINDS[kind].params``). A parameter may be
    given in the name or as a keyword, not both.
    """
    spec, given = _split(name_or_kind)
    both = sorted(set(given) & set(params))
    if both:
        raise ValueError(f"parameter(s) {', '.join(both)} given both in the name and as keywords")
    canonical = spec.canonical({**given, **params})
    return spec.build(**canonical)
