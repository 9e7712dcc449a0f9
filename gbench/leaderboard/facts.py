"""What the site shows of suites, tasks, datasets and models, recorded where they are known.

A leaderboard build reads nothing but its inputs, so the same inputs give the same site on
any machine, with or without the data root, the task specs or the plugins. The runner keeps
:func:`document` with each (suite, model) parent run, and ``gbench submit`` puts the same
into the bundle::

    {"suite": {"name", "version", "description"}, "model": <gbench.models.info>,
     "tasks": [{"name", "version", "metric", "dataset", "family", ...}, ...],
     "datasets": {<canonical name>: {"title", "family", ..., "generator", "measured"}}}

A dataset's ``family`` is its card's declared kind; a synthetic one also carries its
generator's parameters, which is what its page and the homophily sweeps read.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError

from gbench.errors import GbenchError
from gbench.record import LabelInputs, Replication

if TYPE_CHECKING:
    from gbench.tasks import Suite, Task

HOMOPHILY = (
    "edge_homophily",
    "node_homophily",
    "class_insensitive_homophily",
    "adjusted_homophily",
    "label_informativeness",
)
CARD = (  # the card's fields the pages show as they are
    "name",
    "title",
    "family",
    "task",
    "metric",
    "directed",
    "source",
    "url",
    "licence",
    "citation",
    "notes",
)


class Fact(BaseModel):
    """Read leniently: keys a document has beyond these (a bundle's budgets) are ignored."""

    model_config = ConfigDict(extra="ignore", frozen=True)


class SuiteFacts(Fact):
    name: str
    version: int = 0  # 0: not recorded
    description: str = ""
    tasks: list[str] = []  # in the suite's order: the tasks of the document


class TaskFacts(Fact):
    name: str
    version: int
    metric: str = ""
    dataset: str = ""  # canonical name, a key of the datasets; "" where not recorded
    family: str = ""
    replication: Replication | None = None
    label_inputs: LabelInputs | None = None
    description: str = ""


class Counts(Fact):
    nodes: int | None = None
    edges: int | None = None
    features: int | None = None
    classes: int | None = None


class Measured(Counts):
    """What loading the data measured where it ran (the audit cache of its data root)."""

    content_sha256: str = ""
    homophily: dict[str, float | None] = {}  # HOMOPHILY's keys; None where undefined


class Splits(Fact):
    kind: str = ""
    count: int = 0
    protocol: str = ""


class Generator(Fact):
    kind: str
    params: dict[str, bool | int | float | str]


class DatasetFacts(Fact):
    name: str
    title: str = ""
    family: str = ""  # the card's declared kind: homophilous, heterophilous, ogb, synthetic
    task: str = ""
    metric: str = ""
    directed: bool = False
    source: str = ""
    url: str = ""
    licence: str = ""
    citation: str = ""
    notes: str = ""
    splits: Splits | None = None
    published: Counts = Counts()
    generator: Generator | None = None  # synthetic data: the generator and its parameters
    measured: Measured | None = None


# -- recording, where the specs, the data root and the plugin are at hand --------------------
def of_task(task: Task) -> TaskFacts:
    from gbench import data

    spec = {k: getattr(task, k) for k in TaskFacts.model_fields}
    return TaskFacts.model_validate({**spec, "dataset": data.card(task.dataset).name})


def of_dataset(name: str, root: Path | None) -> DatasetFacts:
    """The card's fields the pages show, and what has been measured under ``root``."""
    from gbench import data

    info = data.info(name, root)
    generator = None
    if info["family"] == "synthetic":
        from gbench.generators import parse_name

        kind, params = parse_name(info["name"])
        generator = Generator(kind=kind, params=params)
    published = {k: v for k, v in info["published"].items() if isinstance(v, int)}
    m = info["measured"]
    measured = None
    if m is not None:
        homophily = {k: finite(m["measures"][k]) for k in HOMOPHILY if k in m["measures"]}
        counts = {k: m.get(k) for k in Counts.model_fields}
        measured = Measured(content_sha256=m["content_sha256"], homophily=homophily, **counts)
    return DatasetFacts(
        **{k: info[k] for k in CARD},
        splits=Splits.model_validate(info["splits"]),
        published=Counts.model_validate(published),
        generator=generator,
        measured=measured,
    )


def finite(v: Any) -> float | None:
    return float(v) if isinstance(v, int | float) and math.isfinite(v) else None


def document(
    suite: Suite, tasks: list[Task], model: dict[str, Any], root: Path | None
) -> dict[str, Any]:
    """The facts of ``model``'s run of ``suite`` (``model``: ``gbench.models.info``)."""
    facts = [of_task(t) for t in tasks]
    datasets = {f.dataset: of_dataset(t.dataset, root) for t, f in zip(tasks, facts, strict=True)}
    return {
        "suite": {"name": suite.name, "version": suite.version, "description": suite.description},
        "model": model,
        "tasks": [f.model_dump() for f in facts],
        "datasets": {k: datasets[k].model_dump() for k in sorted(datasets)},
    }


# -- reading, at build time ------------------------------------------------------------------
F = TypeVar("F", bound=Fact)
K = TypeVar("K")


@dataclass
class Known:
    """The facts of every input: a task's per version, a suite's newest version, and a
    dataset measured somewhere over one that was not; among equals, the first read."""

    suites: dict[str, SuiteFacts] = field(default_factory=dict)
    tasks: dict[tuple[str, int], TaskFacts] = field(default_factory=dict)
    datasets: dict[str, DatasetFacts] = field(default_factory=dict)

    def add(self, doc: dict[str, Any], where: str) -> None:
        """The facts a run or a bundle carries; a document without them adds nothing."""
        try:
            tasks = [TaskFacts.model_validate(t) for t in doc.get("tasks") or []]
            suite = doc.get("suite")
            members = {"tasks": [t.name for t in tasks]}
            suites = [] if suite is None else [SuiteFacts.model_validate({**suite, **members})]
            data = doc.get("datasets") or {}
            datasets = [DatasetFacts.model_validate({**d, "name": k}) for k, d in data.items()]
        except (ValidationError, TypeError, AttributeError) as err:
            raise GbenchError(f"{where}: suite, tasks or datasets: {problem(err)}") from None
        self.take(suites, tasks, datasets)

    def take(
        self,
        suites: Iterable[SuiteFacts],
        tasks: Iterable[TaskFacts],
        datasets: Iterable[DatasetFacts],
    ) -> None:
        keep(self.suites, suites, lambda s: s.name, lambda s: s.version)
        keep(self.tasks, tasks, lambda t: (t.name, t.version), lambda t: 0)
        keep(self.datasets, datasets, lambda d: d.name, lambda d: d.measured is not None)

    def merged(self, later: Known) -> Known:
        out = Known(dict(self.suites), dict(self.tasks), dict(self.datasets))
        out.take(later.suites.values(), later.tasks.values(), later.datasets.values())
        return out


def keep(
    known: dict[K, F], found: Iterable[F], key: Callable[[F], K], rank: Callable[[F], Any]
) -> None:
    for f in found:
        k = key(f)
        if k not in known or rank(f) > rank(known[k]):
            known[k] = f


def problem(err: Exception) -> str:
    """The first thing wrong, in one line."""
    if isinstance(err, ValidationError):
        first = err.errors()[0]
        return f"{'.'.join(str(p) for p in first['loc'])}: {first['msg'].lower()}"
    return "not an object"
