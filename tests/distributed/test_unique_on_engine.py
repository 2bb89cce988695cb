"""The gate's uniqueness checks of a distributed write run on the engine (a shuffle by key) and feed the verdict.

Each scenario writes the same rows to two identical lakes, once with the checks on the engine
(`unique_on_engine=True`) and once on the driver (`False`): the verdicts must be the same (status, counts,
method, sampled rows), the history must say where each check ran, and a failure must quarantine the write and
leave `main` where it was.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.errors import QualityGateError
from meshlake.quality.records import read_results
from tests.conftest import DescriptorWriter, main_snapshot_id
from tests.distributed.conftest import ADDRESS, shipment_rows

pytest.importorskip("daft", reason="Daft is not installed here: run through .ci/distributed-venv.sh's venv")
pytest.importorskip("ray", reason="Ray is not installed here: run through .ci/distributed-venv.sh's venv")

UNIQUE_CHECKS = [
    {"expect_column_values_to_be_unique": {"column": "shipment_id"}},
    {"expect_column_values_to_be_unique": {"column": "lane"}},
    {"expect_compound_columns_to_be_unique": {"column_list": ["lane", "slot"]}},
    {
        "expect_compound_columns_to_be_unique": {
            "column_list": ["lane", "slot"],
            "ignore_row_if": "any_value_is_missing",
        }
    },
]


def _rows(ids: list[str], lanes: list[str | None], slots: list[int | None], day: int = 1) -> pa.Table:
    base = shipment_rows(ids, day=day)
    return base.append_column("lane", pa.array(lanes, pa.string())).append_column("slot", pa.array(slots, pa.int64()))


def _deploy(home: Path, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    lake = ml.connect(home=str(home))
    lake.deploy(write_descriptor(descriptor))
    return lake.port(ADDRESS)


@pytest.fixture
def ports(
    ray_cluster: Any, tmp_path: Path, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> tuple[Any, Any]:
    """The same port in two lakes: the first writes with the checks on the engine, the second on the driver."""
    columns = [{"name": "lane", "type": "string"}, {"name": "slot", "type": "long"}]
    return _twins(tmp_path, descriptor, write_descriptor, columns, UNIQUE_CHECKS)


def _twins(
    home: Path,
    descriptor: dict[str, Any],
    write_descriptor: DescriptorWriter,
    columns: list[dict[str, str]],
    checks: list[dict[str, Any]],
) -> tuple[Any, Any]:
    """The port with `columns` added and `checks` as its expectations, deployed in two lakes under `home`."""
    output = descriptor["outputs"][0]
    output["columns"] += columns
    output["expectations"] = checks
    engine = _deploy(home / "engine", descriptor, write_descriptor)
    return engine, _deploy(home / "driver", descriptor, write_descriptor)


def _write(port: Any, engine: str, table: pa.Table | None, **options: Any) -> Any:
    if engine == "daft":
        import daft

        return port.write_daft(daft.from_arrow(table).repartition(3) if table is not None else None, **options)
    import ray.data

    return port.write_ray(ray.data.from_arrow(table).repartition(3) if table is not None else None, **options)


def _verdict(port: Any, engine: str, table: pa.Table | None, **options: Any) -> tuple[Any, bool]:
    """The gate's report of writing `table`, and whether it was published (a failure must change nothing)."""
    head = main_snapshot_id(port)
    try:
        result = _write(port, engine, table, **options)
    except QualityGateError as failed:
        assert main_snapshot_id(port) == head  # nothing published
        assert failed.quarantine_branch in port.table().metadata.refs  # the batch is quarantined
        return failed.report, False
    assert result.quality is not None
    return result.quality, True


def _comparable(report: Any) -> list[tuple[Any, ...]]:
    return [
        (
            r.expectation,
            r.status,
            r.element_count,
            r.unexpected_count,
            r.unexpected_percent,
            r.method,
            sorted(repr((row["shipment_id"], row["lane"], row["slot"])) for row in r.sample),
        )
        for r in report.results
    ]


