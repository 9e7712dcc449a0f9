"""gbench at large sizes: generating a 10^7-node CSBM graph, SGC's precomputation on it, and
a full-batch GCN epoch on a 10^6-node graph.

Figures (sizes from the flags; the keys keep their names at any size, and the JSON says the
sizes used):

* ``csbm_1e7_generate_seconds``, ``csbm_1e7_peak_rss_gb``: one ``gbench.generators.generate``
  of a CSBM graph (default 10^7 nodes, mean degree 10: ~5*10^7 undirected edges, 10^8
  edge_index columns; 64 float32 features). It runs in a fresh interpreter that has imported
  numpy and gbench.generators only (not torch), and the peak resident set is that process's
  ``ru_maxrss`` read right after the call: the generator's own peak plus the interpreter.
  Targets: 120 s and 16 GB.
* ``sgc_precompute_1e7_seconds``: SGC's precomputation ``powers(graph, graph.x, 2,
  norm="sym", self_loops=True)`` on that graph, in the same process afterwards (generating
  10^7 nodes twice would double the script's time), the adjacency already built;
  ``sgc_adjacency_1e7_seconds`` is that build (``Graph.adj`` plus the engine's int32 twin),
  which the first ``powers`` call of a model would otherwise include.
* ``gcn_epoch_seconds_1e6``: the median over ``--epochs`` epochs, after ``--warmup`` ones
  (the first builds the transpose used by the backward pass), of one training step of the
  shipped ``gcn`` baseline with its default configuration (the paper's 2-layer model, hidden
  64), exactly as gbench's trainer runs it: zero_grad, forward on the training view, cross
  entropy on the training nodes, backward, Adam step. The graph has 10^6 nodes and mean
  degree 20: 10^7 undirected edges, 2*10^7 edge_index columns (perf/generators.py's
  ``csbm_1e6`` graph; ``--deg-medium 10`` gives 10^7 columns instead).

* ``memory_estimate_error``: the scale suite's jobs (``tasks/suites/scale.toml``: each task of
  ``--scale-tasks`` with each of the suite's models) run by ``gbench run``'s runner, sandboxed
  children and all, on the default configuration, one seed and ``--suite-epochs`` epochs (the
  peak comes in the first epoch; the task specs are copied with only that changed). The
  largest |estimate - measured peak| / measured peak over the jobs that ran; the jobs refused
  as over the free memory are listed with their reason (``scale_refused``).

Each size runs in its own subprocess, so the two graphs never share memory and the peaks are
per graph. Graphs are built as ``gbench.data.load`` builds a generated one (one random split
instead of ten; the audit is skipped). Generation is numpy on the CPU whatever ``--device``
is; the graph then moves to the device.

    python perf/large.py [--device cpu|cuda] [--nodes-large 1e7] [--nodes-medium 1e6]
    python perf/large.py --nodes-large 1e5 --nodes-medium 1e4     # a smoke run, seconds

Lines are printed as figures are measured; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # torch is imported only after the generator's peak memory is read
    from gbench.generators import SyntheticGraph
    from gbench.graph import Graph

GENERATE_TARGET_S = 120.0
RSS_TARGET_GB = 16.0
Figures = dict[str, Any]


def peak_rss_gb() -> float:
    """This process's peak resident set so far (Linux reports ru_maxrss in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20


def say(line: str) -> None:
    print(line, flush=True)


def csbm_name(args: argparse.Namespace, n: int, deg: float) -> str:
    return (
        f"csbm:n={n},deg={deg:g},h={args.h:g},classes={args.classes},dim={args.features},"
        f"snr={args.snr:g},seed={args.seed}"
    )


