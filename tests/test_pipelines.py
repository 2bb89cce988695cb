"""`lake.run`: pinned inputs, provenance stamps, the quality gate, output modes, errors, replay and the CLI."""

from __future__ import annotations

import copy
import json
import textwrap
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml
from click.testing import CliRunner, Result

import meshlake as ml
from meshlake.errors import (
    DescriptorError,
    PipelineError,
    ProductNotFoundError,
    QualityGateError,
    SnapshotNotFoundError,
)

ORDERS = "sales.orders.placed"
SEEN = "logistics.picking.seen"
TOTALS = "logistics.picking.totals"

UPSTREAM: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "sales",
    "name": "orders",
    "version": "1.0.0",
    "owner": {"team": "storefront"},
    "outputs": [
        {
            "name": "placed",
            "columns": [
                {"name": "order_id", "type": "string", "required": True},
                {"name": "amount", "type": "double"},
            ],
            "primary_key": ["order_id"],
        }
    ],
}

PICKING: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "logistics",
    "name": "picking",
    "version": "1.0.0",
    "owner": {"team": "warehouse"},
    "inputs": [{"name": "orders", "port": ORDERS}],
    "outputs": [
        {
            "name": "seen",
            "description": "Every order the run read, with the run's label.",
            "columns": [
                {"name": "order_id", "type": "string", "required": True},
                {"name": "amount", "type": "double"},
                {"name": "label", "type": "string"},
            ],
            "primary_key": ["order_id"],
            "expectations": [
                {"expect_column_values_to_be_between": {"column": "amount", "min_value": 0, "max_value": 1000}}
            ],
        },
        {
            "name": "totals",
            "columns": [
                {"name": "label", "type": "string", "required": True},
                {"name": "orders", "type": "long", "required": True},
                {"name": "amount", "type": "double"},
            ],
            "primary_key": ["label"],
        },
    ],
}

# Reads its input, records exactly what it saw in `seen`, and a count in `totals`.
# `--param move=true` writes to the input port mid-run, as a concurrent upstream writer would.
PICKING_PIPELINE = """
import pyarrow as pa
from meshlake.pipelines.run import Output

def build(inputs, context):
    label = context.params.get("label", "run")
    if context.params.get("move") == "true":
        context.lake.port("sales.orders.placed").write(pa.table({"order_id": ["late"], "amount": [1.0]}))
    orders = inputs.orders.to_arrow().select(["order_id", "amount"])
    seen = orders.append_column("label", pa.array([label] * orders.num_rows, pa.string()))
    totals = inputs.duckdb().sql(
        "SELECT $label AS label, count(*) AS orders, sum(amount) AS amount FROM orders", params={"label": label}
    )
    return {"seen": Output(seen, mode="overwrite"), "totals": Output(totals.to_arrow_table(), mode="upsert")}
"""

COUNTER: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "ops",
    "name": "counter",
    "version": "1.0.0",
    "owner": {"team": "ops"},
    "outputs": [PICKING["outputs"][1]],
}

# Writes `labels` (comma-separated) with `orders` each, as bare data (`mode=bare`) or Output(mode, where).
COUNTER_PIPELINE = """
import pyarrow as pa
from meshlake.pipelines.run import Output

def build(inputs, context):
    p = context.params
    labels = p["labels"].split(",")
    rows = pa.table({"label": labels, "orders": [int(p["orders"])] * len(labels), "amount": [1.0] * len(labels)})
    return {"totals": rows if p["mode"] == "bare" else Output(rows, mode=p["mode"], where=p.get("where"))}
"""


def make_product(folder: Path, descriptor: dict[str, Any], source: str) -> Path:
    """A product folder: dataproduct.yaml plus pipeline.py."""
    folder.mkdir(parents=True)
    (folder / "dataproduct.yaml").write_text(yaml.safe_dump(descriptor, sort_keys=False))
    (folder / "pipeline.py").write_text(textwrap.dedent(source))
    return folder


