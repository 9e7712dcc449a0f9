"""``gbench submit``, ``gbench verify`` and ``gbench regress``: leaderboard submissions and
regression checks (see docs/submitting.md)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from gbench.cli.options import (
    device_option,
    format_option,
    sandbox_option,
    skip_missing_option,
    threads_option,
    tracking_uri_option,
)
from gbench.cli.output import emit, table
from gbench.errors import GbenchError
from gbench.submit import LEADERBOARD


def register(group: click.Group) -> None:
    """Add these commands to ``group``: one line in main.py for the three of them."""
    for command in (submit, verify, regress):
        group.add_command(command)


def _score(mean: float | None, std: float | None) -> str:
    if mean is None:
        return "-"
    return f"{mean:.4f}" if std is None else f"{mean:.4f} ± {std:.4f}"


@click.command()
@click.argument("model")
@click.option("--suite", default="standard", show_default=True, help="The leaderboard suite.")
@tracking_uri_option()
@click.option("--out", type=click.Path(path_type=Path), help="Bundle file to write.")
@device_option
@threads_option
@skip_missing_option
@format_option()
def submit(
    model: str,
    suite: str,
    tracking_uri: str | None,
    out: Path | None,
    device: str,
    threads: int | None,
    skip_missing: bool,
    fmt: str,
) -> None:
    """Run SUITE for MODEL (a name or FILE.py:Class) under the official budgets and write
    its results bundle (default: <model>-<version>-<suite>.json)."""
    from gbench.runner.bench import Benchmark
    from gbench.submit import bundle

    bench = Benchmark(
        suite,
        [model],
        tracking_uri,
        device=device,
        threads=threads,
        log=_stderr,
        skip_missing=skip_missing,
    )
    bench.run()
    made = bundle.build(bench.plugins[model], suite, bench.tracker.uri, bench.env)
    out = out or Path(bundle.file_name(made))
    bundle.write(made, out)
    rows = [
        {
            "task": t["name"],
            "metric": t["metric"],
            "score": _score(t["summary"]["mean"], t["summary"]["std"]),
            "n": t["summary"]["n"],
            **t["used"],
        }
        for t in made["tasks"]
    ]
    human = table(
        rows, ["task", "metric", "score", "n", "trials", "epochs", "seconds", "parameters"]
    )
    human += f"\n\nwrote {out}; check it with `gbench verify {out}`, then open a pull request"
    emit({"bundle": str(out), "tasks": rows}, fmt, human)


@click.command()
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--rerun", type=int, default=0, show_default=True, help="Re-run K sampled units.")
@click.option("--seed", type=int, help="Seed of that sample (default: from the bundle's sha256).")
@click.option(
    "--plugin",
    help="The plugin here (FILE.py:Class), if it is not installed under its registered name "
    "or, for a plugin file, the file of the bundle's name beside the bundle.",
)
@click.option("--accept", is_flag=True, help="Copy an accepted bundle into --submissions.")
@click.option(
    "--submissions",
    type=click.Path(path_type=Path),
    help="Where accepted bundles go (default: ./leaderboard/submissions inside a gbench "
    "checkout; required elsewhere).",
)
@device_option
@threads_option
@sandbox_option
@format_option()
def verify(
    path: Path,
    rerun: int,
    seed: int | None,
    plugin: str | None,
    accept: bool,
    submissions: Path | None,
    device: str,
    threads: int | None,
    sandbox: str,
    fmt: str,
) -> None:
    """Check the bundle at PATH: schema, completeness, budgets, source, and re-runs.

    Exits 2 with one line per problem when it is rejected."""
    from gbench.submit import bundle as bundles
    from gbench.submit import verify as checks

    folder = (submissions or _checkout_submissions()) if accept else None
    bundle = bundles.read(path)
    plugin = plugin or checks.plugin_of(bundle, path)
    report = checks.verify(bundle, plugin, rerun, seed, device, threads, sandbox)
    accepted = checks.accept(bundle, report, folder) if folder and report.ok else None
    lines = [f"note: {n}" for n in report.notes]
    if report.reruns:
        lines.append(
            table(report.reruns, ["task", "split", "seed", "claimed", "rerun", "tolerance", "ok"])
        )
    if report.ok:
        where = f"; accepted as {accepted}" if accepted else ""
        lines.append(f"{path}: every check passed{where}")
    else:
        lines.append(f"{path}: rejected, {len(report.problems)} problem(s)")
    emit(
        {
            "bundle": str(path),
            "ok": report.ok,
            "problems": report.problems,
            "notes": report.notes,
            "seed": report.seed,
            "reruns": report.reruns,
            "accepted": str(accepted) if accepted else None,
        },
        fmt,
        "\n".join(lines),
    )
    if not report.ok:
        for problem in report.problems:
            click.echo(f"rejected: {problem}", err=True)
        sys.exit(2)


@click.command()
@click.option("--suite", default="quick", show_default=True, help="Suite of tasks.")
@click.option(
    "--against",
    type=click.Path(path_type=Path),
    help="Reference file (default: leaderboard/reference/<suite>.json).",
)
@click.option("--model", "models", multiple=True, help="Only these models of the reference.")
@click.option("--seed-offset", type=int, default=0, show_default=True, help="Shift model seeds.")
@click.option("--update", is_flag=True, help="Write a new reference instead of comparing.")
@tracking_uri_option("Keep the runs in this MLflow store (default: a temporary one).")
@device_option
@threads_option
@format_option()
def regress(
    suite: str,
    against: Path | None,
    models: tuple[str, ...],
    seed_offset: int,
    update: bool,
    tracking_uri: str | None,
    device: str,
    threads: int | None,
    fmt: str,
) -> None:
    """Re-run the reference's models on SUITE from scratch and compare their scores over splits.

    FAIL when the mean drops by more than the minimum effect AND Welch's one-sided t-test
    gives p < alpha (gbench/submit/regress.py); exits 1 on any FAIL. With --update, writes
    the reference instead (of --model, else of the models it already holds)."""
    from gbench.submit import regress as rg

    path = against or LEADERBOARD / "reference" / f"{suite}.json"
    if update:
        _update(path, suite, list(models), seed_offset, tracking_uri, device, threads, fmt)
        return
    ref = rg.read_reference(path, suite)
    known = rg.models_of(ref)
    unknown = [m for m in models if m not in known]
    if unknown:
        raise GbenchError(
            f"{', '.join(unknown)} not in {path}; add with `gbench regress --update --model ...`"
        )
    chosen = list(models) or known
    measured = rg.run(suite, chosen, tracking_uri, seed_offset, device, threads, _stderr)
    rows = rg.check(ref, measured.entries, chosen)
    failed = [r for r in rows if r["result"] == "FAIL"]
    human = _table(rows)
    human += f"\n\n{len(failed)} regression(s) in {len(rows)} (model, task) pairs"
    human += f" (FAIL: drop > {rg.MIN_EFFECT} and Welch one-sided p < {rg.ALPHA})"
    emit(
        {"suite": suite, "reference": str(path), "regressions": len(failed), "results": rows},
        fmt,
        human,
    )
    if failed:
        for r in failed:
            click.echo(
                f"regression: {r['model']} on {r['task']}: {_score(r['reference_mean'], None)} "
                f"-> {_score(r['new_mean'], None)}",
                err=True,
            )
        sys.exit(1)


def _update(
    path: Path,
    suite: str,
    models: list[str],
    seed_offset: int,
    tracking_uri: str | None,
    device: str,
    threads: int | None,
    fmt: str,
) -> None:
    import json

    from gbench.runner.environment import environment
    from gbench.submit import regress as rg

    if not models:
        if not path.is_file():
            raise GbenchError(f"no reference at {path} yet; name its models with --model")
        models = rg.models_of(rg.load(path, suite))
    measured = rg.run(suite, models, tracking_uri, seed_offset, device, threads, _stderr)
    done = {(e["model"], e["task"]) for e in measured.entries}
    ref = rg.reference(suite, measured, environment(device))
    names = measured.names.values()
    missing = [f"{m} on {t}" for m in names for t in ref["tasks"] if (m, t) not in done]
    if missing:
        raise GbenchError(f"no score for {', '.join(missing)}; fix these before writing {path}")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(ref, indent=1) + "\n")
    rows = [
        {
            "model": e["model"],
            "task": e["task"],
            "metric": e["metric"],
            "score": _score(*rg.stats(e["scores"])),
            "n": len(e["scores"]),
        }
        for e in ref["results"]
    ]
    human = table(rows, ["model", "task", "metric", "score", "n"]) + f"\n\nwrote {path}"
    emit({"reference": str(path), "results": ref["results"]}, fmt, human)


def _table(rows: list[dict[str, Any]]) -> str:
    cells = [
        {
            **r,
            "reference": _score(r["reference_mean"], r["reference_std"]),
            "new": _score(r["new_mean"], r["new_std"]),
            "delta": "-" if r["delta"] is None else f"{r['delta']:+.4f}",
            "95% CI of delta": "-"
            if r["delta_ci_low"] is None
            else f"{r['delta_ci_low']:+.4f} – {r['delta_ci_high']:+.4f}",
            "p": "-" if r["p"] is None else f"{r['p']:.3g}",
            "p (Holm)": "-" if r["p_holm"] is None else f"{r['p_holm']:.3g}",
        }
        for r in rows
    ]
    columns = ["model", "task", "metric", "reference", "new", "delta", "95% CI of delta"]
    return table(cells, [*columns, "p", "p (Holm)", "config", "result"])


def _stderr(message: str) -> None:
    click.echo(message, err=True)


def _checkout_submissions() -> Path:
    """``./leaderboard/submissions`` when this is a gbench checkout: never the installed
    package's copy, which a reinstall would silently drop."""
    here = Path.cwd()
    folder = here / "leaderboard" / "submissions"
    if folder.is_dir() and (here / "gbench" / "__init__.py").is_file():
        return folder
    raise GbenchError(
        "--accept: say where accepted bundles go with --submissions DIR (the default, "
        "./leaderboard/submissions, applies only inside a gbench checkout)"
    )
