"""A plugin author's whole path, as docs/plugins.md tells it: the documented PyG example run
beside a baseline, submitted, verified and accepted, then the leaderboard built from the
store plus the accepted bundle. The model is one entry under its metadata name, and nothing
machine-local leaves the author's machine."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gbench.cli.main import cli
from tests.test_runner import invoke, two_csbm_tasks, write_tasks

DOCS = Path(__file__).resolve().parents[1] / "docs" / "plugins.md"
MLP = Path(__file__).resolve().parents[1] / "baselines" / "mlp.py"
SPECS = two_csbm_tasks("author")
SPECS["author-het"]["trials"] = 1
PLUGIN = "pyg_sage.py:PygSAGE"
BUNDLE = "pyg-sage-1.0-mini.json"


def documented_example() -> str:
    """The code block that follows the ``example: pyg_sage.py`` marker, as written."""
    found = re.search(r"<!-- example: pyg_sage.py -->\n```python\n(.*?)```", DOCS.read_text(), re.S)
    assert found, "docs/plugins.md lost its complete PyG example"
    return found.group(1)


@pytest.fixture(scope="module")
def author(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A folder outside any checkout where the author ran, submitted, verified and accepted."""
    home = tmp_path_factory.mktemp("author")
    work = home / "work"
    work.mkdir()
    (work / "pyg_sage.py").write_text(documented_example())
    store = f"sqlite:///{home / 'store.db'}"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("GBENCH_DATA_DIR", str(home / "data"))
        mp.setenv("GBENCH_TASKS_DIR", str(write_tasks(home / "tasks", SPECS, list(SPECS))))
        mp.chdir(work)
        common = ["--suite", "mini", "--tracking-uri", store, "--threads", "1"]
        invoke("run", "--model", PLUGIN, "--model", "mlp", *common)
        out = invoke("submit", PLUGIN, *common)
        assert f"wrote {BUNDLE}" in out
        accepted = home / "accepted"
        verified = invoke(
            "verify", BUNDLE, "--rerun", "1", "--accept", "--submissions", str(accepted)
        )
        assert "every check passed" in verified
        yield home


def results(home: Path) -> list[dict]:
    """``gbench results`` of the store in ``home``."""
    out = invoke("results", "--tracking-uri", f"sqlite:///{home / 'store.db'}", "--format", "json")
    return json.loads(out)


def test_results_and_bundles_name_the_model_by_its_metadata(author: Path) -> None:
    rows = results(author)
    assert {r["model"] for r in rows} == {"pyg-sage", "mlp"}
    mine = [r for r in rows if r["model"] == "pyg-sage"]
    assert len(mine) == 4 and {r["plugin_version"] for r in mine} == {"1.0"}
    bundle = json.loads((author / "work" / BUNDLE).read_text())
    assert bundle["model"]["registered_as"] == PLUGIN  # the file by its own name, no folder
    assert {r["model"] for r in bundle["results"]} == {"pyg-sage"}


def test_nothing_machine_local_is_in_a_bundle_or_a_row(author: Path) -> None:
    text = (author / "work" / BUNDLE).read_text() + (author / "accepted" / BUNDLE).read_text()
    text += json.dumps(results(author))
    for local in (str(author), "store.db", "sqlite:", "file:"):
        assert local not in text, local


def test_nothing_lands_in_the_authors_working_folder(author: Path) -> None:
    assert {p.name for p in (author / "work").iterdir()} == {"pyg_sage.py", BUNDLE}