def generation(name: str) -> tuple[SyntheticGraph, Figures]:
    """Generate ``name`` once: seconds and the process's peak resident set right after."""
    from gbench.generators import generate

    start = time.perf_counter()
    g = generate(name)
    seconds = time.perf_counter() - start
    rss = peak_rss_gb()
    say(
        f"generate {name}: {g.num_edges:,} undirected edges, {seconds:.1f} s, "
        f"peak RSS {rss:.2f} GB (targets {GENERATE_TARGET_S:.0f} s, {RSS_TARGET_GB:.0f} GB)"
    )
    return g, {
        "csbm_1e7_generate_seconds": round(seconds, 2),
        "csbm_1e7_peak_rss_gb": round(rss, 2),
        "csbm_1e7_undirected_edges": g.num_edges,
    }


def as_graph(g: SyntheticGraph, name: str, device: str) -> Graph:
    """The ``Graph`` gbench.data.load makes of a generated graph, with one split, on ``device``."""
    import dataclasses

    import torch

    from gbench.data import card
    from gbench.data.splits import random_splits
    from gbench.graph import Graph

    c = card(name)
    graph = Graph(
        x=torch.from_numpy(g.x),
        y=torch.from_numpy(g.y),
        edge_index=torch.from_numpy(g.edge_index),
        num_classes=g.num_classes,
        splits=random_splits(g.y, dataclasses.replace(c.splits, count=1)),
        directed=False,
        metric=c.metric,
        name=c.name,
    )
    return graph if device == "cpu" else graph.to(device)


def device_peak(device: str) -> Figures:
    """On a GPU, the peak memory allocated there so far (the RSS figures are host memory)."""
    import torch

    if device != "cuda":
        return {}
    return {"device_peak_gb": round(torch.cuda.max_memory_allocated() / 2**30, 2)}


def seconds_of(fn: Callable[[], object], device: str) -> float:
    """Wall time of ``fn()`` on ``device`` (gbench's timing protocol: synchronised clocks)."""
    import torch

    from gbench.timing import timed

    with timed(torch.device(device)) as t:
        fn()
    return t.seconds


def sgc_precompute(graph: Graph, device: str) -> Figures:
    """K=2 propagations of the features: the adjacency build, then ``powers`` alone."""
    from gbench import propagation as P

    adj_s = seconds_of(lambda: P.operator(graph, "sym", True), device)
    say(f"sgc: adjacency (sym, self-loops, engine twin) built in {adj_s:.1f} s")
    out: list[Any] = []
    prop_s = seconds_of(
        lambda: out.extend(P.powers(graph, graph.x, 2, norm="sym", self_loops=True)), device
    )
    assert len(out) == 3 and tuple(out[2].shape) == tuple(graph.x.shape)
    rss = peak_rss_gb()
    say(
        f"sgc: powers K=2 of {graph.num_features} features in {prop_s:.1f} s "
        f"({adj_s + prop_s:.1f} s with the adjacency); process peak RSS {rss:.2f} GB"
    )
    return {
        "sgc_precompute_1e7_seconds": round(prop_s, 2),
        "sgc_adjacency_1e7_seconds": round(adj_s, 2),
        "sgc_precompute_with_adjacency_1e7_seconds": round(adj_s + prop_s, 2),
        "sgc_process_peak_rss_gb": round(rss, 2),
        **{f"sgc_{k}": v for k, v in device_peak(device).items()},
    }


