"""A plugin as data: what the runner knows of it without importing it.

``gbench run``, ``verify`` and ``regress`` never import plugin code: a sandboxed child
imports the plugin and sends back :func:`gbench.models.info`, which is validated here
against the plugin API's schema once, and from then on is the only view of the plugin the
runner has. The same record is the ``model`` of a submission bundle.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from gbench.models.space import Param, SpaceError, check_space, parse
from gbench.record import LabelInputs

Name = Annotated[str, Field(min_length=1)]
Scalar = str | int | float | bool | None


class ParamInfo(BaseModel):
    """One search-space parameter as :func:`gbench.models.space.describe` writes it."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["int", "log-int", "float", "log-float", "categorical"]
    low: int | float | None = None
    high: int | float | None = None
    choices: list[Scalar] | None = None
    default: Scalar = None


class PluginInfo(BaseModel):
    """:func:`gbench.models.info` of a plugin: who made it, how it is built, what it tunes."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    registered_as: Name
    version: Name
    family: str
    backend: Literal["torch", "dgl"]
    entry: Literal["build", "fit"]
    label_inputs: LabelInputs | None = Field(
        default=None,
        description="Labels the model takes as input: train (a fit plugin, or one that "
        "declares it) or none. Unset in bundles made before gbench recorded it.",
    )
    authors: list[str]
    paper: str
    code: str
    licence: str
    citation: str
    changes: str = Field(
        default="",
        description="What differs from the authors' implementation, and why. Unset in "
        "bundles made before gbench recorded it.",
    )
    space: dict[str, ParamInfo]

    def params(self) -> dict[str, Param]:
        """The search space as the plugin declared it (a ``SpaceError`` if it does not check)."""
        return check_space({name: parse(p.model_dump()) for name, p in self.space.items()})


def validated(info: Any, where: str) -> tuple[PluginInfo, dict[str, Param]]:
    """``info`` as a PluginInfo and its space, or a one-line error naming ``where``."""
    from gbench.models import PluginError

    try:
        plugin = PluginInfo.model_validate(info)
        return plugin, plugin.params()
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "metadata"
        raise PluginError(f"{where}: bad metadata: {field}: {first['msg'].lower()}") from None
    except (SpaceError, KeyError, TypeError) as err:
        raise PluginError(f"{where}: bad search space: {err}") from None


@dataclass(frozen=True)
class Described:
    """A plugin as the runner knows it: validated metadata, its space, and its source file."""

    model: str  # what a child loads: a registered name, or /abs/path/file.py:Class
    target: str
    info: PluginInfo
    params: dict[str, Param]
    source: dict[str, str]  # plugin_file, plugin_sha256, plugin_commit, plugin_version

    @property
    def name(self) -> str:
        """The model as results, bundles and the leaderboard name it: its metadata name
        (a file plugin is not known by where it lies)."""
        return self.info.name

    def recorded_as(self) -> dict[str, str]:
        """The tags that find this plugin's runs in a store: its name and the sha256 of its
        source file (another plugin of the same name, or this one edited since, is not it)."""
        return {"model": self.name, "plugin_sha256": self.source["plugin_sha256"]}
