"""The columns several pages share, so a number is labelled and explained the same everywhere."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from gbench.leaderboard.tables import Column

TASK = Column("task", "task", link="task_page")
MODEL = Column("model", "model", link="model_page")
MFAMILY = Column("model_family", "model family")
DFAMILY = Column("dataset_family", "dataset family")
SCORE = Column(
    "mean",
    "score ×100",
    "score",
    best="max",
    std="std",
    tie="vs_best",
    p="p",
    help="Mean ± sample std (ddof=1) over splits, ×100. ★ best, ≈ statistically tied with it "
    "(Holm-corrected paired t-test).",
)
CI = Column(
    "ci_low",
    "95% CI ×100",
    "score",
    upper="ci_high",
    help="95% Student-t confidence interval of the mean over splits (t with n − 1 degrees "
    "of freedom, sample std); none below 2 splits",
)
SPLITS = Column("n", "splits", "int", help="(split, seed) units the mean is over")
RANK = Column("rank", "rank", "rank", best="min", help="Rank among the models on this task")
VS_BEST = Column(
    "vs_best",
    "vs best",
    "tie",
    tie="vs_best",
    p="p",
    help="Paired t-test against the best model over shared splits, Holm-corrected over the "
    "task's k − 1 tests; tied when the corrected p ≥ 0.05 (p_raw in the downloads: uncorrected)",
)
P_RAW = Column("p_raw", "p uncorrected", "pvalue", shown=False)
PARAMS = Column(
    "parameters",
    "params",
    "int",
    best="min",
    origin="num_parameters",
    help="Trainable parameters, counted from the shapes the child returns",
)
TRIALS = Column("trials", "trials", "int", help="Search trials run (budget used)")
PARALLEL = Column(
    "search_parallelism",
    "at once",
    "int",
    help="Search trials in flight at once: 1 is sequential TPE; more is TPE with a constant "
    "liar, not the same search, though the trial budget is the same",
)
SECONDS = Column(
    "seconds",
    "seconds",
    "seconds",
    best="min",
    child="seconds_by_child",
    help="Wall-clock seconds of the search trials and final runs, measured by the runner; "
    "† where a final run recorded none and its child-reported training seconds count instead",
)
WALL = Column(
    "wall_seconds",
    "wall s / run",
    "seconds",
    best="min",
    origin="wall_seconds",
    help="Seconds from a final run's start to its result, mean per split",
)
TRAIN = Column(
    "train_seconds",
    "train s / run",
    "seconds",
    best="min",
    origin="train_seconds",
    help="Training seconds, mean per split",
)
SOURCE = Column(
    "source",
    "source",
    "badge",
    help="gbench run: run by gbench here; verified: re-run by `gbench verify`; "
    "self-reported: submitted numbers, not re-run",
)
SANDBOX = Column(
    "sandbox",
    "sandbox",
    "badge",
    help="How the process running the plugin's code was confined (for a result over several "
    "splits, the weakest). bwrap: bubblewrap namespaces, no network, a read-only root with "
    "only what the job needs; landlock+netns: the same paths through Landlock, a new network "
    "namespace; none: a plain child process, which plugin code can leave (files, sockets); "
    "unknown: not recorded (older runs, submitted numbers)",
)
HARDWARE = Column("hardware", "hardware")
EPOCH = Column(
    "epoch_seconds",
    "s / epoch",
    "seconds",
    best="min",
    origin="epoch_seconds",
    help="Seconds of one training epoch, mean over the final runs (warm-up epochs left out)",
)
PEAK = Column(
    "peak_memory_mb",
    "peak MiB",
    "int",
    best="min",
    origin="peak_memory_mb",
    help="Peak memory of a final run, the largest over the splits: resident set on the CPU, "
    "allocated on a GPU",
)
ESTIMATE = Column(
    "memory_estimate_mb",
    "estimate MiB",
    "int",
    origin="memory_estimate_mb",
    help="The runner's memory estimate, made before that run started from the graph's sizes, "
    "the configuration's structure and the plugin's kind",
)
ESTIMATE_ERROR = Column(
    "memory_estimate_error",
    "estimate error",
    "float",
    help="(estimate − measured peak) / measured peak, the one furthest from 0 over the splits",
)
BEST_OR_TIED = Column(
    "best_or_tied",
    "★/≈ tasks",
    "int",
    best="max",
    help="Tasks where it is best or statistically tied with the best",
)


ENTRY = [
    SCORE,
    CI,
    SPLITS,
    RANK,
    VS_BEST,
    P_RAW,
    PARAMS,
    TRIALS,
    PARALLEL,
    SECONDS,
    SOURCE,
    SANDBOX,
]
"""One (task, model) entry's figures, in the order the index and model pages list them."""


def unmarked(columns: list[Column]) -> list[Column]:
    """Without best marks: for tables mixing tasks, where one column's values don't compare."""
    return [replace(c, best="") for c in columns]


def largest(values: list[int | None]) -> int | None:
    known = [v for v in values if v is not None]
    return max(known) if known else None


def total(values: list[Any]) -> Any:
    known = [v for v in values if v is not None]
    return sum(known) if known else None
