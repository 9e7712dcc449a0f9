"""Time gbench's CSBM and RSN generators against networkx and PyG at the same sizes.

Run manually (not part of the tests):  python perf/generators.py [--limit 60]

Every size doubles from 1,250 nodes; a method stops once a run exceeds the time limit, or
once its next run is predicted (from its own growth over the last two sizes) to exceed the
limit or the memory cap; such a run is not started, which keeps the whole script under ~10
minutes ("largest n within the limit" is then the largest measured one). PyG's SBM builds all
n^2/2 pairs, so the memory cap stops it first. Each run is a fresh subprocess, so peak memory
is per run and a stuck run can be killed. Sub-second runs are repeated and the median kept.
The last line printed is one JSON object.

Matched models (mean degree 10, 5 equal classes, 32-dim features for gbench):
- SBM: gbench ``csbm`` (h=0.5) vs ``networkx.stochastic_block_model(sparse=True)`` and
  ``torch_geometric.utils.stochastic_blockmodel_graph`` with p_in, p_out giving the same
  expected intra and inter edge counts.
- Spatial: gbench ``rsn`` (exp kernel, length L = 2/sqrt(n), two node spacings) vs
  ``networkx.soft_random_geometric_graph`` with p(r) = A*exp(-r/L) cut at r = 4L, A set for
  mean degree 10 (networkx only looks at pairs within the cut, so a local kernel is what
  keeps it feasible).
gbench times include labels and features; networkx/PyG produce edges only.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import statistics
import subprocess
import sys
import time

DEG = 10.0
CLASSES = 5
H = 0.5
SIZES = [1250 * 2**k for k in range(15)]  # 1,250 .. 20,480,000
METHODS = ["gbench.csbm", "networkx.sbm", "pyg.sbm", "gbench.rsn", "networkx.soft_rgg"]
BASELINE = {
    "networkx.sbm": "gbench.csbm",
    "pyg.sbm": "gbench.csbm",
    "networkx.soft_rgg": "gbench.rsn",
}
MEMORY_CAP_MB = 8192.0
BUDGET_S = 540.0  # stop starting new runs after this much wall time


def sbm_probs(n: int) -> tuple[list[int], list[list[float]]]:
    size = n // CLASSES
    sizes = [size] * CLASSES
    m = n * DEG / 2
    p_in = H * m / (CLASSES * size * (size - 1) / 2)
    p_out = (1 - H) * m / (CLASSES * (CLASSES - 1) / 2 * size * size)
    return sizes, [[p_in if i == j else p_out for j in range(CLASSES)] for i in range(CLASSES)]


def length_scale(n: int) -> float:
    return 2.0 / math.sqrt(n)


def build(method: str, n: int, deg: float = DEG):
    """Return a callable generating one graph, and a function counting its undirected edges."""
    if method == "gbench.csbm":
        from gbench.generators import generate

        return lambda: generate("csbm", n=n, deg=deg, h=H, classes=CLASSES), lambda g: g.num_edges
    if method == "gbench.rsn":
        from gbench.generators import generate

        scale = length_scale(n)
        return (
            lambda: generate("rsn", n=n, deg=deg, classes=CLASSES, kernel="exp", decay=scale),
            lambda g: g.num_edges,
        )
    if method == "networkx.sbm":
        import networkx as nx

        sizes, probs = sbm_probs(n)
        return (
            lambda: nx.stochastic_block_model(sizes, probs, seed=0, sparse=True),
            lambda g: g.number_of_edges(),
        )
    if method == "networkx.soft_rgg":
        import networkx as nx

        scale = length_scale(n)
        cut = 4 * scale
        mass = 1 - math.exp(-4) * 5  # share of the 2D exp kernel within 4 length scales
        amp = deg / (n * 2 * math.pi * scale * scale * mass)
        return (
            lambda: nx.soft_random_geometric_graph(
                n, cut, dim=2, p_dist=lambda r: amp * math.exp(-r / scale), seed=0
            ),
            lambda g: g.number_of_edges(),
        )
    if method == "pyg.sbm":
        import torch
        from torch_geometric.utils import stochastic_blockmodel_graph

        torch.manual_seed(0)
        sizes, probs = sbm_probs(n)
        return (
            lambda: stochastic_blockmodel_graph(sizes, probs),
            lambda ei: int(ei.shape[1]) // 2,
        )
    raise ValueError(f"unknown method {method!r}")


def run_one(method: str, n: int, deg: float, repeat_below: float, limit: float) -> dict:
    """Time one method at one size in this process; the result is printed as JSON."""
    make, count = build(method, n, deg)
    times: list[float] = []
    edges = 0
    while True:
        start = time.perf_counter()
        graph = make()
        times.append(time.perf_counter() - start)
        edges = count(graph)
        del graph
        if times[-1] >= repeat_below or len(times) >= 5 or sum(times) > limit:
            break
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {
        "seconds": statistics.median(times),
        "runs": len(times),
        "edges": edges,
        "peak_mb": peak_mb,
    }


def spawn(method: str, n: int, limit: float, deg: float = DEG, repeat_below: float = 1.0):
    """Run ``run_one`` in a fresh interpreter; None if it was killed past the limit."""
    cmd = [
        sys.executable,
        os.path.abspath(__file__),
        "--one",
        method,
        str(n),
        "--deg",
        str(deg),
        "--limit",
        str(limit),
        "--repeat-below",
        str(repeat_below),
    ]
    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=limit + 30, check=True)
    except subprocess.TimeoutExpired:
        return None
    except subprocess.CalledProcessError as err:
        tail = (err.stderr or "").strip().splitlines()[-1:] or ["?"]
        return {"error": tail[0]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def available_mb() -> float:
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 16384.0


def grow(method: str, limit: float, started: float) -> tuple[dict[int, dict], str]:
    """Run ``method`` at doubling sizes; return the results and why it stopped."""
    results: dict[int, dict] = {}
    cap = min(MEMORY_CAP_MB, 0.5 * available_mb())
    for n in SIZES:
        done = [k for k in results if "seconds" in results[k]]
        if len(done) >= 2:
            a, b = results[done[-2]], results[done[-1]]
            growth = min(max(b["seconds"] / max(a["seconds"], 1e-6), 1.8), 6.0)
            predicted = b["seconds"] * growth
            step = b["peak_mb"] - a["peak_mb"]
            before = a["peak_mb"] - results[done[-3]]["peak_mb"] if len(done) >= 3 else 0.0
            step_growth = min(max(step / before, 2.0), 4.0) if before > 0 else 2.0
            predicted_mb = b["peak_mb"] + max(step, 0.0) * step_growth
            if predicted > limit:
                return results, f"next size {n:,} predicted {predicted:.0f}s > limit, not run"
            if predicted_mb > cap:
                return (
                    results,
                    f"next size {n:,} predicted {predicted_mb:,.0f} MB > cap {cap:,.0f} MB",
                )
        if time.perf_counter() - started > BUDGET_S:
            return results, "script time budget spent"
        res = spawn(method, n, limit)
        if res is None:
            print(f"{method:<18} n={n:>11,}  killed after {limit:.0f}s", flush=True)
            return results, f"n={n:,} exceeded {limit:.0f}s (killed)"
        if "error" in res:
            print(f"{method:<18} n={n:>11,}  failed: {res['error']}", flush=True)
            return results, f"n={n:,} failed: {res['error']}"
        results[n] = res
        print(
            f"{method:<18} n={n:>11,}  edges={res['edges']:>12,}  {res['seconds']:9.3f}s"
            f"  (median of {res['runs']})  peak {res['peak_mb']:,.0f} MB",
            flush=True,
        )
        if res["seconds"] > limit:
            return results, f"n={n:,} took {res['seconds']:.0f}s > {limit:.0f}s"
    return results, "all sizes done"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=float, default=60.0, help="seconds per run")
    parser.add_argument("--one", nargs=2, metavar=("METHOD", "N"), help=argparse.SUPPRESS)
    parser.add_argument("--deg", type=float, default=DEG, help=argparse.SUPPRESS)
    parser.add_argument("--repeat-below", type=float, default=1.0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        method, n = args.one
        print(json.dumps(run_one(method, int(n), args.deg, args.repeat_below, args.limit)))
        return

    started = time.perf_counter()
    print(
        f"# gbench generators vs networkx / PyG: mean degree {DEG:g}, {CLASSES} classes, "
        f"limit {args.limit:.0f}s per run, {os.cpu_count()} CPUs",
        flush=True,
    )

    # The headline: 10^6 nodes, deg=20 -> 10^7 undirected edges (2*10^7 edge_index columns).
    big = spawn("gbench.csbm", 1_000_000, args.limit, deg=20.0, repeat_below=1e9)
    big10 = spawn("gbench.csbm", 1_000_000, args.limit, deg=10.0, repeat_below=1e9)
    for label, res in (("deg=20", big), ("deg=10", big10)):
        if res and "seconds" in res:
            print(
                f"gbench.csbm        n=  1,000,000  {label}: edges={res['edges']:,} undirected "
                f"({2 * res['edges']:,} columns) {res['seconds']:.2f}s (median of "
                f"{res['runs']}) peak {res['peak_mb']:,.0f} MB",
                flush=True,
            )

    results: dict[str, dict[int, dict]] = {}
    reasons: dict[str, str] = {}
    for method in METHODS:
        results[method], reasons[method] = grow(method, args.limit, started)
        print(f"{method:<18} stopped: {reasons[method]}", flush=True)

    print("# ratios (their time / gbench time) at equal n")
    ratios: dict[str, dict[int, float]] = {}
    for method, base in BASELINE.items():
        ratios[method] = {}
        for n, res in results[method].items():
            ours = results[base].get(n)
            if ours and ours["seconds"] > 0:
                ratios[method][n] = res["seconds"] / ours["seconds"]
                print(f"{method:<18} / {base:<12} n={n:>9,}  {ratios[method][n]:8.1f}x")
    largest: dict[str, int | None] = {}
    for method in METHODS:
        within = [n for n, res in results[method].items() if res["seconds"] <= args.limit]
        largest[method] = max(within) if within else None
        shown = f"{largest[method]:,}" if largest[method] else "none"
        print(f"largest n within {args.limit:.0f}s  {method:<18} {shown:>12}  ({reasons[method]})")

    def ratio(method: str, n: int) -> float | None:
        value = ratios.get(method, {}).get(n)
        return round(value, 1) if value is not None else None

    summary = {
        "csbm_1e6_seconds": round(big["seconds"], 3) if big and "seconds" in big else None,
        "csbm_1e6_undirected_edges": big.get("edges") if big else None,
        "csbm_1e6_definition": "n=1e6, deg=20: 1e7 undirected edges = 2e7 edge_index columns; "
        "time includes labels and 32-dim features",
        "csbm_1e6_deg10_seconds": round(big10["seconds"], 3)
        if big10 and "seconds" in big10
        else None,
        "speedup_vs_networkx_20k": ratio("networkx.sbm", 20_000),
        "rsn_speedup_vs_networkx_soft_rgg_20k": ratio("networkx.soft_rgg", 20_000),
        "speedup_vs_pyg_10k": ratio("pyg.sbm", 10_000),
        "largest_n_within_limit": largest,
        "stop_reason": reasons,
        "limit_seconds": args.limit,
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