def _both(
    ports: tuple[Any, Any], engine: str, table: Any, ran_on: list[str] | None = None, **options: Any
) -> tuple[Any, bool]:
    """Write `table` to both ports, the checks on the engine and on the driver: the verdicts must agree, and the
    engine's say where each check ran (`ran_on`: by default, every one on the engine)."""
    on_engine, published = _verdict(ports[0], engine, table, unique_on_engine=True, **options)
    on_driver, published_too = _verdict(ports[1], engine, table, unique_on_engine=False, **options)
    assert _comparable(on_engine) == _comparable(on_driver)
    assert published == published_too
    assert [r.ran_on for r in on_engine.results] == (ran_on or [engine] * len(UNIQUE_CHECKS))
    assert [r.ran_on for r in on_driver.results] == ["driver"] * len(UNIQUE_CHECKS)
    return on_engine, published


def _seed(ports: tuple[Any, Any], table: pa.Table) -> None:
    for port in ports:
        port.write(table)  # the driver's gate stamps its aggregates: the next append is checked incrementally


ENGINES = ["daft", "ray"]
"""Cases about how an engine groups and counts keys (the shuffle across partitions, NULL parts, incremental sums,
key types, the example keys) run on both engines."""
PLANNED = ["daft"]
"""Cases about which rows a mode's staged snapshot holds (the planning of `meshlake.distributed.unique.chunks` and
`plan_checks`, shared by the engines) run on Daft only: Ray counts the chunks it is handed with the code the cases
on both engines cover."""


@pytest.mark.parametrize("engine", PLANNED)
def test_an_append_without_duplicates_passes_on_the_engine_as_on_the_driver(ports: Any, engine: str) -> None:
    _seed(ports, _rows(["a1", "a2"], ["l1", None], [1, 2]))

    report, published = _both(ports, engine, _rows(["b1", "b2", "b3"], ["l2", "l3", None], [1, None, None], day=2))

    assert published
    assert [r.status for r in report.results] == ["passed"] * 4
    assert report.results[0].method == "incremental"  # the engine did what the driver's incremental check does
    assert report.results[1].element_count == 5 and report.results[1].unexpected_count == 0


@pytest.mark.parametrize("engine", PLANNED)
def test_a_key_repeated_inside_one_partition_fails_on_the_engine_as_on_the_driver(ports: Any, engine: str) -> None:
    _seed(ports, _rows(["a1"], ["l1"], [1]))

    report, published = _both(ports, engine, _rows(["b1", "b1", "b2"], ["l2", "l3", "l4"], [1, 2, 3], day=2))

    assert not published
    assert report.results[0].status == "failed" and report.results[0].unexpected_count == 2
    assert {row["shipment_id"] for row in report.results[0].sample} == {"b1"}


@pytest.mark.parametrize("engine", ENGINES)
def test_a_key_repeated_across_partitions_fails_on_the_engine_as_on_the_driver(ports: Any, engine: str) -> None:
    table = pa.concat_tables(
        [_rows(["c1", "c2"], ["l1", "l2"], [1, 2], day=3), _rows(["c1", "c3"], ["l3", "l4"], [3, 4], day=4)]
    )

    report, published = _both(ports, engine, table)  # the port is empty: the check reads the new rows only

    assert not published
    assert [r.unexpected_count for r in report.results] == [2, 0, 0, 0]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_key_repeated_only_across_old_and_new_rows_fails_on_the_engine_as_on_the_driver(
    ports: Any, engine: str
) -> None:
    _seed(ports, _rows(["a1", "a2", "a3"], ["l1", "l2", "l3"], [1, 2, 3]))

    report, published = _both(ports, engine, _rows(["b1", "a2"], ["l9", "l2"], [9, 2], day=2))

    assert not published
    assert [r.unexpected_count for r in report.results] == [2, 2, 2, 2]
    assert report.results[0].method == "incremental"
    assert sorted(row["shipment_id"] for row in report.results[0].sample) == ["a2", "a2"]


