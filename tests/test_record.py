"""The one result record: its schema file is current, and every consumer agrees with it."""

from __future__ import annotations

import json

import pytest

from gbench import record
from gbench.errors import GbenchError
from gbench.submit import schema
from gbench.submit.bundle import schema_path


def test_checked_in_bundle_schema_is_generated_from_the_records() -> None:
    checked_in = schema_path().read_text()
    assert checked_in == schema.text(), (
        "leaderboard/schema/bundle-v1.json is stale: run `python -m gbench.submit.schema`"
    )


def test_bundle_row_schema_lists_exactly_the_result_columns() -> None:
    row = json.loads(schema.text())["$defs"]["Row"]
    assert list(row["properties"]) == record.COLUMNS
    assert row["additionalProperties"] is False
    assert set(row["required"]) == {*record.REQUIRED, "source"}


def test_every_field_has_one_place_in_the_store() -> None:
    places = {n: record.stored(n).where for n in record.COLUMNS}
    assert set(places.values()) == {"tag", "metric", "env", "derived"}
    assert record.stored("torch").key == "pkg.torch"
    tags = [record.tag(n) for n in record.fields("tag")]
    assert len(set(tags)) == len(tags) and all(t.startswith("gbench.") for t in tags)


def test_unknown_tag_names_are_refused() -> None:
    with pytest.raises(KeyError):
        record.tags_of({"not_a_field": 1})
    with pytest.raises(KeyError):
        record.tags_of({"test_score": 0.5})  # a metric, not a tag


def test_store_round_trip() -> None:
    values = {
        "suite": "quick",
        "model": "mlp",
        "task": "t",
        "task_version": 2,
        "split": 1,
        "seed": 0,
        "metric": "accuracy",
        "config": {"lr": 0.01},
        "sandbox": "none",
    }
    tags = record.tags_of(values)
    assert tags["gbench.task_version"] == "2" and json.loads(tags["gbench.config"]) == {"lr": 0.01}
    env = {record.env_tag("pkg.torch"): "2.13.0", record.env_tag("cpu"): "x"}
    back = record.from_store(tags, {"test_score": 0.75, "epochs": 3.0}, env)
    result = record.validate(back, "here")
    assert (result.task_version, result.split, result.test_score) == (2, 1, 0.75)
    assert (result.torch, result.cpu, result.epochs, result.sandbox) == (
        "2.13.0",
        "x",
        3,
        "none",
    )
    assert result.config == {"lr": 0.01} and result.val_score is None


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"test_score": float("nan")}, "test_score"),
        ({"split": -1}, "split"),
        ({"source": "trust me"}, "source"),
        ({"replication": "folds"}, "replication"),
        ({"surprise": 1}, "surprise"),
    ],
)
def test_bad_values_are_one_line_errors_naming_the_field(change: dict, field: str) -> None:
    good = {
        "suite": "s",
        "model": "m",
        "task": "t",
        "task_version": 1,
        "split": 0,
        "seed": 0,
        "metric": "accuracy",
        "test_score": 0.5,
    }
    record.validate(good, "row")
    with pytest.raises(GbenchError) as err:
        record.validate({**good, **change}, "bundle.json: results[3]")
    msg = str(err.value)
    assert msg.startswith(f"bundle.json: results[3]: {field}") and "\n" not in msg
