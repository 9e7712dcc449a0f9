"""gbench's training harness against a plain PyG script, and the cost of MLflow logging.

Both train a 2-layer GCN (hidden 64, dropout 0.5, Adam lr 0.01, weight decay 5e-4) on Cora's
public split for the same number of epochs, each epoch one training step plus one full
evaluation forward and a validation accuracy, as PyG's own GCN example does. The reference
is that plain script, measured in the same run, alternating with gbench, best of several
repeats. Then the nested-run MLflow record of one run is timed and divided by its epochs.

    python perf/harness.py [--epochs 200] [--repeats 3] [--device cpu]

Needs Cora in the data root (``gbench data import ../shared/datasets``). The last line is
one JSON object.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time

import torch
import torch.nn.functional as F

from gbench import data
from gbench.models import Budget, get
from gbench.models.train import run
from gbench.timing import timed

PARAMS = {"lr": 0.01, "weight_decay": 5e-4, "hidden": 64, "layers": 2, "dropout": 0.5}


def plain_pyg(graph, epochs: int) -> float:
    """The reference: PyG's GCNConv, a hand-written loop, no gbench at all."""
    from torch_geometric.nn import GCNConv

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = GCNConv(graph.num_features, PARAMS["hidden"], cached=True)
            self.conv2 = GCNConv(PARAMS["hidden"], graph.num_classes, cached=True)

        def forward(self, x, edge_index):
            x = F.dropout(x, 0.5, self.training)
            x = F.relu(self.conv1(x, edge_index))
            x = F.dropout(x, 0.5, self.training)
            return self.conv2(x, edge_index)

    model = Net().to(graph.device)
    opt = torch.optim.Adam(model.parameters(), lr=PARAMS["lr"], weight_decay=PARAMS["weight_decay"])
    x, ei, y = graph.x, graph.edge_index, graph.y
    tr, va = graph.train_idx, graph.val_idx
    with timed(graph.device) as t:
        for _ in range(epochs):
            model.train()
            opt.zero_grad()
            F.cross_entropy(model(x, ei)[tr], y[tr]).backward()
            opt.step()
            model.eval()
            with torch.no_grad():
                pred = model(x, ei).argmax(-1)
            float((pred[va] == y[va]).float().mean())
    return t.seconds


def gbench_harness(graph, epochs: int) -> tuple[float, object]:
    plugin = get("gcn")()
    with timed(graph.device) as t:
        result = run(plugin, graph, PARAMS, Budget(epochs, epochs + 1, 1e9))
    assert result.epochs == epochs
    return t.seconds, result


def logging_cost(result, epochs: int) -> float:
    """Seconds to record one finished run (params, tags, per-epoch history, artifacts)."""
    import numpy as np

    from gbench.runner.job import Job, Outcome
    from gbench.runner.tracking import Tracker

    job = Job("gcn", "perf", 1, 0, 0, PARAMS)
    outcome = Outcome(
        job=job,
        status="ok",
        val_score=result.val_score,
        test_score=0.8,
        epochs=epochs,
        history=result.history,
        test_predictions=np.zeros((1000, 7), np.float32),
    )
    with tempfile.TemporaryDirectory() as tmp:
        tracker = Tracker(f"sqlite:///{tmp}/perf.db")
        parent = tracker.parent("perf", "gcn", {})
        tracker.record(parent, outcome, {}, "perf")  # warm: tables, first connection
        times = []
        for _ in range(3):
            start = time.perf_counter()
            tracker.record(parent, outcome, {}, "perf")
            times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=200)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    args = ap.parse_args()
    graph = data.load("cora").to(args.device)
    plain_pyg(graph, 5)  # warm-up: kernels, caches, lazy imports
    gbench_harness(graph, 5)
    ours, ref = [], []
    for i in range(args.repeats):
        ref.append(plain_pyg(graph, args.epochs))
        seconds, result = gbench_harness(graph, args.epochs)
        ours.append(seconds)
        print(f"repeat {i}: plain PyG {ref[-1]:.2f}s  gbench {ours[-1]:.2f}s", flush=True)
    ratio = min(ours) / min(ref)
    epoch = min(ours) / args.epochs
    log_s = logging_cost(result, args.epochs)
    print(f"gbench / plain PyG (best of {args.repeats}): {ratio:.3f}  (target <= 1.10)")
    print(
        f"MLflow record of one {args.epochs}-epoch run: {log_s:.3f}s = "
        f"{log_s / args.epochs / epoch:.4f} of an epoch per epoch"
    )
    print(
        json.dumps(
            {
                "overhead_ratio_vs_plain_pyg": round(ratio, 4),
                "logging_fraction_of_epoch": round(log_s / args.epochs / epoch, 5),
                "epochs": args.epochs,
                "device": args.device,
                "gbench_seconds": round(min(ours), 3),
                "plain_pyg_seconds": round(min(ref), 3),
                "gbench_median_seconds": round(statistics.median(ours), 3),
                "plain_pyg_median_seconds": round(statistics.median(ref), 3),
                "logging_seconds_per_run": round(log_s, 4),
            }
        )
    )


if __name__ == "__main__":
    main()
