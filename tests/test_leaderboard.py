"""The static leaderboard: built from a real small run plus submission bundles, opened in a
real headless Chromium from file://, escaped, byte-for-byte deterministic, and its
statistics checked against hand-computed values."""

from __future__ import annotations

import html as markup
import json
import math
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner
from scipy import stats as sps

from gbench import models
from gbench.cli.main import cli
from gbench.errors import GbenchError
from gbench.leaderboard import stats
from gbench.leaderboard.inputs import from_bundles
from gbench.leaderboard.plots import pareto_front
from gbench.leaderboard.render import Site, write
from gbench.leaderboard.render import build as render
from gbench.runner.bench import Benchmark

CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = "<script>alert(1)</script>"
TASK = """name = "{name}"
version = 1
dataset = "{dataset}"
splits = [0, 1, 2]

[budget]
trials = 2
max_epochs = 30
patience = 10
seconds_per_trial = 30
max_parameters = 100000
search_seed = 0
warmup_epochs = 1
"""
HS = ("0.2", "0.5", "0.8")


@dataclass
class Store:
    uri: str
    tasks: Path
    data: Path
    submissions: Path
    tmp: Path

    def env(self) -> dict[str, str]:
        return {"GBENCH_TASKS_DIR": str(self.tasks), "GBENCH_DATA_DIR": str(self.data)}


def write_tasks(root: Path) -> Path:
    """A three-task CSBM sweep (h = 0.2, 0.5, 0.8) as the suite ``mini``."""
    (root / "suites").mkdir(parents=True)
    for h in HS:
        dataset = csbm(h)
        (root / f"mini-h{h}.toml").write_text(TASK.format(name=f"mini-h{h}", dataset=dataset))
    tasks = ", ".join(f'"mini-h{h}"' for h in HS)
    (root / "suites" / "mini.toml").write_text(
        f'name = "mini"\nversion = 1\ndescription = "A tiny CSBM sweep."\ntasks = [{tasks}]\n'
    )
    return root


def bundle(name: str, source: str, base: float, paper: str, family: str = "gnn") -> dict:
    """A submission bundle on the mini suite: fixed scores rising with h."""
    results = [
        {
            "suite": "mini",
            "task": f"mini-h{h}",
            "task_version": 1,
            "split": split,
            "seed": 0,
            "metric": "accuracy",
            "test_score": round(base + 0.3 * float(h) + 0.01 * split, 4),
            "source": source,
            "num_parameters": 1234,
            "train_seconds": 0.5 + 0.1 * split,
            "device": "cuda",
            "gpu": "NVIDIA H100",
            "cpu": "AMD EPYC",
            "config": {"lr": 0.01, "hops": 3},
        }
        for h in HS
        for split in range(3)
    ]
    meta = {
        "name": name,
        "version": "0.1",
        "family": family,
        "authors": ["E. Vil"],
        "paper": paper,
        "code": "https://example.org/code",
        "licence": "MIT",
        "citation": f"{name}. 2026.",
        "space": {"lr": {"type": "log-float", "low": 0.001, "high": 0.1, "default": 0.01}},
    }
    return {"model": meta, "results": results}


def csbm(h: str) -> str:
    return f"csbm:n=150,deg=5,h={h},classes=3,dim=8,snr=1.5,seed=0"


def described(b: dict, datasets: dict[str, dict], on: list[str]) -> None:
    """Give bundle ``b`` the suite, task and dataset facts `gbench submit` writes: task i of
    the mini suite is on dataset ``on[i]`` (no dataset past the list's end)."""
    b["suite"] = {"name": "mini", "version": 1, "description": "A described suite."}
    b["tasks"] = [
        {"name": f"mini-h{h}", "version": 1, "metric": "accuracy", "dataset": dataset}
        for h, dataset in zip(HS, on + [""] * len(HS), strict=False)
    ]
    b["datasets"] = datasets


def build_from(tmp_path: Path, *bundles: dict) -> Path:
    """The site of ``bundles`` alone, built in this process."""
    subs, out = tmp_path / "subs", tmp_path / "site"
    subs.mkdir()
    for i, b in enumerate(bundles):
        (subs / f"{i}.json").write_text(json.dumps(b))
    render(from_bundles(subs), out)
    return out


