"""Fuzz port writes with generated Arrow batches in every mode, and deletes with generated filters.

One port holds a column of every contract type (nested ones included), a partition spec and a quality gate.
Each case appends, overwrites, upserts, replaces (with a generated `where`) or deletes (with a generated or
broken `where`), under a time limit, and then reads the port back:

- a refused write raised a `MeshlakeError`, and `main`, the rows read back and (unless the quality gate kept the
  write in quarantine) the table's metadata and data files are exactly as before;
- an accepted write holds exactly what was written, in the contract's types (`tests.fuzz.values`), and the rows a
  `where` touched are the rows DuckDB's WHERE selects (`tests.fuzz.filters`);
- a write is refused when, and only when, it must be: a value that no contract value equals, a missing or null
  required column, an unknown column, a failed expectation, a repeated key in an upsert, a replaced row outside
  its `where`, or a filter outside the grammar.
"""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
import yaml

import meshlake as ml
from meshlake.errors import InvalidFilterError, QualityGateError
from tests.fuzz.batches import (
    ADDRESS,
    CANONICAL,
    CONTRACT,
    GATE_LIMIT,
    PARTITIONINGS,
    REQUIRED,
    Batch,
    descriptor,
    make_batch,
    make_row,
    written,
)
from tests.fuzz.filters import FILTERABLE, duckdb_matches, make_filter, mangle
from tests.fuzz.harness import SEED, Report, error_problem, run_case
from tests.fuzz.values import UNFIT, same, to_contract, type_fits

SHARDS = 4
"""The fuzz runs as independent shards (a port each, seeds SEED, SEED+1, …): xdist spreads them, and each port's
history stays short enough to read quickly."""
MODES = {"append": 20, "upsert": 12, "replace": 16, "overwrite": 4, "delete": 14}
"""Cases per shard and mode: 52 batches and 14 deletes per shard, 208 batches in all."""
CASES = sum(MODES.values())


@dataclass
class Case:
    number: int
    mode: str
    batch: Batch | None = None
    where: str | None = None
    generated_where: bool = True

    def describe(self) -> str:
        where = f" where={self.where[:300]!r}" if self.where is not None else ""
        batch = f"\n    batch {self.batch.describe()}" if self.batch is not None else ""
        return f"write case {self.number}: {self.mode}{where}{batch}"


class FuzzPort:
    """The port under fuzz and what the checks need to read off it."""

    def __init__(self, lake: ml.Lake) -> None:
        self.lake = lake
        self.port = lake.port(ADDRESS)
        self.target = pa.schema([self.port.table().schema().as_arrow().field(name) for name in CONTRACT])
        self.folder = lake.settings.home_path / "warehouse" / "fuzz" / "writes" / "rows"

    def main_id(self) -> int | None:
        snapshot = self.port.table().metadata.snapshot_by_name("main")
        return snapshot.snapshot_id if snapshot else None

    def rows(self) -> list[dict[str, Any]]:
        """The published rows as Python values (uuids, which the read gives as text, as `uuid.UUID`)."""
        return normalized(self.port.to_arrow().select(list(CONTRACT)).to_pylist())

    def files(self) -> set[Path]:
        return set(self.folder.rglob("*.parquet"))

    def metadata_location(self) -> str:
        with sqlite3.connect(self.lake.settings.embedded_catalog) as connection:
            (location,) = connection.execute(
                "SELECT metadata_location FROM iceberg_tables WHERE table_namespace = ? AND table_name = ?",
                ("fuzz.writes", "rows"),
            ).fetchone()
        connection.close()
        return str(location)