def _seed_foreign(ports: tuple[Any, Any], data: pa.Table) -> None:
    """pyiceberg's own append of `data`: a foreign snapshot (duplicates the gate never saw), checked in full next."""
    from pyiceberg.io.pyarrow import schema_to_pyarrow

    for port in ports:
        table = port.table()
        found = data.append_column("customer_email", pa.array([None] * data.num_rows, pa.string()))
        target = schema_to_pyarrow(table.schema(), include_field_ids=False)
        table.append(found.select(target.names).cast(target))


@pytest.mark.parametrize("engine", PLANNED)
def test_a_base_another_engine_wrote_is_counted_in_full_on_the_engine_as_on_the_driver(ports: Any, engine: str) -> None:
    _seed_foreign(ports, _rows(["f1", "f1", "f2"], ["l1", "l1", None], [1, 1, None]))

    report, published = _both(ports, engine, _rows(["b1", "f2"], ["l5", "l6"], [5, 6], day=2))

    assert not published
    assert [r.method for r in report.results] == ["full"] * 4
    assert [r.unexpected_count for r in report.results] == [4, 2, 2, 2]  # the base's duplicates count too


@pytest.mark.parametrize("engine", ENGINES)
def test_nulls_in_keys_count_on_the_engine_as_on_the_driver(ports: Any, engine: str) -> None:
    _seed(ports, _rows(["a1", "a2"], [None, "l1"], [None, None]))

    new = _rows(["b1", "b2", "b3", "b4"], [None, None, "l1", None], [None, 7, None, 7], day=2)
    report, published = _both(ports, engine, new)

    assert not published
    # lane: NULLs are not keys ("l1" twice); (lane, slot): (NULL, NULL) rows are ignored, (NULL, 7) and
    # ("l1", NULL) are keys that repeat; ignoring any row with a NULL part leaves nothing to repeat
    assert [r.unexpected_count for r in report.results] == [0, 2, 4, 0]


@pytest.mark.parametrize("engine", PLANNED)
def test_an_overwrite_checks_only_its_own_rows_on_the_engine_as_on_the_driver(ports: Any, engine: str) -> None:
    _seed(ports, _rows(["a1", "a2"], ["l1", "l2"], [1, 2]))

    report, published = _both(ports, engine, _rows(["a1", "b1"], ["l1", "l3"], [1, 3], day=2), mode="overwrite")

    assert published
    assert [r.unexpected_count for r in report.results] == [0, 0, 0, 0]
    assert report.results[0].element_count == 2


@pytest.mark.parametrize("engine", PLANNED)
def test_the_quality_history_says_where_each_uniqueness_check_ran(ports: Any, engine: str) -> None:
    port = ports[0]
    port.write(_rows(["a1"], ["l1"], [1]))
    with pytest.raises(QualityGateError):
        _write(port, engine, _rows(["a1"], ["l2"], [2], day=2), unique_on_engine=True)

    rows = read_results(port.lake.catalog, address=ADDRESS)
    gated = [row for row in rows if row["trigger"] == "gate" and row["published"] is False]
    assert {row["ran_on"] for row in gated} == {engine}
    assert [row["unexpected_count"] for row in gated if row["column_name"] == "shipment_id"] == [2]


def test_auto_keeps_a_small_write_on_the_driver(ports: Any) -> None:
    report, published = _verdict(ports[0], "daft", _rows(["a1", "a2"], ["l1", "l2"], [1, 2]))

    assert published
    assert [r.ran_on for r in report.results] == ["driver"] * len(UNIQUE_CHECKS)


def test_a_bad_unique_on_engine_option_is_refused_before_anything_runs(ports: Any) -> None:
    port = ports[0]
    head = main_snapshot_id(port)

    with pytest.raises(ValueError, match="unique_on_engine"):
        _write(port, "daft", _rows(["a1"], ["l1"], [1]), unique_on_engine="sometimes")

    assert main_snapshot_id(port) == head