def gcn_epochs(graph: Graph, device: str, epochs: int, warmup: int) -> Figures:
    """Training steps of the shipped gcn baseline as ``gbench.models.train`` runs them."""
    import torch
    import torch.nn.functional as F

    from gbench.models import GraphInfo, get
    from gbench.models.backends import to_backend
    from gbench.models.space import defaults
    from gbench.models.train import seeded

    seeded(0, device)
    plugin = get("gcn")()
    params = defaults(plugin.space)
    view = graph.training_view()
    module = plugin.build(GraphInfo.of(view), params).to(view.device)
    opt = plugin.optimizer(module, params) or torch.optim.Adam(
        module.parameters(), lr=params["lr"], weight_decay=params.get("weight_decay", 0.0)
    )
    model_input = to_backend(plugin, view)
    train_idx, train_y = view.train_idx, view.y[view.train_idx]
    adj_s = seconds_of(lambda: graph.adj("sym", self_loops=True), device)
    say(f"gcn: adjacency built in {adj_s:.1f} s; params {params}")

    def step() -> None:
        module.train()
        opt.zero_grad()
        loss = F.cross_entropy(module(model_input)[train_idx], train_y)
        loss.backward()
        opt.step()

    times = []
    for epoch in range(warmup + epochs):
        times.append(seconds_of(step, device))
        kind = "warm-up" if epoch < warmup else "timed"
        say(f"gcn: epoch {epoch + 1} ({kind}) {times[-1]:.3f} s")
    median = statistics.median(times[warmup:])
    say(f"gcn: median epoch {median:.3f} s over {epochs} after {warmup} warm-up")
    return {
        "gcn_epoch_seconds_1e6": round(median, 4),
        "gcn_epoch_seconds_1e6_all": [round(t, 4) for t in times],
        "gcn_adjacency_1e6_seconds": round(adj_s, 2),
        "gcn_params": params,
        "gcn_process_peak_rss_gb": round(peak_rss_gb(), 2),
        **{f"gcn_{k}": v for k, v in device_peak(device).items()},
    }


def child_large(args: argparse.Namespace) -> Figures:
    """In a fresh process: generate the large graph, then SGC's precomputation on it."""
    name = csbm_name(args, args.nodes_large, args.deg_large)
    g, figures = generation(name)
    graph = as_graph(g, name, args.device)
    del g
    return {**figures, **sgc_precompute(graph, args.device)}


def child_medium(args: argparse.Namespace) -> Figures:
    """In a fresh process: generate the medium graph, then time GCN epochs on it."""
    from gbench.generators import generate

    name = csbm_name(args, args.nodes_medium, args.deg_medium)
    g = generate(name)
    say(f"generate {name}: {g.num_edges:,} undirected edges")
    graph = as_graph(g, name, args.device)
    del g
    figures = gcn_epochs(graph, args.device, args.epochs, args.warmup)
    return {"gcn_undirected_edges": graph.num_edges // 2, **figures}


JOB_FIGURES = ("task", "model", "peak_memory_mb", "memory_estimate_mb", "memory_estimate_error")
JOB_FIGURES += ("epoch_seconds", "test_score")


def child_suite(args: argparse.Namespace) -> Figures:
    """In a fresh process: the scale suite's jobs through the runner, estimate against peak."""
    import tempfile

    from gbench.resources import folder
    from gbench.runner.bench import Benchmark
    from gbench.runner.results import rows
    from gbench.tasks import load_suite

    models = list(load_suite("scale").models)
    refused: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="gbench-large-") as tmp:
        tasks = Path(tmp) / "tasks"
        shutil.copytree(folder("tasks"), tasks)
        names = [t.strip() for t in args.scale_tasks.split(",") if t.strip()]
        for name in names:
            spec = tasks / f"{name}.toml"
            text = re.sub(
                r"max_epochs = \d+", f"max_epochs = {args.suite_epochs}", spec.read_text()
            )
            spec.write_text("seeds = [0]\n" + text)
        body = ", ".join(f'"{n}"' for n in names)
        (tasks / "suites" / "large.toml").write_text(
            f'name = "large"\nversion = 1\ntasks = [{body}]\n'
        )
        os.environ["GBENCH_TASKS_DIR"] = str(tasks)

        def log(line: str) -> None:
            say(line)
            if "needs an estimated" in line:
                refused[line.split(":", 1)[0]] = line.split(": failed: ", 1)[-1]

        uri = f"sqlite:///{tmp}/runs.db"
        Benchmark("large", models, uri, {}, args.device, log=log, progress=False).run()
        jobs = rows(uri)
    for r in jobs:
        say(
            f"{r['task']} / {r['model']}: peak {r['peak_memory_mb']:,.0f} MiB, estimate "
            f"{r['memory_estimate_mb']:,.0f} MiB, error {r['memory_estimate_error']:+.3f}, "
            f"{r['epoch_seconds']:.2f} s/epoch"
        )
    errors = [abs(r["memory_estimate_error"]) for r in jobs]
    return {
        "memory_estimate_error": round(max(errors), 3) if errors else None,
        "scale_jobs": [{k: r[k] for k in JOB_FIGURES} for r in jobs],
        "scale_refused": refused,
    }