def orders(*rows: tuple[str, float]) -> pa.Table:
    return pa.table({"order_id": [r[0] for r in rows], "amount": [r[1] for r in rows]})


def rows_of(lake: ml.Lake, address: str, key: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = lake.port(address).latest().to_arrow().sort_by(key).to_pylist()
    return rows


@pytest.fixture
def picking(lake: ml.Lake, tmp_path: Path) -> Path:
    """sales.orders (two orders written) and logistics.picking (reads them) deployed; the picking folder."""
    lake.deploy(make_product(tmp_path / "products" / "orders", UPSTREAM, "def build(inputs):\n    return {}\n"))
    path = make_product(tmp_path / "products" / "picking", PICKING, PICKING_PIPELINE)
    lake.deploy(path)
    lake.port(ORDERS).write(orders(("o1", 10.0), ("o2", 20.0)))
    return path


@pytest.fixture
def counter(lake: ml.Lake, tmp_path: Path) -> Path:
    path = make_product(tmp_path / "products" / "counter", COUNTER, COUNTER_PIPELINE)
    lake.deploy(path)
    return path


# -- pinning and provenance ----------------------------------------------------------------------------
def test_run_stamps_the_input_snapshots_it_read_on_every_snapshot_written(lake: ml.Lake, picking: Path) -> None:
    current = lake.port(ORDERS).latest().snapshot_id

    result = lake.run(picking, params={"label": "a"})

    assert result.inputs == {ORDERS: current}
    assert set(result.outputs) == {"seen", "totals"}
    for address in (SEEN, TOTALS):
        stamps = lake.port(address).latest().stamps
        assert stamps["inputs"] == {ORDERS: current}
        assert stamps["run-id"] == result.run_id
        assert stamps["writer"] == "pipeline:logistics.picking"
        assert stamps["product-version"] == "1.0.0"
        assert stamps["run-params"] == {"label": "a"}
    assert [entry.inputs for entry in lake.port(SEEN).history()] == [{ORDERS: current}]


def test_inputs_stay_pinned_when_the_input_moves_during_the_run(lake: ml.Lake, picking: Path) -> None:
    before = lake.port(ORDERS).latest().snapshot_id

    result = lake.run(picking, params={"move": "true"})

    assert lake.port(ORDERS).latest().snapshot_id != before, "the pipeline did write to its input"
    assert [row["order_id"] for row in rows_of(lake, SEEN, "order_id")] == ["o1", "o2"]
    assert result.inputs == {ORDERS: before}
    assert lake.port(SEEN).latest().stamps["inputs"] == {ORDERS: before}


def test_an_input_never_written_reads_empty_and_is_not_stamped(lake: ml.Lake, tmp_path: Path) -> None:
    lake.deploy(make_product(tmp_path / "products" / "orders", UPSTREAM, "def build(inputs):\n    return {}\n"))
    path = make_product(tmp_path / "products" / "picking", PICKING, PICKING_PIPELINE)
    lake.deploy(path)

    result = lake.run(path)

    assert result.inputs == {}
    assert rows_of(lake, TOTALS, "label") == [{"label": "run", "orders": 0, "amount": None}]
    assert lake.port(TOTALS).latest().stamps["inputs"] == {}


# -- the quality gate ----------------------------------------------------------------------------------
def test_a_failing_gate_raises_and_publishes_nothing(lake: ml.Lake, picking: Path) -> None:
    lake.port(ORDERS).write(orders(("o3", 5000.0)))  # above the `seen` port's max_value

    with pytest.raises(QualityGateError) as stopped:
        lake.run(picking, params={"label": "bad"})

    assert stopped.value.address == SEEN
    assert [r.expectation for r in stopped.value.report.failed] == ["expect_column_values_to_be_between"]
    assert lake.port(SEEN).latest().snapshot_id is None
    assert lake.port(TOTALS).latest().snapshot_id is None, "outputs after the failed one are not written"
    assert [write.rows_added for write in lake.port(SEEN).quarantine()] == [3]


def test_outputs_that_pass_the_gate_carry_its_verdict(lake: ml.Lake, picking: Path) -> None:
    result = lake.run(picking)

    report = result.outputs["seen"].quality
    assert report is not None and report.passed
    assert lake.port(SEEN).latest().stamps["quality"]["verdict"] == "passed"
    assert result.outputs["totals"].quality is None, "a port without expectations has no gate"


# -- output modes --------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("mode", "where", "expected"),
    [
        ("bare", None, [("a", 1), ("b", 1), ("b", 2), ("c", 1)]),  # plain data appends
        ("append", None, [("a", 1), ("b", 1), ("b", 2), ("c", 1)]),
        ("overwrite", None, [("b", 2)]),
        ("replace", "label in ('a', 'b')", [("b", 2), ("c", 1)]),
        ("upsert", None, [("a", 1), ("b", 2), ("c", 1)]),
    ],
)
def test_output_modes_land_rows_as_declared(
    lake: ml.Lake, counter: Path, mode: str, where: str | None, expected: list[tuple[str, int]]
) -> None:
    lake.run(counter, params={"labels": "a,b,c", "orders": "1", "mode": "append"})

    params = {"labels": "b", "orders": "2", "mode": mode} | ({"where": where} if where else {})
    result = lake.run(counter, params=params)

    rows = (
        lake.port("ops.counter.totals").latest().to_arrow().sort_by([("label", "ascending"), ("orders", "ascending")])
    )
    assert list(zip(rows["label"].to_pylist(), rows["orders"].to_pylist(), strict=True)) == expected
    assert result.outputs["totals"].mode == ("append" if mode == "bare" else mode)