def normalized(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Rows as read, with the uuid column (which DuckDB gives as text) as `uuid.UUID` values."""
    for row in rows:
        if isinstance(row["u"], str):
            row["u"] = uuid.UUID(row["u"])
    return rows


def deploy_port(folder: Path, shard: int) -> FuzzPort:
    """The fuzz port in a new lake under `folder`, partitioned one way or the other by shard."""
    lake = ml.connect(home=str(folder / ".meshlake"))
    product = folder / "product"
    product.mkdir()
    text = yaml.safe_dump(descriptor(PARTITIONINGS[shard % len(PARTITIONINGS)]), sort_keys=False)
    (product / "dataproduct.yaml").write_text(text, encoding="utf-8")
    lake.deploy(product)
    return FuzzPort(lake)


# -- what a write must do ---------------------------------------------------------------------------------


def expected_rows(batch: Batch, target: pa.Schema) -> tuple[list[dict[str, Any]], str | None]:
    """The rows an accepted write of `batch` stores, in the contract's types; or why it must be refused."""
    names = batch.table.column_names
    unknown = [n for n in names if n not in CONTRACT]
    if unknown:
        return [], f"column {unknown[0]!r} is not in the contract"
    if len(set(names)) != len(names):
        return [], "a column appears twice"
    missing = [n for n in REQUIRED if n not in names]
    if missing:
        return [], f"required column {missing[0]!r} is missing"
    for field in target:
        if field.name in names and not type_fits(batch.table.schema.field(field.name).type, field.type):
            kind = batch.table.schema.field(field.name).type
            return [], f"column {field.name!r} is {kind}: no value fits {CONTRACT[field.name]}"
    values = written(batch.table)
    rows = []
    for index in range(batch.table.num_rows):
        row = {}
        for field in target:
            value = values[field.name][index] if field.name in values else None
            row[field.name] = to_contract(value, field.type)
            if row[field.name] is UNFIT:
                return [], f"row {index}: {field.name}={value!r} fits no {CONTRACT[field.name]} value exactly"
            if row[field.name] is None and field.name in REQUIRED:
                return [], f"row {index}: required column {field.name!r} is null"
        rows.append(row)
    return rows, None


def gate_failure(rows: list[dict[str, Any]]) -> str | None:
    """Why the port's expectations refuse these new rows (None: they pass)."""
    for row in rows:
        if row["l"] is not None and not -GATE_LIMIT <= row["l"] <= GATE_LIMIT:
            return f"l={row['l']} is outside ±{GATE_LIMIT}"
        if row["name"].startswith("FAIL"):
            return f"name={row['name']!r} matches ^FAIL"
    return None


def contract_table(rows: list[dict[str, Any]], target: pa.Schema) -> pa.Table:
    """Rows of contract values as an Arrow table of the contract's types (for DuckDB)."""
    columns = []
    for field in target:
        values = [row[field.name] for row in rows]
        if isinstance(field.type, pa.BaseExtensionType):  # uuid: built from its 16 bytes
            values = [None if v is None else v.bytes for v in values]
        columns.append(pa.array(values, type=field.type))
    return pa.Table.from_arrays(columns, schema=target)


def rows_differ(expected: list[dict[str, Any]], stored: list[dict[str, Any]]) -> str | None:
    """How the stored rows differ from the expected ones (None: the same rows, in any order)."""
    remaining = list(stored)
    for row in expected:
        match = next((index for index, kept in enumerate(remaining) if _same_row(row, kept)), None)
        if match is None:
            near = [kept for kept in remaining if kept["id"] == row["id"]]
            changed = {k: (row[k], near[0][k]) for k in row if near and not same(row[k], near[0][k])}
            detail = f"stored with changes (expected, stored): {changed!r}" if near else "missing"
            return f"row id={row['id']} {detail}"[:2000]
        remaining.pop(match)
    if remaining:
        return f"{len(remaining)} unexpected row(s), e.g. {remaining[0]!r}"[:2000]
    return None


def _same_row(expected: dict[str, Any], stored: dict[str, Any]) -> bool:
    return all(same(value, stored[name]) for name, value in expected.items())


# -- generating cases -------------------------------------------------------------------------------------


class CaseMaker:
    def __init__(self, rng: random.Random, fuzz: FuzzPort) -> None:
        self.rng = rng
        self.fuzz = fuzz
        self.next_id = 1_000

    def fresh_rows(self, count: int) -> list[dict[str, Any]]:
        rows = []
        for _ in range(count):
            self.next_id += 1
            rows.append(make_row(self.rng, self.next_id))
        return rows

    def make(self, number: int, mode: str, current: list[dict[str, Any]]) -> Case:
        rng = self.rng
        ids = [row["id"] for row in current]
        values = {name: [row[name] for row in current] for name in FILTERABLE}
        if mode == "delete":
            text, generated = self.where(values)
            return Case(number, mode, where=text, generated_where=generated)
        count = rng.choice([0, 1, 1, 2, 3, 4, 6]) if mode != "overwrite" else rng.randint(0, 8)
        rows = self.fresh_rows(count)
        if ids and (mode == "upsert" or rng.random() < 0.05):  # keys that exist: updates (or repeats)
            for row in rows:
                if rng.random() < 0.6:
                    row["id"] = rng.choice(ids)
        where: str | None = None
        generated = True
        if mode == "replace":
            where, generated = self.where(values)
            rows = self.rows_inside(where, rows) if generated and rng.random() < 0.8 else rows
        return Case(number, mode, make_batch(rng, rows), where, generated)

    def where(self, values: dict[str, list[Any]]) -> tuple[str, bool]:
        text = make_filter(self.rng, values)
        if self.rng.random() < 0.2:
            return mangle(self.rng, text), False
        return text, True

    def rows_inside(self, where: str, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Rows the filter selects, so that most replaces are valid (candidates generated until a few match)."""
        candidates = rows + self.fresh_rows(24)
        table = pa.Table.from_arrays(
            [CANONICAL[kind]([row[name] for row in candidates]) for name, kind in CONTRACT.items()],
            names=list(CONTRACT),
        )
        try:
            inside = duckdb_matches(table, where)
        except Exception:
            return rows
        chosen = [row for row, selected in zip(candidates, inside, strict=True) if selected]
        return chosen[: self.rng.randint(0, 4)]


# -- running and checking them ----------------------------------------------------------------------------


def run(case: Case, fuzz: FuzzPort) -> Callable[[], Any]:
    port = fuzz.port
    if case.mode == "delete":
        assert case.where is not None
        where = case.where
        return lambda: port.delete(where)
    assert case.batch is not None
    data, mode, where_ = case.batch.data, case.mode, case.where
    return lambda: port.write(data, mode=mode, where=where_)  # type: ignore[arg-type]


def sql_matches(case: Case, rows: list[dict[str, Any]], target: pa.Schema) -> list[bool] | None:
    """Which `rows` DuckDB's WHERE selects with the case's filter; None when DuckDB cannot run a broken one."""
    assert case.where is not None
    try:
        return duckdb_matches(contract_table(rows, target), case.where)
    except Exception as exc:
        if case.generated_where:
            raise AssertionError(f"DuckDB cannot run a generated filter: {exc}") from exc
        return None


def must_refuse(
    case: Case, fuzz: FuzzPort, before: list[dict[str, Any]]
) -> tuple[list[dict[str, Any]] | None, str | None, str]:
    """The rows after the case if it is accepted, or why it must be refused; and which error kind refuses it."""
    kept = before
    if case.where is not None:
        selected = sql_matches(case, before, fuzz.target)
        if selected is None:
            return None, "the filter is not SQL that DuckDB runs on these rows", "filter"
        kept = [row for row, hit in zip(kept, selected, strict=True) if not hit]
    if case.mode == "delete":
        return kept, None, ""
    assert case.batch is not None
    rows, reason = expected_rows(case.batch, fuzz.target)
    if reason:
        return None, reason, "contract"
    if case.mode == "upsert":
        keys = [row["id"] for row in rows]
        if len(set(keys)) != len(keys):
            return None, "the batch repeats a key", "contract"
        kept = [row for row in before if row["id"] not in set(keys)]
    if case.mode == "overwrite":
        kept = []
    if case.mode == "replace" and rows:
        inside = sql_matches(case, rows, fuzz.target)
        if inside is None:
            return None, "the filter is not SQL that DuckDB runs on the new rows", "filter"
        if not all(inside):
            return None, f"row id={rows[inside.index(False)]['id']} is outside where", "contract"
    gate = gate_failure(rows)
    if gate:
        return None, gate, "gate"
    return kept + rows, None, ""


def check_case(report: Report, case: Case, fuzz: FuzzPort, before: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Run one case and check it; returns the rows the port holds afterwards."""
    main_before, files_before, metadata_before = fuzz.main_id(), fuzz.files(), fuzz.metadata_location()
    try:
        expected, reason, kind = must_refuse(case, fuzz, before)
    except AssertionError as oracle:
        report.fail(case.describe(), str(oracle))
        expected, reason, kind = None, "unknown", "filter"
    outcome = run_case(run(case, fuzz))
    report.timed(outcome.seconds, f"case {case.number} ({case.mode})")
    after = fuzz.rows()
    if case.batch is not None:
        report.count("batches")
    if outcome.error is not None:
        error = outcome.error
        report.count(f"{case.mode} refused")
        report.count(type(error).__name__)
        problem = error_problem(error)
        if problem:
            report.fail(case.describe(), problem, error)
        if fuzz.main_id() != main_before:
            report.fail(case.describe(), f"a refused write ({type(error).__name__}) moved main")
        lost = rows_differ(before, after)
        if lost:
            report.fail(case.describe(), f"a refused write ({type(error).__name__}) changed the rows: {lost}")
        if not isinstance(error, QualityGateError):
            if fuzz.files() != files_before:
                report.fail(case.describe(), f"a refused write ({type(error).__name__}) left data files behind")
            if fuzz.metadata_location() != metadata_before:
                report.fail(case.describe(), f"a refused write ({type(error).__name__}) changed the table metadata")
        if reason is None and not (isinstance(error, InvalidFilterError) and not case.generated_where):
            report.fail(case.describe(), f"refused a write the contract accepts: {type(error).__name__}: {error}")
        elif kind == "gate" and not isinstance(error, QualityGateError) and isinstance(error, ml.MeshlakeError):
            report.count("gate failure refused earlier")
        return after
    report.count(f"{case.mode} accepted")
    if reason is not None:
        report.fail(case.describe(), f"accepted a write that must be refused: {reason}")
        return after
    assert expected is not None
    changed = rows_differ(expected, after)
    if changed:
        report.fail(case.describe(), f"the port holds other values than were written: {changed}")
    return after


@pytest.mark.slow
@pytest.mark.parametrize("shard", range(SHARDS))
def test_fuzz_writes_refuse_clearly_and_never_change_a_value(tmp_path: Path, shard: int) -> None:
    fuzz = deploy_port(tmp_path, shard)
    report = Report(f"write fuzz shard {shard} (seed {SEED + shard}), {CASES} cases")
    rng = random.Random(SEED + shard)
    maker = CaseMaker(rng, fuzz)
    modes = [mode for mode, count in MODES.items() for _ in range(count)]
    rng.shuffle(modes)
    seed_rows = maker.fresh_rows(6)
    for row in seed_rows:
        row["name"], row["l"] = "seed", 1
    fuzz.port.write(
        pa.Table.from_arrays(
            [CANONICAL[k]([r[n] for r in seed_rows]) for n, k in CONTRACT.items()], names=list(CONTRACT)
        )
    )
    current = fuzz.rows()
    for number, mode in enumerate(modes):
        case = maker.make(number, mode, current)
        current = check_case(report, case, fuzz, current)
    final = run_case(lambda: fuzz.lake.sql(f"SELECT * FROM {ADDRESS}").to_arrow_table())
    if final.error is not None:
        report.fail("reading the port with lake.sql after the fuzz", f"failed: {final.error!r}", final.error)
    else:
        differ = rows_differ(current, normalized(final.result.select(list(CONTRACT)).to_pylist()))
        if differ:
            report.fail("reading the port with lake.sql after the fuzz", f"SQL reads other rows: {differ}")
    report.check()
    assert report.counts.get("batches", 0) == CASES - MODES["delete"], report.summary()
    accepted = sum(v for k, v in report.counts.items() if k.endswith(" accepted"))
    assert accepted >= CASES // 4, f"too few writes were accepted to test values: {report.summary()}"