CHILDREN: dict[str, Callable[[argparse.Namespace], Figures]] = {
    "large": child_large,
    "medium": child_medium,
    "suite": child_suite,
}


def spawn(part: str, argv: list[str]) -> Figures:
    """Run ``CHILDREN[part]`` in a fresh interpreter, echoing its lines; its last line's JSON."""
    cmd = [sys.executable, os.path.abspath(__file__), *argv, "--child", part]
    with subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True) as proc:
        assert proc.stdout is not None
        last = ""
        for line in proc.stdout:
            if last:
                print(last, end="", flush=True)
            last = line
    if proc.returncode:
        raise SystemExit(f"{part} part failed (exit {proc.returncode})")
    return json.loads(last)


def count(text: str) -> int:
    """An integer flag that may be written as 1e7."""
    return int(float(text))


def parser() -> argparse.ArgumentParser:
    assert __doc__ is not None
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--nodes-large", type=count, default=10_000_000)
    ap.add_argument("--deg-large", type=float, default=10.0)
    ap.add_argument("--nodes-medium", type=count, default=1_000_000)
    ap.add_argument("--deg-medium", type=float, default=20.0)
    ap.add_argument("--features", type=int, default=64)
    ap.add_argument("--classes", type=int, default=5)
    ap.add_argument("--h", type=float, default=0.5, help="edge homophily")
    ap.add_argument("--snr", type=float, default=1.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--epochs", type=int, default=5, help="timed GCN epochs")
    ap.add_argument("--warmup", type=int, default=2, help="GCN epochs before the timed ones")
    ap.add_argument("--scale-tasks", default="scale-csbm-1e5,scale-csbm-1e6,scale-csbm-1e7")
    ap.add_argument("--suite-epochs", type=int, default=2, help="epochs of each scale job")
    ap.add_argument("--skip", default="", help="comma-separated parts to skip: large,medium,suite")
    ap.add_argument("--child", choices=sorted(CHILDREN), help=argparse.SUPPRESS)
    return ap


def main() -> None:
    args = parser().parse_args()
    if args.child:
        print(json.dumps(CHILDREN[args.child](args)), flush=True)
        return
    if args.device == "cuda":
        import torch

        if not torch.cuda.is_available():
            raise SystemExit("--device cuda: no CUDA device is available")
    started = time.perf_counter()
    say(
        f"# gbench at large sizes: device {args.device}, {os.cpu_count()} CPUs; large "
        f"n={args.nodes_large:,} deg={args.deg_large:g}, medium n={args.nodes_medium:,} "
        f"deg={args.deg_medium:g}, {args.features} features"
    )
    argv = [a for a in sys.argv[1:] if a != "--child"]
    skipped = {s.strip() for s in args.skip.split(",") if s.strip()}
    summary: Figures = {
        "device": args.device,
        "nodes_large": args.nodes_large,
        "deg_large": args.deg_large,
        "nodes_medium": args.nodes_medium,
        "deg_medium": args.deg_medium,
        "features": args.features,
        "gcn_definition": "median training step (zero_grad, forward, loss, backward, Adam) of "
        f"the gcn baseline's defaults on n={args.nodes_medium:g}, deg={args.deg_medium:g}: "
        f"{args.nodes_medium * args.deg_medium / 2:g} undirected edges expected",
    }
    for part in CHILDREN:
        if part not in skipped:
            summary.update(spawn(part, argv))
    if "csbm_1e7_generate_seconds" in summary:
        summary["csbm_1e7_within_targets"] = (
            summary["csbm_1e7_generate_seconds"] <= GENERATE_TARGET_S
            and summary["csbm_1e7_peak_rss_gb"] <= RSS_TARGET_GB
        )
    summary["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