def test_replace_without_where_is_refused(lake: ml.Lake, counter: Path) -> None:
    with pytest.raises(ValueError, match="where"):
        lake.run(counter, params={"labels": "a", "orders": "1", "mode": "replace"})

    assert lake.port("ops.counter.totals").latest().snapshot_id is None


# -- errors --------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("source", "error", "needle"),
    [
        ("def build(inputs):\n    return {'nope': None}\n", ValueError, "nope"),
        ("def build(inputs):\n    return [1, 2]\n", TypeError, "list"),
        ("def make(inputs):\n    return {}\n", AttributeError, "build"),
    ],
    ids=["unknown-output", "not-a-dict", "no-build-function"],
)
def test_a_pipeline_that_breaks_the_protocol_is_refused(
    lake: ml.Lake, tmp_path: Path, source: str, error: type[Exception], needle: str
) -> None:
    path = make_product(tmp_path / "products" / "counter", COUNTER, source)
    lake.deploy(path)

    with pytest.raises(error, match=needle):
        lake.run(path)

    assert len(lake.port("ops.counter.totals").history()) == 0


def test_a_missing_pipeline_module_is_refused(lake: ml.Lake, tmp_path: Path) -> None:
    path = make_product(tmp_path / "products" / "counter", COUNTER | {"pipeline": {"module": "jobs/main.py"}}, "")
    lake.deploy(path)

    with pytest.raises(FileNotFoundError, match=r"jobs/main\.py"):
        lake.run(path)


def test_a_descriptor_version_that_is_not_deployed_is_refused(lake: ml.Lake, counter: Path) -> None:
    descriptor = counter / "dataproduct.yaml"
    descriptor.write_text(descriptor.read_text().replace("version: 1.0.0", "version: 1.1.0"))

    with pytest.raises(DescriptorError) as refused:
        lake.run(counter, params={"labels": "a", "orders": "1", "mode": "append"})

    assert refused.value.field == "version"
    assert len(lake.port("ops.counter.totals").history()) == 0


def test_a_product_that_is_not_deployed_cannot_run(lake: ml.Lake, tmp_path: Path) -> None:
    path = make_product(tmp_path / "products" / "counter", COUNTER, COUNTER_PIPELINE)

    with pytest.raises(ProductNotFoundError):
        lake.run(path)


