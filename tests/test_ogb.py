"""An OGB task end to end: OGB's on-disk layout, the ``ogb`` loader, the official split, the
sandboxed child, and ``ogb.nodeproppred.Evaluator`` scoring what the child predicted."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from gbench import data, metrics
from tests.ogb_fixture import CLASSES, write_unpacked
from tests.test_runner import invoke


def test_ogbn_arxiv_through_gbench_run_is_scored_by_the_official_evaluator(
    tmp_path: Path,
) -> None:
    from mlflow.tracking import MlflowClient
    from ogb.nodeproppred import Evaluator

    root = tmp_path / "data"
    write_unpacked(root)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    config = tmp_path / "mlp.json"
    config.write_text(json.dumps({"hidden": 32, "layers": 2, "dropout": 0.2, "lr": 0.01}))
    env = {"GBENCH_DATA_DIR": str(root)}
    out = invoke(
        "run", "--suite", "ogb", "--model", "mlp", "--config", str(config), "--skip-missing",
        "--tracking-uri", uri, "--threads", "1", env=env,
    )  # fmt: skip
    assert "ogbn-arxiv" in out
    table = json.loads(invoke("results", "--tracking-uri", uri, "--format", "json"))
    assert {r["task"] for r in table} == {"ogbn-arxiv"}
    assert sorted(r["seed"] for r in table) == [0, 1, 2, 3, 4]  # one official split, 5 seeds

    graph = data.load("ogbn-arxiv", root=root)
    official = np.loadtxt(root / "ogbn_arxiv" / "split" / "time" / "test.csv.gz", dtype=np.int64)
    assert graph.test_idx.tolist() == official.tolist()
    labels = graph.y[graph.test_idx]
    client = MlflowClient(uri)
    evaluator = Evaluator("ogbn-arxiv")
    for r in table:
        saved = client.download_artifacts(r["run_id"], "test_predictions.npy", str(tmp_path))
        predictions = torch.from_numpy(np.load(saved))
        assert predictions.shape == (len(official), CLASSES)
        ours = metrics.score("accuracy", predictions, labels)
        theirs = evaluator.eval(
            {
                "y_true": labels.view(-1, 1).numpy(),
                "y_pred": predictions.argmax(-1).view(-1, 1).numpy(),
            }
        )["acc"]
        assert r["test_score"] == pytest.approx(theirs, abs=1e-12)  # what was recorded
        assert ours == pytest.approx(theirs, abs=1e-6)  # and gbench's own metric agrees
        assert r["test_score"] > 0.5  # 4 classes in the fixture: it learned