def test_an_upsert_repeating_a_key_is_refused_before_the_gate_on_the_engine_as_on_the_driver(ports: Any) -> None:
    from meshlake.errors import ContractViolationError

    on_engine, on_driver = ports
    for port in ports:
        port.write(_rows(["a1"], ["l1"], [1]))
    heads = [main_snapshot_id(port) for port in ports]
    repeated = _rows(["a1", "a1"], ["l2", "l3"], [2, 3], day=2)

    with pytest.raises(ContractViolationError) as engine_error:
        _write(on_engine, "daft", repeated, mode="upsert")
    with pytest.raises(ContractViolationError) as driver_error:
        on_driver.write(repeated, mode="upsert")

    assert engine_error.value.column == driver_error.value.column == "shipment_id"
    assert [main_snapshot_id(port) for port in ports] == heads
    assert not [ref for port in ports for ref in port.table().metadata.refs if ref != "main"]  # nothing quarantined


# -- upsert, replace, delete: the staged snapshot is the base's surviving rows plus the new ones --------------------


@pytest.mark.parametrize("engine", PLANNED)
def test_an_upsert_counts_old_rows_that_survive_with_the_new_rows_on_the_engine_as_on_the_driver(
    ports: Any, engine: str
) -> None:
    _seed(ports, _rows(["a1", "a2", "a3"], ["l1", "l2", "l3"], [1, 2, 3]))
    heads = [main_snapshot_id(port) for port in ports]

    # a2 is replaced: its lane l2 is gone, so b1's l2 repeats nothing; the new a2 repeats a3's (l3, 3)
    upsert = _rows(["a2", "b1"], ["l3", "l2"], [3, 2], day=2)
    ran_on = ["driver", engine, engine, engine]
    report, published = _both(ports, engine, upsert, ran_on, mode="upsert", write_mode="merge-on-read")

    assert not published and [main_snapshot_id(port) for port in ports] == heads
    assert [r.unexpected_count for r in report.results] == [0, 2, 2, 2]
    assert report.results[0].method == "incremental"  # the upsert's own key: known from the stamp and the join
    assert sorted(row["shipment_id"] for row in report.results[1].sample) == ["a2", "a3"]


@pytest.mark.parametrize("engine", PLANNED)
def test_an_upsert_that_removes_a_duplicate_passes_on_the_engine_as_on_the_driver(ports: Any, engine: str) -> None:
    _seed_foreign(ports, _rows(["f1", "f2", "f3"], ["l1", "l1", None], [1, 1, None]))

    # write_mode auto: a third of the file's rows change, so the driver rewrites it (copy-on-write): its kept rows
    # are old rows in a new file
    report, published = _both(ports, engine, _rows(["f2"], ["l2"], [2], day=2), mode="upsert")

    assert published
    assert [r.method for r in report.results] == ["full"] * 4  # a foreign base: every row is counted
    assert [r.unexpected_count for r in report.results] == [0, 0, 0, 0]
    assert report.results[0].element_count == 3


@pytest.mark.parametrize("engine", PLANNED)
def test_a_replace_counts_the_kept_rows_with_the_new_rows_on_the_engine_as_on_the_driver(
    ports: Any, engine: str
) -> None:
    _seed(ports, _rows(["a1", "a2"], ["l1", "l2"], [1, 2]))
    _seed(ports, _rows(["b1"], ["l3"], [3], day=2))
    heads = [main_snapshot_id(port) for port in ports]

    # day 2 is replaced: b1 (l3) is gone, c3 may take l3; c1 repeats the kept a1's (l1, 1)
    new = _rows(["c1", "c2", "c3"], ["l1", "l4", "l3"], [1, None, 3], day=2)
    where = "shipped_at >= TIMESTAMPTZ '2026-11-02T00:00:00Z'"
    report, published = _both(ports, engine, new, mode="replace", where=where)

    assert not published and [main_snapshot_id(port) for port in ports] == heads
    assert [r.unexpected_count for r in report.results] == [0, 2, 2, 2]
    assert report.results[0].element_count == 5