# -- replay --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("by", ["run id", "snapshot id"])
def test_replay_reads_the_earlier_input_snapshots_and_params(lake: ml.Lake, picking: Path, by: str) -> None:
    first = lake.run(picking, params={"label": "first"})
    seen_first = rows_of(lake, SEEN, "order_id")
    lake.port(ORDERS).write(orders(("o3", 30.0)))  # the input moves on
    lake.run(picking, params={"label": "second"})
    assert len(rows_of(lake, SEEN, "order_id")) == 3

    replay = first.run_id if by == "run id" else str(first.outputs["totals"].snapshot_id)
    again = lake.run(picking, replay=replay)

    assert rows_of(lake, SEEN, "order_id") == seen_first
    assert [row["label"] for row in seen_first] == ["first", "first"]
    assert again.inputs == first.inputs
    assert again.params == {"label": "first"}
    assert again.replay_of == replay
    stamps = lake.port(SEEN).latest().stamps
    assert stamps["inputs"] == first.inputs and stamps["replay-of"] == replay
    assert stamps["run-id"] == again.run_id != first.run_id


def test_replay_with_new_params_keeps_the_earlier_inputs(lake: ml.Lake, picking: Path) -> None:
    first = lake.run(picking, params={"label": "first"})
    lake.port(ORDERS).write(orders(("o3", 30.0)))

    lake.run(picking, replay=first.run_id, params={"label": "fixed"})

    assert [(r["order_id"], r["label"]) for r in rows_of(lake, SEEN, "order_id")] == [("o1", "fixed"), ("o2", "fixed")]


def test_replay_of_an_unknown_run_names_the_runs_that_exist(lake: ml.Lake, picking: Path) -> None:
    first = lake.run(picking)

    with pytest.raises(SnapshotNotFoundError) as missing:
        lake.run(picking, replay="no-such-run")

    assert first.run_id in missing.value.exists


# -- the CLI -------------------------------------------------------------------------------------------
def meshlake(*args: str) -> Result:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli

    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cli_run_with_params_prints_json(lake: ml.Lake, picking: Path) -> None:
    result = meshlake("run", str(picking), "--param", "label=cli", "--param", "move=false", "--json")

    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["params"] == {"label": "cli", "move": "false"}
    assert data["inputs"] == {ORDERS: str(lake.port(ORDERS).latest().snapshot_id)}  # ids are JSON strings
    assert data["outputs"]["seen"]["rows"] == 2 and data["outputs"]["seen"]["quality"]["passed"]
    assert lake.port(SEEN).latest().stamps["run-id"] == data["run_id"]


def test_cli_run_replay_prints_what_it_read_and_wrote(lake: ml.Lake, picking: Path) -> None:
    first = lake.run(picking, params={"label": "first"})
    lake.port(ORDERS).write(orders(("o3", 30.0)))

    result = meshlake("run", str(picking), "--replay", first.run_id)

    assert result.exit_code == 0, result.output
    assert f"(replay of {first.run_id})" in result.stdout
    assert f"read  {ORDERS}@{first.inputs[ORDERS]}" in result.stdout
    assert f"wrote {SEEN}: overwrite 2 rows" in result.stdout


def test_cli_run_failures_print_one_line(lake: ml.Lake, picking: Path) -> None:
    lake.port(ORDERS).write(orders(("o3", 5000.0)))

    stopped = meshlake("run", str(picking))
    malformed = meshlake("run", str(picking), "--param", "label")

    assert stopped.exit_code == 1
    first, *failed, kept = stopped.stderr.strip().splitlines()
    assert first.startswith(f"error: quality gate failed for {SEEN}: 1 of 1 expectations failed")
    assert len(failed) == 1 and failed[0].startswith("  - expect_")  # one failed expectation per line
    assert f"`meshlake quarantine {SEEN}`" in kept and "Traceback" not in stopped.stderr
    assert malformed.exit_code == 2 and "KEY=VALUE" in malformed.stderr