def build(author: Path, out: Path, submissions: Path) -> dict:
    args = ["leaderboard", "build", "--tracking-uri", f"sqlite:///{author / 'store.db'}"]
    args += ["--submissions", str(submissions), "--out", str(out), "--format", "json"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return {**json.loads(result.stdout), "stderr": result.stderr}


def test_store_plus_accepted_bundle_is_one_entry_per_model(author: Path, tmp_path: Path) -> None:
    built = build(author, tmp_path / "site", author / "accepted")
    assert built["models"] == 2 and built["conflicts"] == [] and "conflict" not in built["stderr"]
    site = tmp_path / "site"
    assert sorted(p.name for p in (site / "model").glob("*.html")) == ["mlp.html", "pyg-sage.html"]
    for table in ["suite/mini.ranking.json", *(f"task/{t}.json" for t in SPECS)]:
        rows = json.loads((site / table).read_text())
        assert sorted(r["model"] for r in rows) == ["mlp", "pyg-sage"], table
    assert not any(str(author) in p.read_text() for p in (tmp_path / "site").rglob("*.html"))


def test_different_results_of_one_version_are_a_reported_conflict(
    author: Path, tmp_path: Path
) -> None:
    bundles = tmp_path / "submissions"
    bundles.mkdir()
    changed = json.loads((author / "accepted" / BUNDLE).read_text())
    changed["results"][0]["test_score"] = 0.123
    (bundles / BUNDLE).write_text(json.dumps(changed))
    built = build(author, tmp_path / "site", bundles)
    assert built["models"] == 2  # still one entry: the store's run is shown
    task = changed["results"][0]["task"]
    assert built["conflicts"] == [
        f"pyg-sage 1.0 on {task}: 1 result(s) from verified disagree with the gbench run "
        "result shown (another score or source file); bump the plugin's version if its code "
        "changed, else remove the stale bundle"
    ]
    assert f"conflict: pyg-sage 1.0 on {task}" in built["stderr"]
    page = (tmp_path / "site" / "model" / "pyg-sage.html").read_text()
    assert "Conflicting results" in page
    # a newer version of the model supersedes the older one's rows: no conflict, one entry
    newer = {**changed, "model": {**changed["model"], "version": "1.1"}}
    newer["results"] = [{**r, "plugin_version": "1.1"} for r in changed["results"]]
    (bundles / BUNDLE).write_text(json.dumps(newer))
    shutil.rmtree(tmp_path / "site")
    built = build(author, tmp_path / "site", bundles)
    assert built["models"] == 2 and built["conflicts"] == []


def test_two_plugins_of_one_name_are_refused_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gbench.errors import GbenchError

    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "tasks", SPECS, list(SPECS))))
    twin = tmp_path / "twin.py"
    shutil.copy(MLP, twin)  # its meta.name is still "mlp"
    store = ["--tracking-uri", f"sqlite:///{tmp_path / 'store.db'}"]
    with pytest.raises(GbenchError, match=r"are both named 'mlp' \(meta.name\).*rename one"):
        invoke("run", "--suite", "mini", "--model", "mlp", "--model", f"{twin}:MLP", *store)


def test_an_edited_plugin_file_is_measured_again_not_resumed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    one = {"author-hom": {**SPECS["author-hom"], "splits": [0], "trials": 1}}
    monkeypatch.setenv("GBENCH_TASKS_DIR", str(write_tasks(tmp_path / "tasks", one, list(one))))
    monkeypatch.chdir(tmp_path)
    plugin = tmp_path / "mine.py"
    plugin.write_text(MLP.read_text().replace('name="mlp"', 'name="my-mlp"'))
    args = ["run", "--suite", "mini", "--model", "mine.py:MLP", "--threads", "1"]
    args += ["--tracking-uri", f"sqlite:///{tmp_path / 'store.db'}"]
    invoke(*args)
    invoke(*args)  # the same file: resumed, nothing new
    runs = len(results(tmp_path))
    plugin.write_text(plugin.read_text() + "\n# edited\n")
    invoke(*args)
    rows = results(tmp_path)
    assert runs == len(rows) == 1 and rows[0]["model"] == "my-mlp"  # the newest run is the row
    from mlflow.tracking import MlflowClient

    client = MlflowClient(f"sqlite:///{tmp_path / 'store.db'}")
    finals = client.search_runs(
        [e.experiment_id for e in client.search_experiments()], "tags.`gbench.kind` = 'final'"
    )
    assert len({r.data.tags["gbench.plugin_sha256"] for r in finals}) == len(finals) == 2


def test_the_docs_say_what_graph_holds_for_every_dataset_family() -> None:
    """A card with a loader the table in docs/plugins.md does not name fails here: what a
    plugin receives stays documented for every family gbench registers."""
    import tomllib

    from gbench.data import synthetic
    from gbench.data.cards import cards

    text = DOCS.read_text()
    table = text[text.index("| family (loader) |") :].split("\n\n")[0]
    for name, card in cards().items():
        short = card.loader.removeprefix("gbench.data.loaders.")
        assert f"`{short}`" in table, f"{name}: loader {short} is not in the docs' table"
    kinds = tomllib.loads(synthetic.SPEC_FILE.read_text())["kinds"]
    assert all(f"`{kind}:`" in table for kind in kinds)