@pytest.mark.parametrize("engine", PLANNED)
@pytest.mark.parametrize(
    ("by", "write_mode"), [("key", "merge-on-read"), ("where", "merge-on-read"), ("key", "copy-on-write")]
)
def test_a_delete_counts_the_rows_it_leaves_on_the_engine_as_on_the_driver(
    ports: Any, engine: str, by: str, write_mode: str
) -> None:
    _seed_foreign(ports, _rows(["f1", "f2", "f3", "f4"], ["l1", "l1", "l2", "l2"], [1, 1, None, None]))
    heads = [main_snapshot_id(port) for port in ports]

    keys = pa.table({"shipment_id": ["f2"]}) if by == "key" else None
    where = "shipment_id = 'f2'" if by == "where" else None
    report, published = _both(ports, engine, keys, mode="delete", where=where, write_mode=write_mode)

    # f2 no longer repeats l1; (l2, NULL) still repeats, unless a row with a NULL part is ignored
    assert not published and [main_snapshot_id(port) for port in ports] == heads
    assert [r.unexpected_count for r in report.results] == [0, 2, 2, 0]
    assert {row["shipment_id"] for row in report.results[1].sample} == {"f3", "f4"}


# -- float and decimal keys, row_condition ---------------------------------------------------------------------------

VALUE_CHECKS = [
    {"expect_column_values_to_be_unique": {"column": "weight_kg"}},
    {"expect_column_values_to_be_unique": {"column": "amount"}},
    {"expect_compound_columns_to_be_unique": {"column_list": ["lane", "weight_kg"]}},
    {
        "expect_column_values_to_be_unique": {
            "column": "lane",
            "row_condition": 'col("amount") > 1 & col("lane") != "l9"',
            "condition_parser": "great_expectations",
        }
    },
]


