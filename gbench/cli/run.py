"""``gbench run`` and ``gbench results``: run a suite under its budgets; export what ran."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import click

from gbench.cli.options import (
    device_option,
    executor_option,
    format_option,
    ray_address_option,
    sandbox_option,
    skip_missing_option,
    threads_option,
    tracking_uri_option,
    workers_option,
)
from gbench.cli.output import emit, table
from gbench.errors import GbenchError


@click.command()
@click.option("--suite", default="quick", show_default=True, help="Suite of tasks (tasks/suites).")
@click.option(
    "--model",
    "models",
    multiple=True,
    help="Registered name or FILE.py:Class; repeat. Default: the suite's models, else mlp and gcn.",
)
@tracking_uri_option()
@click.option(
    "--config",
    "config_file",
    type=click.Path(path_type=Path),
    help="JSON/TOML configuration: skip the search and run it on every split.",
)
@click.option(
    "--off-protocol",
    is_flag=True,
    help="Allow a --config outside the model's search space (say, a paper's own): its "
    "results carry protocol 'custom', are kept out of the rankings and shown apart.",
)
@device_option
@threads_option
@workers_option
@executor_option
@ray_address_option
@click.option("--force", is_flag=True, help="Rerun work already complete in the store.")
@skip_missing_option
@sandbox_option
@format_option()
def run(
    suite: str,
    models: tuple[str, ...],
    tracking_uri: str | None,
    config_file: Path | None,
    off_protocol: bool,
    device: str,
    threads: int | None,
    workers: int,
    executor: str,
    ray_address: str | None,
    force: bool,
    skip_missing: bool,
    sandbox: str,
    fmt: str,
) -> None:
    """Run SUITE's tasks for each model: search, then every split, all tracked in MLflow."""
    from gbench.runner.bench import Benchmark, load_config
    from gbench.tasks import load_suite

    bench = Benchmark(
        suite,
        list(models or load_suite(suite).models or ("mlp", "gcn")),
        tracking_uri,
        load_config(config_file),
        device,
        force,
        threads,
        log=lambda m: click.echo(m, err=True),
        sandbox=sandbox,
        workers=workers,
        executor=executor,
        ray_address=ray_address,
        skip_missing=skip_missing,
        off_protocol=off_protocol,
    )
    summaries = bench.run()
    from gbench.leaderboard.stats import t_interval

    rows = []
    for s in summaries:
        ci = t_interval(s.scores)
        rows.append(
            {
                "model": s.model,
                "task": s.task,
                "metric": s.metric,
                "score": f"{s.mean:.4f} ± {s.std:.4f}"
                if s.n > 1
                else (f"{s.mean:.4f}" if s.n else "-"),
                "95% CI": f"{ci[0]:.4f} – {ci[1]:.4f}" if ci else "-",
                "n": s.n,
                "failed": s.failed,
                "failed_trials": s.failed_trials,
                "skipped_trials": s.skipped_trials,
                "mean": s.mean,
                "std": s.std,
                "ci_low": ci[0] if ci else None,
                "ci_high": ci[1] if ci else None,
            }
        )
    columns = [
        *("model", "task", "metric", "score", "95% CI", "n"),
        *("failed", "failed_trials", "skipped_trials"),
    ]
    human = table(rows, columns)
    human += f"\n\ntracked in {bench.tracker.uri}; export with `gbench results`"
    emit(
        [
            {
                k: (None if isinstance(v, float) and math.isnan(v) else v)
                for k, v in r.items()
                if k not in ("score", "95% CI")
            }
            for r in rows
        ],
        fmt,
        human,
    )
    empty = [s for s in summaries if not s.n]
    if empty:  # what finished is kept; the exit status says the run did not do its job
        first = empty[0]
        raise GbenchError(
            f"{len(empty)} of {len(summaries)} (model, task) pairs have no final result; "
            f"{first.model} / {first.task}: {first.error}"
        )


@click.command()
@tracking_uri_option()
@click.option("--suite", help="Only this suite.")
@format_option("table", "csv", "json", "parquet", default="csv")
@click.option("--out", type=click.Path(path_type=Path), help="Write here (needed for parquet).")
def results(tracking_uri: str | None, suite: str | None, fmt: str, out: Path | None) -> None:
    """One tidy row per (model, task, split, seed) of finished final runs."""
    import pandas as pd

    from gbench.errors import GbenchError
    from gbench.runner.results import COLUMNS, rows

    data = rows(tracking_uri, suite)
    frame = pd.DataFrame(data, columns=COLUMNS)
    frame["config"] = frame["config"].map(lambda c: json.dumps(c, sort_keys=True))
    if fmt == "parquet":
        if out is None:
            raise GbenchError("--format parquet needs --out FILE.parquet")
        frame.to_parquet(out, index=False)
        return
    if fmt == "json":
        text = json.dumps(data, indent=1)
    elif fmt == "csv":
        text = frame.to_csv(index=False)
    else:
        text = table(data, ["model", "task", "split", "seed", "metric", "test_score", "run_id"])
    if out:
        out.write_text(text)
    else:
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
