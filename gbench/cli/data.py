"""``gbench data``: list, show, import, download and generate datasets."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from gbench.cli.options import format_option
from gbench.cli.output import emit, table
from gbench.errors import GbenchError

LIST_COLUMNS = [
    "name",
    "family",
    "nodes",
    "edges",
    "classes",
    "features",
    "edge_homophily",
    "adjusted_homophily",
    "metric",
    "splits",
    "present",
]


@click.group()
def data() -> None:
    """Datasets: what exists, what is local, what it contains."""


def _row(name: str) -> dict[str, Any]:
    from gbench.data import info

    i = info(name)
    m = i["measured"] or {}
    source = m or i["published"]
    return {
        "name": name,
        "family": i["family"],
        "nodes": source.get("nodes"),
        "edges": source.get("edges"),
        "classes": source.get("classes"),
        "features": source.get("features"),
        "edge_homophily": m.get("measures", {}).get("edge_homophily"),
        "adjusted_homophily": m.get("measures", {}).get("adjusted_homophily"),
        "metric": i["metric"],
        "splits": i["splits"]["count"],
        "present": i["present"],
        "measured": bool(m),
    }


@data.command("list")
@format_option()
def list_(fmt: str) -> None:
    """Every registered dataset; counts are measured where loaded, else published."""
    from gbench.data import names

    rows = [_row(n) for n in names()]
    emit(rows, fmt, table(rows, LIST_COLUMNS))


@data.command()
@click.argument("name")
@format_option()
def show(name: str, fmt: str) -> None:
    """The card of NAME, with its audit (measured now if its files are present)."""
    from gbench.data import info, load

    i = info(name)
    if i["measured"] is None and i["present"]:
        click.echo(f"auditing {name} (first load)...", err=True)
        load(name)
        i = info(name)
    emit(i, fmt, _card_text(i))


def _card_text(i: dict[str, Any]) -> str:
    lines = [f"{i['name']}: {i['title']}"]
    for key in ("family", "task", "metric", "directed", "source", "licence", "citation", "url"):
        if i.get(key) not in (None, ""):
            lines.append(f"  {key:<10} {i[key]}")
    sp = i["splits"]
    lines.append(f"  {'splits':<10} {sp['count']} ({sp['kind']}): {sp['protocol']}")
    if i["published"]:
        pub = ", ".join(f"{k}={v}" for k, v in i["published"].items())
        lines.append(f"  {'published':<10} {pub}")
    if i.get("notes"):
        lines.append(f"  {'notes':<10} {i['notes']}")
    lines.append(f"  {'files':<10} {len(i['files'])} raw file(s), present locally: {i['present']}")
    for f in i["files"]:
        lines.append(f"    {f['path']}  {f['bytes']:,} B  sha256 {f['sha256']}")
    for a in i["archives"]:
        lines.append(f"  {'archive':<10} {a['url']}  {a['bytes']:,} B  sha256 {a['sha256']}")
    m = i["measured"]
    if m is None:
        lines.append("  measured   not yet (load it once: files are needed)")
        return "\n".join(lines)
    lines.append(f"  {'content':<10} sha256 {m['content_sha256']}")
    lines.append(
        f"  {'measured':<10} nodes={m['nodes']:,} edges={m['edges']:,} "
        f"classes={m['classes']} features={m['features']}"
    )
    for k, v in m["measures"].items():
        lines.append(f"    {k:<28} {v:.4f}" if isinstance(v, float) else f"    {k:<28} {v}")
    a = m["audit"]
    lines.append("  audit")
    lines.append(
        f"    duplicate nodes            {a['duplicate_nodes']} in {a['duplicate_groups']} groups"
    )
    lines.append(f"    same-neighbourhood nodes   {a['same_neighbourhood_nodes']}")
    lines.append(f"    class counts               {a['class_counts']}")
    if a["classes_below_min_size"]:
        lines.append(f"    classes below {a['min_class_size']:<12} {a['classes_below_min_size']}")
    lines.append(f"    self-loops                 {a['self_loops']}")
    lines.append(f"    edges symmetric            {a['edges_symmetric']}")
    lines.append(f"    unlabelled nodes           {a['unlabelled_nodes']}")
    for s in a.get("shared_raw_files", []):
        lines.append(f"    shares raw file            {s['file']} == {s['dataset']}:{s['same_as']}")
    for k, s in enumerate(a["splits"]):
        lines.append(
            f"    split {k:<2} sizes={s['sizes']} disjoint={s['disjoint']} "
            f"coverage={s['coverage']:.3f} train-test twins={s['train_test_twins']} "
            f"sha256 {s['sha256'][:16]}"
        )
    return "\n".join(lines)


@data.command("import")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--no-audit", is_flag=True, help="Copy only; audit on first load instead.")
@format_option()
def import_(path: Path, no_audit: bool, fmt: str) -> None:
    """Copy raw files from PATH (laid out like shared/datasets) into the data root."""
    from tqdm import tqdm

    from gbench.data import data_root, import_folder, load

    imported, incomplete = import_folder(path)
    if not no_audit:
        for name in tqdm(imported, desc="auditing", unit="dataset", disable=None):
            load(name)
    result = {"root": str(data_root()), "imported": imported, "incomplete": incomplete}
    human = [f"imported {len(imported)} dataset(s) into {data_root()}: {', '.join(imported)}"]
    human += [f"skipped {n}: missing {', '.join(m)}" for n, m in incomplete.items()]
    emit(result, fmt, "\n".join(human))


@data.command()
@click.argument("names", nargs=-1, required=True)
def download(names: tuple[str, ...]) -> None:
    """Fetch NAMES with their own libraries (needs the network)."""
    from gbench.data import load

    for name in names:
        load(name, download=True)
        click.echo(f"{name}: downloaded and verified")


@data.command()
@click.argument("kind")
@click.option("--nodes", "n", type=int, help="Number of nodes.")
@click.option("--degree", "deg", type=float, help="Target mean degree.")
@click.option("--homophily", "h", type=float, help="Target edge homophily (csbm).")
@click.option("--classes", type=int, help="Number of classes.")
@click.option("--features", "dim", type=int, help="Feature dimension.")
@click.option("--snr", type=float, help="Feature signal-to-noise ratio.")
@click.option("--seed", type=int, help="Random seed.")
@click.option("--param", "extra", multiple=True, metavar="KEY=VALUE", help="Any other parameter.")
@format_option()
def generate(kind: str, extra: tuple[str, ...], fmt: str, **opts: Any) -> None:
    """Build a KIND graph (csbm, rsn, rgg) and print its measured statistics and time."""
    from gbench import generators, measures

    params = {k: v for k, v in opts.items() if v is not None}
    for item in extra:
        key, sep, value = item.partition("=")
        if not sep:
            raise GbenchError(f"--param {item!r}: expected KEY=VALUE")
        params[key] = value
    spec = f"{kind}:" + ",".join(f"{k}={v}" for k, v in params.items())
    try:
        start = time.perf_counter()
        g = generators.generate(spec)
        seconds = time.perf_counter() - start
    except ValueError as err:
        raise GbenchError(str(err)) from None
    stats = measures.summary(g.edge_index, g.y, len(g.y))
    result = {
        "name": g.name,
        "nodes": len(g.y),
        "edges": int(g.edge_index.shape[1]),
        "classes": g.num_classes,
        "features": int(g.x.shape[1]),
        "seconds": round(seconds, 4),
        **stats,
    }
    human = "\n".join(
        f"{k:<28} {v:.4f}" if isinstance(v, float) else f"{k:<28} {v}" for k, v in result.items()
    )
    emit(result, fmt, human)
