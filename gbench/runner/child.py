"""The job's side of isolation: runs in a child forked by the sandbox's zygote.

It loads the one training view it may read, imports the plugin (the first plugin code to
run), trains under the budget and sends back validation- and test-node predictions with what
it measured, which the runner treats as the plugin's word: the runner scores the predictions
itself, counts the oracle's queries, measures the time and counts the parameters from the
shapes sent. Everything sent is JSON and numeric arrays (:mod:`gbench.sandbox.wire`).
"""

from __future__ import annotations

import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import torch

from gbench.graph import Graph, Split
from gbench.record import SKIPPED
from gbench.sandbox import wire


def load_view(path: str, device: str) -> Graph:
    d = torch.load(path, mmap=True)
    return Graph(
        x=d["x"],
        y=d["y"],
        edge_index=d["edge_index"],
        num_classes=d["num_classes"],
        splits=[Split(*d["split"])],
        directed=d["directed"],
        metric=d["metric"],
        name=d["name"],
    ).to(device)


def main(payload: dict[str, Any], oracle_conn: Connection, result_conn: Connection) -> None:
    """Run the job in ``payload``, or describe the plugin it names; report how it went."""
    try:
        if "describe" in payload:
            wire.send(result_conn, {"status": "ok", "info": describe(payload["describe"])})
        else:
            run_job(payload, oracle_conn, result_conn)
    except BaseException as err:  # the plugin's bug, reported, never fatal to the benchmark
        from gbench.models.plugin import OverBudgetError, OverCapError

        status = "failed"
        if isinstance(err, OverBudgetError):
            # only a search trial is skipped (and sampled again); a given configuration fails
            trial = payload.get("job", {}).get("kind") == "trial"
            status = SKIPPED if isinstance(err, OverCapError) and trial else "over_budget"
        name = payload.get("describe") or payload.get("job", {}).get("model", "")
        wire.send(result_conn, {"status": status, "error": failure(err, name)})
    finally:
        result_conn.close()
        oracle_conn.close()


def failure(err: BaseException, model: str = "") -> str:
    """One line: the exception and the line it came from: the plugin's own last line in the
    traceback (its ``forward``, say) rather than the library frame that raised."""
    from gbench.models import OverBudgetError, PluginError

    if isinstance(err, PluginError | OverBudgetError):  # already one line naming the fix
        return str(err)
    from gbench.models import own_frames

    frames = traceback.extract_tb(err.__traceback__) if err.__traceback__ else []
    where = (own_frames(err, model) or frames)[-1:]
    at = "".join(f" (at {Path(f.filename).name}:{f.lineno})" for f in where)
    msg = (str(err).strip().splitlines() or [""])[0]
    return f"{type(err).__name__}: {msg}{at}"


def describe(target: str) -> dict[str, Any]:
    """The plugin's metadata as data (the runner reads it from here, never imports it)."""
    import inspect

    from gbench import models

    info = models.info(target)
    return {**info, "file": str(Path(inspect.getfile(models.get(target))).resolve())}


def run_job(payload: dict[str, Any], oracle_conn: Connection, result_conn: Connection) -> None:
    """Train, then send validation- and test-node predictions back with what it measured."""

    from gbench import models
    from gbench.models.oracle import ValidationClient
    from gbench.models.plugin import Budget
    from gbench.models.train import run_view, seeded
    from gbench.runner.job import Job
    from gbench.timing import peak_memory_mb

    job = Job.from_dict(payload["job"])
    budget_d = payload["budget"]
    wire.send(result_conn, {"status": "started"})  # the budget clock starts now, not at fork
    if payload["threads"]:
        torch.set_num_threads(payload["threads"])
    seeded(job.seed, job.device)
    view = load_view(payload["view"], job.device)
    plugin = models.get(job.model)()
    budget = Budget(
        max_epochs=budget_d["max_epochs"],
        patience=budget_d["patience"],
        seconds=budget_d["seconds_per_trial"],
        max_parameters=budget_d["max_parameters"],
        warmup_epochs=budget_d["warmup_epochs"],
    )
    validate = ValidationClient(oracle_conn, view.val_idx)
    r = run_view(plugin, view, validate, job.config, budget, payload["label_inputs"])
    predictions = r.predictions.float()
    wire.send(
        result_conn,
        {
            "status": "ok",
            "val_predictions": predictions[view.val_idx.cpu()].numpy(),
            "test_predictions": predictions[view.test_idx.cpu()].numpy(),
            "parameter_shapes": [list(s) for s in r.parameter_shapes],
            "epochs": r.epochs,
            "best_epoch": r.best_epoch,
            "train_seconds": r.train_seconds,
            "inference_seconds": r.inference_seconds,
            "epoch_seconds": r.epoch_seconds,
            "timed_out": r.timed_out,
            "history": r.history,
            "peak_memory_mb": peak_memory_mb(torch.device(job.device)),
        },
    )