@pytest.fixture
def value_ports(
    ray_cluster: Any, tmp_path: Path, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> tuple[Any, Any]:
    columns = [{"name": "lane", "type": "string"}, {"name": "amount", "type": "decimal(10,2)"}]
    return _twins(tmp_path, descriptor, write_descriptor, columns, VALUE_CHECKS)


def _values(ids: list[str], weights: list[float | None], lanes: list[str | None], amounts: list[str]) -> pa.Table:
    from decimal import Decimal

    rows = shipment_rows(ids).set_column(2, "weight_kg", pa.array(weights, pa.float64()))
    return rows.append_column("lane", pa.array(lanes, pa.string())).append_column(
        "amount", pa.array([Decimal(a) for a in amounts], pa.decimal128(10, 2))
    )


@pytest.mark.parametrize("engine", ENGINES)
def test_float_and_decimal_keys_and_row_conditions_count_on_the_engine_as_on_the_driver(
    value_ports: Any, engine: str
) -> None:
    nan = float("nan")
    for port in value_ports:
        port.write(_values(["a1", "a2"], [0.0, nan], ["l1", "l9"], ["1.50", "2.00"]))

    # -0.0 is 0.0 and NaN is missing (DuckDB's GROUP BY, GE on pandas): 0.0 and 2.5 repeat, and (l1, 0.0) and
    # (l9, NaN as NULL) do; 1.5 is 1.50 at the column's scale; the row_condition keeps rows with amount > 1 and a
    # lane other than l9 (a NULL lane is kept, but is no key): l1 three times
    new = _values(["b1", "b2", "b3", "b4"], [-0.0, nan, 2.5, 2.5], ["l1", "l9", None, "l1"], ["1.5", "0.5", "3", "4"])
    checks = len(VALUE_CHECKS)
    on_engine, published = _verdict(value_ports[0], engine, new, unique_on_engine=True)
    on_driver, published_too = _verdict(value_ports[1], engine, new, unique_on_engine=False)

    counts = [(r.status, r.element_count, r.unexpected_count, r.method) for r in on_engine.results]
    assert counts == [(r.status, r.element_count, r.unexpected_count, r.method) for r in on_driver.results]
    assert not published and not published_too
    assert [r.unexpected_count for r in on_engine.results] == [4, 2, 4, 3]
    assert [r.ran_on for r in on_engine.results] == [engine] * checks
    samples = [sorted(row["shipment_id"] for row in r.sample) for r in on_engine.results]
    assert samples == [sorted(row["shipment_id"] for row in r.sample) for r in on_driver.results]


WHERE_DAY_2 = "shipped_at >= TIMESTAMPTZ '2026-11-02T00:00:00Z' AND shipped_at < TIMESTAMPTZ '2026-11-03T00:00:00Z'"
REBASED = {
    # mode: (options, the write's rows, its verdict's unexpected counts); the concurrent row is b1, lane l6
    "append": ({}, _rows(["b1"], ["l5"], [5], day=2), [2, 0, 0, 0]),
    # the new a1's lane repeats the concurrent row's; the upsert's own key, known from the stamp and the join on
    # the base it started from, is counted in full on the base it was rebased onto (on the engine)
    "upsert": ({"mode": "upsert", "write_mode": "merge-on-read"}, _rows(["a1"], ["l6"], [9], day=2), [0, 2, 0, 0]),
    # day 2 is replaced (no row yet): the concurrent row of day 3 stays, its lane repeated by the new row
    "replace": ({"mode": "replace", "where": WHERE_DAY_2}, _rows(["c1"], ["l6"], [9], day=2), [0, 2, 0, 0]),
}


@pytest.mark.parametrize(
    ("mode", "engine"), [*((mode, "daft") for mode in REBASED), ("append", "ray"), ("upsert", "ray")]
)
def test_a_write_rebased_onto_a_concurrent_commit_is_counted_again_on_the_engine(
    ports: Any, monkeypatch: pytest.MonkeyPatch, engine: str, mode: str
) -> None:
    from meshlake.distributed.driver import DistributedWrite
    from meshlake.distributed.unique import EngineKeyCounter

    options, table, unexpected = REBASED[mode]
    port = ports[0]
    port.write(_rows(["a1"], ["l1"], [1]))
    publish, count = DistributedWrite._publish, EngineKeyCounter.__call__
    concurrent: list[int | None] = []
    counted_on: list[int | None] = []

    def after_a_concurrent_commit(self: DistributedWrite, staged: Any) -> Any:
        port.write(_rows(["b1"], ["l6"], [6], day=3))  # lands on main after the gate passed the staged write
        concurrent.append(main_snapshot_id(port))
        return publish(self, staged)

    def counted(self: EngineKeyCounter, table: Any, base_id: int | None, *args: Any) -> Any:
        counted_on.append(base_id)
        return count(self, table, base_id, *args)

    monkeypatch.setattr(DistributedWrite, "_publish", after_a_concurrent_commit)
    monkeypatch.setattr(EngineKeyCounter, "__call__", counted)
    head = main_snapshot_id(port)
    with pytest.raises(QualityGateError) as failed:
        _write(port, engine, table, unique_on_engine=True, **options)

    # the commit rebased onto the concurrent write; the gate checked again, and the engine counted again on it
    results = failed.value.report.results
    assert counted_on == [head, concurrent[0]]
    assert [r.unexpected_count for r in results] == unexpected
    assert [r.ran_on for r in results] == [engine] * len(UNIQUE_CHECKS)
    assert main_snapshot_id(port) == concurrent[0]
    assert sorted(port.to_arrow().column("shipment_id").to_pylist()) == ["a1", "b1"]


# -- boolean, time, uuid and binary keys ---------------------------------------------------------------------------

OTHER_CHECKS = [
    {"expect_column_values_to_be_unique": {"column": "ref"}},
    {"expect_column_values_to_be_unique": {"column": "blob"}},
    {"expect_compound_columns_to_be_unique": {"column_list": ["flag", "at"]}},
    {
        "expect_compound_columns_to_be_unique": {
            "column_list": ["ref", "blob", "flag"],
            "ignore_row_if": "any_value_is_missing",
        }
    },
]


@pytest.fixture
def other_ports(
    ray_cluster: Any, tmp_path: Path, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> tuple[Any, Any]:
    columns = [
        {"name": "flag", "type": "boolean"},
        {"name": "at", "type": "time"},
        {"name": "ref", "type": "uuid"},
        {"name": "blob", "type": "binary"},
    ]
    return _twins(tmp_path, descriptor, write_descriptor, columns, OTHER_CHECKS)


def _others(
    ids: list[str], flags: list[bool | None], hours: list[int | None], refs: list[int | None], blobs: list[str | None]
) -> pa.Table:
    """Rows whose uuid is `ref` as the number of a UUID and whose binary value is `blob` as hex."""
    import uuid
    from datetime import time

    return (
        shipment_rows(ids)
        .append_column("flag", pa.array(flags, pa.bool_()))
        .append_column("at", pa.array([None if h is None else time(h, 30) for h in hours], pa.time64("us")))
        .append_column("ref", pa.array([None if r is None else uuid.UUID(int=r).bytes for r in refs], pa.binary(16)))
        .append_column("blob", pa.array([None if b is None else bytes.fromhex(b) for b in blobs], pa.binary()))
    )


def _exactly(report: Any) -> list[tuple[Any, ...]]:
    """Everything the report says, samples in their order (which must not depend on the engine)."""
    return [
        (
            r.expectation,
            r.status,
            r.element_count,
            r.unexpected_count,
            r.method,
            [sorted(row.items()) for row in r.sample],
        )
        for r in report.results
    ]


@pytest.mark.parametrize("engine", ENGINES)
def test_boolean_time_uuid_and_binary_keys_count_on_the_engine_as_on_the_driver(other_ports: Any, engine: str) -> None:
    top = 2**128 - 1  # the largest UUID: its first byte is above 0x7f, so a signed order would put it first
    for port in other_ports:
        port.write(_others(["a1", "a2", "a3"], [True, False, None], [1, 2, None], [1, top, None], ["00ff", "ff", None]))

    # ref: top and 1 repeat an old row's; blob: "ff", "00ff" and "" (a value, not missing) repeat;
    # (flag, at): (False, 2:30) repeats, (NULL, NULL) is ignored, (True, NULL) twice is a key that repeats;
    # (ref, blob, flag) with no part missing: (1, "00ff", True) and (top, "ff", False) repeat
    new = _others(
        ["b1", "b2", "b3", "b4", "b5"],
        [False, None, True, True, True],
        [2, None, None, None, 5],
        [top, None, 1, 7, 8],
        ["ff", "", "00ff", None, ""],
    )
    on_engine, published = _verdict(other_ports[0], engine, new, unique_on_engine=True)
    on_driver, published_too = _verdict(other_ports[1], engine, new, unique_on_engine=False)

    assert _exactly(on_engine) == _exactly(on_driver)
    assert not published and not published_too
    assert [r.unexpected_count for r in on_engine.results] == [4, 6, 4, 4]
    assert [r.ran_on for r in on_engine.results] == [engine] * len(OTHER_CHECKS)
    # in key order (the UUID 1 before the largest), then by the whole row
    assert [row["shipment_id"] for row in on_engine.results[3].sample] == ["a1", "b3", "a2", "b1"]


@pytest.mark.parametrize("engine", ENGINES)
def test_the_sampled_rows_are_those_of_the_smallest_duplicated_keys_on_the_engine_as_on_the_driver(
    tmp_path: Path, ray_cluster: Any, descriptor: dict[str, Any], write_descriptor: DescriptorWriter, engine: str
) -> None:
    descriptor["outputs"][0]["quality"] = {"sample_size": 3}
    columns = [{"name": "lane", "type": "string"}, {"name": "slot", "type": "long"}]
    ports = _twins(tmp_path, descriptor, write_descriptor, columns, UNIQUE_CHECKS)
    keys = [f"k{i:02d}" for i in range(12)]  # more duplicated keys than the sample holds
    _seed(ports, _rows(keys[::-1], [f"l{i}" for i in range(12)], list(range(12))))

    new = _rows([*keys, *keys], [f"m{i}" for i in range(24)], list(range(100, 124)), day=2)
    on_engine, published = _verdict(ports[0], engine, new, unique_on_engine=True)
    on_driver, _ = _verdict(ports[1], engine, new, unique_on_engine=False)

    assert not published
    assert _exactly(on_engine) == _exactly(on_driver)
    assert on_engine.results[0].ran_on == engine and on_engine.results[0].unexpected_count == 36
    # the rows of the smallest keys, in key order, then by the whole row (its other columns)
    assert [row["shipment_id"] for row in on_engine.results[0].sample] == ["k00", "k00", "k00"]
    assert [row["lane"] for row in on_engine.results[0].sample] == ["l11", "m0", "m12"]
