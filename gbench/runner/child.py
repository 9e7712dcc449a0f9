"""The job's side of isolation: runs in a child forked by the sandbox's zygote.

It loads the one training view it may read, imports the plugin (the first plugin code to
run), trains under the budget and sends back test-node predictions and its measurements.
Validation scores come from the oracle in the parent; test scores are computed there too.
"""

from __future__ import annotations

import random
import traceback
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import torch

from gbench.graph import Graph, Split


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


def run_job(payload: dict[str, Any], oracle_conn: Connection, result_conn: Connection) -> None:
    """Train, then send test-node predictions and measurements back (or the failure)."""
    import numpy as np

    from gbench import models
    from gbench.models.oracle import ValidationClient
    from gbench.models.plugin import Budget
    from gbench.models.train import OverBudgetError, run_view
    from gbench.runner.job import Job
    from gbench.timing import peak_memory_mb

    job = Job.from_dict(payload["job"])
    budget_d = payload["budget"]
    result_conn.send({"status": "started"})  # the budget clock starts now, not at fork
    try:
        if payload["threads"]:
            torch.set_num_threads(payload["threads"])
        random.seed(job.seed)
        np.random.seed(job.seed)
        torch.manual_seed(job.seed)
        view = load_view(payload["view"], job.device)
        plugin = models.get(job.model)()
        budget = Budget(
            max_epochs=budget_d["max_epochs"],
            patience=budget_d["patience"],
            seconds=budget_d["seconds_per_trial"],
            max_parameters=budget_d["max_parameters"],
            warmup_epochs=budget_d["warmup_epochs"],
        )
        r = run_view(plugin, view, ValidationClient(oracle_conn, view.val_idx), job.config, budget)
        result_conn.send(
            {
                "status": "ok",
                "test_predictions": r.predictions[view.test_idx.cpu()].float().numpy(),
                "val_score": r.val_score,
                "epochs": r.epochs,
                "best_epoch": r.best_epoch,
                "train_seconds": r.train_seconds,
                "inference_seconds": r.inference_seconds,
                "epoch_seconds": r.epoch_seconds,
                "timed_out": r.timed_out,
                "num_parameters": r.num_parameters,
                "history": r.history,
                "peak_memory_mb": peak_memory_mb(torch.device(job.device)),
            }
        )
    except OverBudgetError as err:
        result_conn.send({"status": "over_budget", "error": str(err)})
    except BaseException as err:  # the plugin's bug, reported, never fatal to the benchmark
        where = traceback.extract_tb(err.__traceback__)[-1] if err.__traceback__ else None
        at = f" (at {Path(where.filename).name}:{where.lineno})" if where else ""
        msg = (str(err).strip().splitlines() or [""])[0]
        result_conn.send({"status": "failed", "error": f"{type(err).__name__}: {msg}{at}"})
    finally:
        result_conn.close()
        oracle_conn.close()