def test_a_run_publishes_no_output_when_another_output_fails_its_gate(lake: ml.Lake, picking: Path) -> None:
    strict = copy.deepcopy(PICKING)
    strict["name"] = "strict"
    strict["outputs"][1]["expectations"] = [
        {"expect_column_values_to_be_between": {"column": "orders", "min_value": 0, "max_value": 1}}
    ]
    path = make_product(picking.parent / "strict", strict, PICKING_PIPELINE)
    lake.deploy(path)

    with pytest.raises(QualityGateError) as stopped:
        lake.run(path)  # `seen` passes, `totals` counts 2 orders > 1

    assert stopped.value.address == "logistics.strict.totals"
    assert "seen" in str(stopped.value), "the message says which passing outputs were held back"
    assert lake.port("logistics.strict.seen").latest().snapshot_id is None, "the passing output is not published"
    assert lake.port("logistics.strict.totals").latest().snapshot_id is None
    assert len(lake.port("logistics.strict.totals").quarantine()) == 1
    assert lake.port("logistics.strict.seen").quarantine() == []


# -- the pipeline is the product's own code -------------------------------------------------------------
EVIL = """
from pathlib import Path
Path({marker!r}).write_text("the evil pipeline ran")

def build(inputs):
    return {{}}
"""


@pytest.mark.parametrize("how", ["parent-path", "absolute-path", "symlink"])
def test_a_pipeline_module_outside_the_product_folder_is_never_imported(
    lake: ml.Lake, tmp_path: Path, how: str
) -> None:
    marker = tmp_path / "evil-ran"
    evil = tmp_path / "products" / "evil_pipeline.py"
    evil.parent.mkdir(parents=True)
    evil.write_text(EVIL.format(marker=str(marker)))
    module = {"parent-path": "../evil_pipeline.py", "absolute-path": str(evil), "symlink": "linked.py"}[how]
    path = make_product(tmp_path / "products" / "counter", COUNTER | {"pipeline": {"module": module}}, "")
    if how == "symlink":
        (path / "linked.py").symlink_to(evil)
    lake.deploy(path)

    with pytest.raises(DescriptorError) as refused:
        lake.run(path)

    assert refused.value.field == "pipeline.module"
    assert refused.value.file == str(path / "dataproduct.yaml")
    assert not marker.exists(), "the module outside the product folder was executed"
    assert meshlake("run", str(path)).exit_code == 1 and not marker.exists()


FAILING = """
def helper(rows):
    return rows["missing"]


def build(inputs):
    rows = {"present": 1}
    return {"totals": helper(rows)}
"""


def test_an_error_in_the_pipeline_names_the_pipeline_file_and_line(lake: ml.Lake, tmp_path: Path) -> None:
    path = make_product(tmp_path / "products" / "counter", COUNTER, FAILING)
    lake.deploy(path)

    with pytest.raises(PipelineError) as failed:
        lake.run(path)

    pipeline = str((path / "pipeline.py").resolve())
    assert failed.value.product == "ops.counter"
    assert (failed.value.file, failed.value.line) == (pipeline, 3)  # the innermost frame in pipeline.py
    assert isinstance(failed.value.error, KeyError) and failed.value.__cause__ is failed.value.error
    assert f"{pipeline}:3: KeyError: 'missing'" in str(failed.value)
    assert len(lake.port("ops.counter.totals").history()) == 0

    result = meshlake("run", str(path))
    assert result.exit_code == 1
    assert result.stderr.startswith("error: the pipeline of ops.counter failed at")
    assert f"{pipeline}:3" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_an_error_while_importing_the_pipeline_names_its_line(lake: ml.Lake, tmp_path: Path) -> None:
    path = make_product(tmp_path / "products" / "counter", COUNTER, "import json\nraise RuntimeError('no config')\n")
    lake.deploy(path)

    with pytest.raises(PipelineError) as failed:
        lake.run(path)

    assert failed.value.line == 2 and isinstance(failed.value.error, RuntimeError)