def dataset_page(site: Path, name: str) -> Path:
    return site / Site.page_of("dataset", name)


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Store]:
    """mlp and gcn run for real into SQLite, plus a verified and a hostile self-reported
    bundle; the environment points at them for the whole module."""
    tmp = tmp_path_factory.mktemp("leaderboard")
    s = Store(
        f"sqlite:///{tmp / 'mlflow.db'}",
        write_tasks(tmp / "tasks"),
        tmp / "data",
        tmp / "submissions",
        tmp,
    )
    s.submissions.mkdir()
    evil = bundle(HOSTILE, "self-reported", 0.45, "javascript:alert(2)", family="<b>gnn</b>")
    (s.submissions / "evil.json").write_text(json.dumps(evil))
    hopper = bundle("hopper", "verified", 0.55, "https://arxiv.org/abs/0000.00000", "propagation")
    (s.submissions / "hopper.json").write_text(json.dumps(hopper))
    with pytest.MonkeyPatch.context() as mp:
        for k, v in s.env().items():
            mp.setenv(k, v)
        Benchmark("mini", ["mlp", "gcn"], s.uri, threads=1, log=print, progress=False).run()
        yield s


def build(store: Store, out: Path) -> dict:
    args = ["leaderboard", "build", "--tracking-uri", store.uri, "--format", "json"]
    args += ["--submissions", str(store.submissions), "--out", str(out)]
    result = CliRunner().invoke(cli, args, env=store.env(), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def site(store: Store) -> Path:
    out = store.tmp / "site"
    summary = build(store, out)
    assert summary["models"] == 4 and summary["tasks"] == 3 and summary["suites"] == 1
    assert summary["rows"] == 4 * 3 * 3  # models x tasks x splits
    assert summary["pages"] == len(list(out.rglob("*.html")))
    return out


# -- the statistics ------------------------------------------------------------------------
def test_tie_rule_against_hand_computed_values() -> None:
    best = [0.80, 0.82, 0.84, 0.86, 0.88]
    units = [(s, 0) for s in range(5)]

    def scores(values: list[float]) -> dict:
        return dict(zip(units, values, strict=True))

    # differences 0.01, 0.03, 0.02, 0.04, 0.00: mean 0.02, sd sqrt(0.001 / 4), so
    # t = 0.02 / (sd / sqrt 5) = 2 sqrt 2 on 4 degrees of freedom; p = 2 P(T4 > 2.828)
    below = [b - d for b, d in zip(best, [0.01, 0.03, 0.02, 0.04, 0.00], strict=True)]
    p_hand = 2 * sps.t.sf(2 * math.sqrt(2), 4)
    assert p_hand == pytest.approx(0.0474, abs=5e-4)
    tied = [b - d for b, d in zip(best, [0.01, -0.01, 0.02, -0.02, 0.0], strict=True)]
    result = stats.ties(
        {
            "best": scores(best),
            "below": scores(below),
            "tied": scores(tied),  # mean difference 0: t = 0, p = 1
            "same": scores(best),  # equal mean, but "best" wins the name tie-break
            "shifted": scores([b - 0.05 for b in best]),  # constant difference: never tied
            "one-split": {(0, 0): 0.5},
        }
    )
    assert result["best"].status == "best"
    # four tests: Holm multiplies the second smallest p-value (after "shifted"'s 0) by 3
    assert result["below"].p_raw == pytest.approx(p_hand)
    assert result["below"].p == pytest.approx(3 * p_hand) and result["below"].status == "tied"
    assert result["tied"].status == "tied" and result["tied"].p == pytest.approx(1.0)
    assert result["same"] == stats.Tie("tied", 1.0, 5, 1.0)
    assert result["shifted"] == stats.Tie("below", 0.0, 5, 0.0)
    assert result["one-split"] == stats.Tie("untested", None, 1)
    # alone against the best (one test, nothing to correct) the difference is significant ...
    alone = stats.ties({"best": scores(best), "x": scores(below)})["x"]
    assert alone.status == "below" and alone.p == pytest.approx(p_hand)
    # ... and at alpha 0.04 it is not
    assert stats.ties({"best": scores(best), "x": scores(below)}, alpha=0.04)["x"].status == "tied"
    # the best has the highest mean; a higher mean on fewer splits still wins
    assert stats.best_model({"a": {1: 0.5, 2: 0.5}, "b": {1: 0.6}}) == "b"
    assert stats.best_model({"b": {1: 0.5, 2: 0.5}, "a": {1: 0.5}}) == "b"  # more units


def test_ranks_share_ties() -> None:
    assert stats.ranks({"a": 0.9, "b": 0.7, "c": 0.9, "d": 0.1}) == {
        "a": 1.5,
        "b": 3.0,
        "c": 1.5,
        "d": 4.0,
    }


def test_critical_difference_matches_demsar_and_scipy() -> None:
    # Demšar (2006), Table 5(a): q_0.05 for k = 2..10 models
    table = [1.960, 2.343, 2.569, 2.728, 2.850, 2.949, 3.031, 3.102, 3.164]
    for k, q in enumerate(table, start=2):
        n = 14
        assert stats.nemenyi_cd(k, n) == pytest.approx(q * math.sqrt(k * (k + 1) / (6 * n)), 1e-3)
    assert stats.nemenyi_cd(4, 14) == pytest.approx(1.25, abs=0.005)  # Demšar's worked example
    scores = {  # 4 models over 5 tasks; higher is better
        "a": [0.90, 0.80, 0.85, 0.70, 0.95],
        "b": [0.85, 0.82, 0.80, 0.60, 0.90],
        "c": [0.70, 0.60, 0.75, 0.65, 0.70],
        "d": [0.60, 0.50, 0.55, 0.50, 0.60],
    }
    cd = stats.critical_difference(scores)
    # ranks per task: a 1,2,1,1,1  b 2,1,2,3,2  c 3,3,3,2,3  d 4,4,4,4,4
    assert cd.mean_ranks == {"a": 1.2, "b": 2.0, "c": 2.8, "d": 4.0}
    assert list(cd.mean_ranks) == ["a", "b", "c", "d"]
    assert cd.friedman_p == pytest.approx(sps.friedmanchisquare(*scores.values()).pvalue)
    assert cd.cd == pytest.approx(2.569 * math.sqrt(4 * 5 / (6 * 5)), 1e-3)  # 2.098
    # within 2.098: a-b (0.8), a-c (1.6), b-c, b-d (2.0), c-d; not a-d (2.8)
    assert cd.cliques == [["a", "b", "c"], ["b", "c", "d"]]
    assert stats.critical_difference({"a": [1, 2], "b": [0, 1]}).friedman_p is None  # k = 2


def test_pareto_front() -> None:
    points = [("fast", 1.0, 0.6), ("slow-good", 10.0, 0.9), ("dominated", 5.0, 0.5)]
    points.append(("mid", 3.0, 0.8))
    assert pareto_front(points) == ["fast", "mid", "slow-good"]


def test_bundle_errors_name_file_and_row(tmp_path: Path) -> None:
    good = bundle("m", "verified", 0.5, "https://example.org")
    bad = json.loads(json.dumps(good))
    del bad["results"][4]["test_score"]
    (tmp_path / "b.json").write_text(json.dumps(bad))
    with pytest.raises(GbenchError, match=r"b\.json: results\[4\]: test_score: field required"):
        from_bundles(tmp_path)
    bad = json.loads(json.dumps(good))
    bad["results"][0]["source"] = "gbench run"  # only the store holds gbench runs
    (tmp_path / "b.json").write_text(json.dumps(bad))
    with pytest.raises(GbenchError, match="source must be one of verified, self-reported"):
        from_bundles(tmp_path)
    bad = json.loads(json.dumps(good))
    bad["model"]["space"] = ["lr"]
    (tmp_path / "b.json").write_text(json.dumps(bad))
    with pytest.raises(GbenchError, match='"model" has space of the wrong type'):
        from_bundles(tmp_path)
    (tmp_path / "b.json").write_text("{not json")
    with pytest.raises(GbenchError, match="not a readable JSON bundle"):
        from_bundles(tmp_path)


def test_one_model_may_have_a_bundle_per_suite(tmp_path: Path) -> None:
    first = bundle("m", "verified", 0.5, "https://example.org")
    second = json.loads(json.dumps(first))
    for r in second["results"]:
        r["suite"] = "other"
    (tmp_path / "m-quick.json").write_text(json.dumps(first))
    (tmp_path / "m-other.json").write_text(json.dumps(second))
    inputs = from_bundles(tmp_path)
    assert len(inputs.rows) == 2 * len(first["results"])
    second["model"]["paper"] = "https://elsewhere.org"
    (tmp_path / "m-other.json").write_text(json.dumps(second))
    with pytest.raises(GbenchError, match="another bundle with different metadata"):
        from_bundles(tmp_path)


# -- the site ------------------------------------------------------------------------------
def test_site_pages_tables_and_downloads(site: Path) -> None:
    index = (site / "index.html").read_text()
    assert "Suite mini" in index and "3/3" in index and "mean rank" in index
    for source in ("gbench run", "verified", "self-reported"):
        assert source in index
    for page in ("models.html", "datasets.html", "suite/mini.html", "task/mini-h0.5.html"):
        assert (site / page).is_file(), page
    for model in ("mlp", "gcn", "hopper"):
        assert (site / "model" / f"{model}.html").is_file()
    card = markup.unescape((site / "model" / "gcn.html").read_text())  # the model card
    assert "arxiv.org/abs/1609.02907" in card and "github.com/tkipf/gcn" in card
    assert "Changes from the authors' implementation" in card
    for paragraph in models.info("gcn")["changes"].split("\n\n"):  # stated by the plugin
        assert f"<p>{paragraph}</p>" in card
    space = json.loads((site / "model" / "gcn.space.json").read_text())
    assert {r["name"] for r in space} >= {"layers", "residual", "norm", "jk", "io_linear"}
    assert len(list((site / "dataset").glob("*.html"))) == 3
    for page in (site / "dataset").glob("*.html"):  # the runner kept card, generator, measures
        data = page.read_text()
        assert "Contextual stochastic block model" in data and "Generator parameters" in data
        assert "edge homophily" in data and "content sha256" in data and "generator h" not in data
    suite = (site / "suite" / "mini.html").read_text()
    assert "Friedman test" in suite and "CD =" in suite and suite.count("<svg") == 5
    aggregated = json.loads((site / "suite" / "mini.aggregates.json").read_text())
    assert len(aggregated) == 4
    assert all(r["iqm_low"] <= r["iqm"] <= r["iqm_high"] for r in aggregated)
    assert len(json.loads((site / "suite" / "mini.improvement.json").read_text())) == 4 * 3
    assert "2000 resamples of each task's splits, seed 0" in suite  # the bootstrap, stated
    figures = re.findall(r'class="plot-figure".*?</figcaption>', index, re.S)  # the h sweep
    assert len(figures) == 1 and "tasks mini-h0.2, mini-h0.5, mini-h0.8</figcaption>" in figures[0]
    # every table downloads: each link points at a file beside the page with the same rows
    for page in site.rglob("*.html"):
        html = page.read_text()
        for name in set(re.findall(r'href="([^"/]+\.(?:csv|json))"', html)):
            assert (page.parent / name).is_file(), (page, name)
    task = json.loads((site / "task" / "mini-h0.5.json").read_text())
    assert {r["model"] for r in task} == {"mlp", "gcn", "hopper", HOSTILE}
    best = [r for r in task if r["vs_best"] == "best"]
    assert len(best) == 1 and best[0]["rank"] == 1.0
    assert all(r["n"] == 3 and r["std"] > 0 for r in task)
    for r in task:  # the 95% Student-t interval of each cell's mean, in the downloads too
        half = sps.t.ppf(0.975, r["n"] - 1) * r["std"] / math.sqrt(r["n"])
        assert (r["ci_low"], r["ci_high"]) == pytest.approx((r["mean"] - half, r["mean"] + half))
    pairs = json.loads((site / "task" / "mini-h0.5.pairwise.json").read_text())
    assert len(pairs) == 6 and all(r["p"] >= r["p_raw"] for r in pairs)  # 4 models, Holm
    page = (site / "task" / "mini-h0.5.html").read_text()
    assert page.count('class="plot-figure"') == 2 and "Holm" in page  # the p-value heat map
    csv = (site / "task" / "mini-h0.5.csv").read_text().splitlines()
    assert csv[0].split(",")[:4] == ["rank", "model", "model_family", "mean"] and len(csv) == 5
    gcn = json.loads((site / "model" / "gcn.runs.json").read_text())
    assert len(gcn) == 9 and all(len(r["run_id"]) == 32 for r in gcn)
    chosen = json.loads((site / "model" / "gcn.hyperparameters.json").read_text())
    assert {r["task"] for r in chosen} == {f"mini-h{h}" for h in HS} and "config.lr" in chosen[0]
    ranking = json.loads((site / "suite" / "mini.ranking.json").read_text())
    assert [r["covered"] for r in ranking] == [3, 3, 3, 3] and ranking[0]["position"] == 1
    trials = {r["model"]: r["trials"] for r in ranking}  # 2 search trials on each of 3 tasks
    assert trials == {"mlp": 6, "gcn": 6, "hopper": None, HOSTILE: None}
    # nothing is fetched at view time
    for page in site.rglob("*.html"):
        html = page.read_text()
        assert not re.findall(r'(?:src|href)="(?:https?:)?//[^"]*\.(?:js|css)', html), page
        assert "Content-Security-Policy" in html


def test_hostile_strings_are_escaped(site: Path) -> None:
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for page in site.rglob("*.html"):
        html = page.read_text()
        assert HOSTILE not in html, page
        assert not re.search(r"(?:href|src)\s*=\s*[\"']?\s*javascript:", html, re.I), page
    model = next(p for p in (site / "model").glob("script-*.html"))
    html = model.read_text()
    assert escaped in html and "&lt;b&gt;gnn&lt;/b&gt;" in html
    assert "javascript:alert(2)" in html  # shown as text, never as a link
    assert escaped in (site / "suite" / "mini.html").read_text()  # inside the SVG figures too


def test_card_and_plugin_strings_are_escaped(tmp_path: Path) -> None:
    """What a card or a plugin says reaches the pages only escaped, links only if http(s)."""
    b = bundle("evil", "verified", 0.5, "https://example.org")
    b["model"] |= {k: HOSTILE for k in ("version", "backend", "licence", "citation")}
    b["model"] |= {"authors": [HOSTILE], "code": "javascript:alert(3)"}
    b["model"]["space"] = {HOSTILE: {"type": HOSTILE, "choices": [HOSTILE], "default": HOSTILE}}
    card = {k: HOSTILE for k in ("title", "family", "task", "metric", "source", "licence")}
    card |= {"citation": HOSTILE, "notes": HOSTILE, "url": "javascript:alert(4)"}
    card["splits"] = {"kind": HOSTILE, "count": 1, "protocol": HOSTILE}
    generated = {"title": HOSTILE, "family": "synthetic", "citation": HOSTILE}
    generated["generator"] = {"kind": HOSTILE, "params": {HOSTILE: HOSTILE, "h": 0.5}}
    described(b, {"card": card, "generated": generated}, ["card", "generated", "card"])
    b["suite"]["description"] = HOSTILE
    b["tasks"][0] |= {"family": HOSTILE, "description": HOSTILE}
    site = build_from(tmp_path, b)
    escaped = "&lt;script&gt;alert(1)&lt;/script&gt;"
    for page in site.rglob("*.html"):
        html = page.read_text()
        assert HOSTILE not in html, page
        assert not re.search(r"(?:href|src)\s*=\s*[\"']?\s*javascript:", html, re.I), page
    pages = [dataset_page(site, "card"), dataset_page(site, "generated"), site / "model/evil.html"]
    for page in pages:
        assert page.read_text().count(escaped) >= 3, page
    assert "javascript:alert(3)" in (site / "model/evil.html").read_text()  # text, not a link
    assert escaped in (site / "index.html").read_text()  # the sweep's setting and the filters


def headers(html: str) -> list[str]:
    """Every table header's label on a page."""
    return re.findall(r'<th scope="col"[^>]*><button type="button">([^<]*)</button>', html)


def test_levels_wall_seconds_and_child_reported_marks(tmp_path: Path) -> None:
    """An entry shows its weakest sandbox level; the budget counts the runner's wall seconds;
    only columns of the child's own figures carry †, and a cell that had to fall back to one
    does too."""
    mixed = bundle("mixed", "verified", 0.5, "https://example.org")
    for r in mixed["results"]:  # split 1 ran unconfined: the whole result is "none"
        r |= {"sandbox": "none" if r["split"] == 1 else "bwrap", "wall_seconds": 2.0}
        r["search_parallelism"] = 2
    older = bundle("older", "verified", 0.4, "https://example.org")  # no wall seconds recorded
    for r in older["results"]:
        r["sandbox"] = "landlock+netns"
    site = build_from(tmp_path, mixed, older)
    task = {r["model"]: r for r in json.loads((site / "task" / "mini-h0.5.json").read_text())}
    assert task["mixed"]["sandbox"] == "none" and task["older"]["sandbox"] == "landlock+netns"
    assert task["mixed"]["seconds"] == 6.0 and task["mixed"]["wall_seconds"] == 2.0
    assert task["mixed"]["seconds_by_child"] is False
    assert task["older"]["seconds"] == pytest.approx(0.5 + 0.6 + 0.7)  # the child's train s
    assert task["older"]["seconds_by_child"] is True and task["older"]["wall_seconds"] is None
    html = (site / "task" / "mini-h0.5.html").read_text()
    shown = headers(html)
    assert {"seconds", "wall s / run", "params", "sandbox", "at once"} <= set(shown)
    assert task["mixed"]["search_parallelism"] == 2 and task["older"]["search_parallelism"] is None
    assert {h for h in shown if "†" in h} == {"train s / run †", "s / epoch †", "peak MiB †"}
    assert {"estimate MiB", "estimate error", "hardware"} <= set(shown)  # the cost table's
    cells = re.findall(r'<td class="seconds[^"]*"[^>]*>([^<]*)</td>', html)
    assert "1.80 †" in cells and "6.00" in cells and "6.00 †" not in cells  # the budget's cells
    assert 'class="badge b-none"' in html and 'class="badge b-landlock-netns"' in html
    assert "a hostile plugin could forge it" in html and 'href="../index.html#enforced"' in html
    model = (site / "model" / "mixed.html").read_text()
    assert [h for h in headers(model) if "†" in h] == ["epochs †", "train s †"]
    assert {"wall s", "oracle queries", "sandbox"} <= set(headers(model))
    runs = json.loads((site / "model" / "mixed.runs.json").read_text())
    assert sorted({r["sandbox"] for r in runs}) == ["bwrap", "none"]
    index = (site / "index.html").read_text()
    assert 'id="enforced"' in index and "<code>train_seconds</code>" in index
    ranking = {r["model"]: r for r in json.loads((site / "index.ranking.mini.json").read_text())}
    assert ranking["mixed"]["sandbox"] == "none" and ranking["older"]["seconds_by_child"]


def test_the_dataset_page_follows_the_declared_family(tmp_path: Path) -> None:
    """A dataset's page and its place in a homophily sweep come from its card's family and
    generator parameters, not from a name that looks generated."""
    b = bundle("m", "verified", 0.5, "https://example.org")
    generated = {"title": "Generated", "family": "synthetic"}
    generated["generator"] = {"kind": "csbm", "params": {"h": 0.25, "n": 150}}
    lookalike = {"title": "Named like a generator", "family": "homophilous"}
    described(b, {"graph-a": generated, csbm("0.5"): lookalike}, ["graph-a", csbm("0.5")])
    site = build_from(tmp_path, b)
    page = dataset_page(site, "graph-a").read_text()
    assert "Generator parameters" in page and "generator h" in page and "0.250" in page
    page = dataset_page(site, csbm("0.5")).read_text()
    assert "Generator parameters" not in page and "generator h" not in page
    assert "Not measured" in page and "homophilous" in page
    assert "not recorded" in (site / "task" / f"mini-h{HS[2]}.html").read_text()  # no dataset
    # one generated point (the lookalike is no second one) is no curve: no figure is drawn
    assert 'class="plot-figure"' not in (site / "index.html").read_text()


def test_a_suite_of_graphs_of_several_sizes_plots_cost_against_size(tmp_path: Path) -> None:
    """Generated graphs of three sizes (their declared generator parameters): the suite page
    draws seconds per epoch and peak memory against nodes, and every task page has the cost
    table beside the scores."""
    b = bundle("m", "verified", 0.5, "https://example.org")
    sizes = {f"graph-{n}": n for n in (1000, 10_000, 100_000)}
    facts = {
        name: {
            "title": name,
            "family": "synthetic",
            "generator": {"kind": "csbm", "params": {"n": n}},
        }
        for name, n in sizes.items()
    }
    described(b, facts, list(sizes))
    for r in b["results"]:
        n = sizes[f"graph-{(1000, 10_000, 100_000)[HS.index(r['task'][len('mini-h') :])]}"]
        r |= {"epoch_seconds": n / 1e4, "peak_memory_mb": 300 + n / 100}
        r |= {"memory_estimate_mb": 320 + n / 100}
    site = build_from(tmp_path, b)
    suite = (site / "suite" / "mini.html").read_text()
    assert "Cost against graph size" in suite and "peak memory (MiB)" in suite
    cost = json.loads((site / "task" / f"mini-h{HS[2]}.cost.json").read_text())
    (row,) = cost
    assert row["peak_memory_mb"] == 1300 and row["epoch_seconds"] == 10.0
    assert row["memory_estimate_error"] == pytest.approx(20 / 1300)
    assert row["hardware"] == "NVIDIA H100"


def test_same_inputs_same_bytes_without_data_specs_or_plugins(store: Store, site: Path) -> None:
    """The site reads only its inputs: another process (another string hash seed, so no set
    order leaks out) with an empty data root, no task specs and the plugins unimportable
    writes the same bytes as the build that had all of them."""
    again, bare = store.tmp / "site-again", store.tmp / "bare"
    for folder in ("data", "tasks"):
        (bare / folder).mkdir(parents=True)
    args = ["leaderboard", "build", "--tracking-uri", store.uri, "--out", str(again)]
    args += ["--submissions", str(store.submissions)]
    no_plugins = "import sys; sys.modules['gbench.baselines'] = None; import gbench.__main__"
    subprocess.run(
        [sys.executable, "-c", no_plugins, *args],
        env={
            **os.environ,
            "GBENCH_DATA_DIR": str(bare / "data"),
            "GBENCH_TASKS_DIR": str(bare / "tasks"),
            "PYTHONHASHSEED": "12345",
        },
        check=True,
        capture_output=True,
    )
    assert not any((bare / "data").iterdir())
    first = {p.relative_to(site): p.read_bytes() for p in site.rglob("*") if p.is_file()}
    second = {p.relative_to(again): p.read_bytes() for p in again.rglob("*") if p.is_file()}
    assert first.keys() == second.keys()
    assert [p for p in first if first[p] != second[p]] == []


def test_rebuild_replaces_only_an_earlier_build(tmp_path: Path) -> None:
    out = tmp_path / "site"
    write({"index.html": b"1", "model/old.html": b"2"}, out)
    write({"index.html": b"3"}, out)  # an earlier build: its files are replaced
    assert (out / "index.html").read_bytes() == b"3" and not (out / "model" / "old.html").exists()
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("not a site")
    with pytest.raises(GbenchError, match="not empty"):
        write({"index.html": b"1"}, mine)
    assert sorted(p.name for p in mine.iterdir()) == ["notes.txt"]


def test_a_suite_without_a_cd_diagram_still_builds(tmp_path: Path) -> None:
    """With one model covering every task there is nothing to compare: no CD, no crash."""
    subs = tmp_path / "subs"
    subs.mkdir()
    partial = bundle("b", "verified", 0.4, "https://x.org")
    partial["results"] = [r for r in partial["results"] if r["task"] == f"mini-h{HS[0]}"]
    (subs / "a.json").write_text(json.dumps(bundle("a", "verified", 0.5, "https://x.org")))
    (subs / "b.json").write_text(json.dumps(partial))
    out = tmp_path / "site"
    args = ["leaderboard", "build", "--tracking-uri", f"sqlite:///{tmp_path / 'empty.db'}"]
    args += ["--submissions", str(subs), "--out", str(out)]
    done = subprocess.run([sys.executable, "-m", "gbench", *args], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    page = (out / "suite" / "mini.html").read_text()
    assert "mini-h" in page and "Thick lines join models" not in page


def test_empty_store_says_nothing_to_show(tmp_path: Path) -> None:
    out = tmp_path / "site"
    args = ["leaderboard", "build", "--tracking-uri", f"sqlite:///{tmp_path / 'empty.db'}"]
    args += ["--submissions", str(tmp_path / "none"), "--out", str(out)]
    done = subprocess.run([sys.executable, "-m", "gbench", *args], capture_output=True, text=True)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr.startswith("nothing to show") and done.stderr.count("\n") == 1
    assert not out.exists()


def test_serve_prints_url_and_serves(site: Path) -> None:
    import urllib.request

    proc = subprocess.Popen(
        [sys.executable, "-m", "gbench", "leaderboard", "serve", "--dir", str(site)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        url = line.split(" at ")[1].split()[0]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url, timeout=10) as r:
            assert r.status == 200 and b"gbench leaderboard" in r.read()
    finally:
        proc.send_signal(signal.SIGINT)  # Ctrl-C
        assert proc.wait(timeout=20) == 0


# -- in a real browser ---------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} is absent (run .ci/install-browser)")
    from playwright.sync_api import sync_playwright  # a test dependency: never skipped

    args = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--no-first-run",
    ]
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        yield b
        b.close()


def column(page: object, table: str, header: str) -> list[str]:
    """The visible cells of a column, top to bottom."""
    return page.eval_on_selector(  # type: ignore[attr-defined]
        f'[id="{table}"] table',
        """(t, header) => {
            const i = [...t.tHead.rows[0].cells].findIndex(th => th.textContent.trim() === header);
            return [...t.tBodies[0].rows].filter(r => !r.hidden)
                .map(r => r.cells[i].textContent.trim());
        }""",
        header,
    )


def test_in_chromium_sort_filter_follow_links(browser: object, site: Path, tmp_path: Path) -> None:
    page = browser.new_page(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("dialog", lambda d: (problems.append(f"dialog: {d.message}"), d.dismiss()))
    page.goto((site / "index.html").as_uri())
    assert page.title() == "gbench leaderboard"
    assert page.get_by_role("link", name=HOSTILE).first.is_visible()  # shown as text

    table = "index.results"
    assert page.locator(f'[id="{table}"] .count').inner_text() == "12 rows"
    header = page.locator(f'[id="{table}"] th', has_text="score ×100")
    header.locator("button").click()
    ascending = [float(v.split(" ± ")[0]) for v in column(page, table, "score ×100")]
    assert ascending == sorted(ascending)
    header.locator("button").click()
    descending = [float(v.split(" ± ")[0]) for v in column(page, table, "score ×100")]
    assert descending == sorted(ascending, reverse=True)
    assert header.get_attribute("aria-sort") == "descending"

    page.select_option('select[data-filter="mfamily"]', "gnn")
    assert set(column(page, table, "model")) == {"gcn"}
    assert page.locator(f'[id="{table}"] .count').inner_text() == "3 of 12 rows"
    assert "mfamily=gnn" in page.url  # a filtered view can be linked to
    page.select_option('select[data-filter="dfamily"]', "synthetic")
    assert len(column(page, table, "model")) == 3
    page.select_option('select[data-filter="mfamily"]', "")

    shots = Path(os.environ.get("GBENCH_SCREENSHOTS", tmp_path))
    shots.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(shots / "index.png"), full_page=True)

    page.locator(f'[id="{table}"] a', has_text="gcn").first.click()
    page.wait_for_load_state()
    assert page.url.endswith("/model/gcn.html")
    assert page.locator("h1").inner_text().startswith("gcn")
    page.screenshot(path=str(shots / "model-gcn.png"), full_page=True)

    page.get_by_role("link", name="Datasets", exact=True).click()
    page.wait_for_load_state()
    page.locator('[id="datasets"] td a').first.click()
    page.wait_for_load_state()
    assert "/dataset/csbm-" in page.url
    assert page.locator("h1").inner_text() == "Contextual stochastic block model"
    assert "edge homophily" in page.content()

    page.goto((site / "suite" / "mini.html").as_uri())
    assert page.locator("svg.plot").count() == 5
    page.screenshot(path=str(shots / "suite-mini.png"), full_page=True)
    assert problems == []
    page.close()


def test_the_footer_links_only_to_the_address_in_the_package_metadata(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib.metadata as md

    from gbench.leaderboard.render import project_url

    assert project_url() == ""  # pyproject.toml names no project address: no link at all

    class Meta:
        def get_all(self, key: str) -> list[str]:
            return ["Repository, https://git.example.org/gbench", "Bugs, javascript:alert(1)"]

    monkeypatch.setattr(md, "metadata", lambda name: Meta())
    assert project_url() == "https://git.example.org/gbench"


def test_the_public_board_builds_from_the_submissions_and_the_reference(tmp_path: Path) -> None:
    """The build step of .github/workflows/leaderboard.yml, run as written on a checkout:
    the shipped baselines' reference results become a site with their pages and facts."""
    import yaml

    repo = Path(__file__).resolve().parents[1]
    workflow = yaml.safe_load((repo / ".github" / "workflows" / "leaderboard.yml").read_text())
    steps = workflow["jobs"]["build"]["steps"]
    command = next(s["run"] for s in steps if s.get("name") == "Build the site")
    (tmp_path / "leaderboard").symlink_to(repo / "leaderboard")
    env = {**os.environ, "RUNNER_TEMP": str(tmp_path)}
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env['PATH']}"
    done = subprocess.run(
        ["bash", "-c", command], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    site = tmp_path / "site"
    reference = json.loads((repo / "leaderboard" / "reference" / "quick.json").read_text())
    models = {r["model"] for r in reference["results"]}
    assert {p.stem for p in (site / "model").glob("*.html")} == models
    ranking = json.loads((site / "suite" / "quick.ranking.json").read_text())
    assert {r["model"] for r in ranking} == models and all(r["covered"] == 5 for r in ranking)
    texas = (site / "dataset" / "texas.html").read_text()
    assert "WebKB" in texas or "Texas" in texas  # the dataset's facts came with the reference
    assert 'class="plot-figure"' in (site / "suite" / "quick.html").read_text()  # h sweep


def test_a_file_that_is_no_reference_is_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "quick.json"
    bad.write_text(json.dumps({"format": "gbench-reference", "results": []}))
    args = ["leaderboard", "build", "--tracking-uri", f"sqlite:///{tmp_path / 'none.db'}"]
    args += ["--reference", str(bad), "--out", str(tmp_path / "site")]
    with pytest.raises(GbenchError, match=r"no leaderboard rows in it .* regress --update`"):
        CliRunner().invoke(cli, args, catch_exceptions=False)
