"""Incremental table checks: an append is checked from the base snapshot's stamped aggregates plus its new rows.

A table check (uniqueness, row count, min/max/sum/mean) covers every row of the staged snapshot. When the
write appends to a snapshot that the native gate published, most of that work was done when the base was
checked: the gate stamps the aggregates behind each table check on what it publishes (`meshlake.quality`
gets `fingerprint`, `rows` and `aggregates`, by expectation index), and the next append combines them with
aggregates of its new rows only:

- row count: the base's stamped rows plus the new files' record counts (metadata);
- min / max: the least / greatest of the base's value and the new rows'; sum: the base's sum plus the new
  rows', exactly for integers (HUGEINT) and decimals (DECIMAL(38, s)); mean: (base sum + new sum) /
  (base count + new count). Values travel as DuckDB text, which casts back to the same value;
- uniqueness: GE counts every row, old or new, whose key occurs more than once. An append can only add
  rows to keys of its new rows, so the count is the base's plus, for each new key, its rows now minus its
  rows counted before (when the key was already duplicated in the base). The base rows of the new keys
  come from a join whose base side is also filtered by the new keys' min/max: DuckDB skips every base row
  group whose Parquet statistics lie outside, so sequential keys appended to millions of rows read
  almost nothing of the base.

- the sample deviation: the base's (count, mean, M2) with the new rows' (Chan et al.); row-count equality from
  the plan's record counts; the KL divergence and chi-square tests from the base's bin or value counts plus the
  new rows' (value counts are stamped for at most `MAX_COUNTED_VALUES` distinct values).

Integers, decimals, dates, times and timestamps combine exactly. Float sums, means and deviations combine in
floating point, as the full evaluation computes them (its own result depends on the summation order).
The other table checks (median, quantiles, distinct values, order, z-scores, SQL expectations …) and every
expectation with a `row_condition` are evaluated in full.

`prior_aggregates` decides whether an append may be checked this way (see its docstring); otherwise the
whole staged snapshot is read, and the fresh aggregates are stamped for the next append.

Snapshot metadata is readable by anyone who reads the table's metadata, so a min, max, sum or mean of a column
classified `pii` or `confidential` is never stamped (`withhold_values`): such a check is evaluated in full on
every append instead, as the column's Iceberg bounds are not kept either.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pyiceberg.io import FileIO
from pyiceberg.manifest import DataFile
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.refs import MAIN_BRANCH
from pyiceberg.table.snapshots import Snapshot

from meshlake.contract.expectations import Expectation
from meshlake.contract.stamps import MODE, QUALITY
from meshlake.quality.bitmap import IntRange, RangeLookup
from meshlake.quality.compile import Column, Plan, bitmap_distinct, sample_duplicates, unique_key
from meshlake.quality.regex import quote
from meshlake.quality.report import ExpectationResult
from meshlake.query.plan import ScanPlan
from meshlake.query.provenance import provenance
from meshlake.write.commit import Change, ReplacedKeys

BASIS_VERSION = 1
"""Bumped when the meaning of stamped aggregates changes: older stamps then no longer match any fingerprint."""

_UNIQUE = ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique")
_ROW_COUNT = "expect_table_row_count_to_be_between"
_ROW_COUNT_EQUAL = "expect_table_row_count_to_equal"
_STDEV = "expect_column_stdev_to_be_between"
_COUNTED = ("expect_column_kl_divergence_to_be_less_than", "expect_column_chisquare_test_p_value_to_be_greater_than")
"""Distribution checks whose aggregates are counts (bins, values): the base's plus the new rows'."""
MAX_COUNTED_VALUES = 1000
"""A categorical partition's value counts are stamped when the column has at most this many distinct values."""
_EXTREMES = {
    "expect_column_min_to_be_between": ("min", "least"),
    "expect_column_max_to_be_between": ("max", "greatest"),
}
_SUM = "expect_column_sum_to_be_between"
_MEAN = "expect_column_mean_to_be_between"
_REVEALING = frozenset({*_EXTREMES, _SUM, _MEAN})
"""Table checks whose stamped aggregate is a value of their column (a sum of one row is its value)."""
_PRUNABLE = frozenset({"integer", "decimal", "date", "time", "timestamp", "timestamptz", "string", "uuid"})
"""Key families whose min/max filter prunes base row groups safely (equal keys always lie inside the range)."""
_DECIMAL = re.compile(r"^DECIMAL\(\s*\d+\s*,\s*(\d+)\s*\)$", re.IGNORECASE)


@dataclass(frozen=True)
class Incremental:
    """What an append's incremental check builds on."""

    base_sql: Callable[[], str]
    """The base snapshot's rows (a DuckDB relation), rendered when a check needs them."""
    rows: int
    """The staged snapshot's row count, from metadata."""
    aggregates: Mapping[str, Any]
    """The base's stamped aggregates, by expectation index (as text)."""
    base_for_keys: Callable[[Sequence[str], bool], str | None] | None = None
    """(key columns, whether NULLs match) → the base's rows in the files that may share a key with the new
    rows, or None when no base file may (by Iceberg column bounds). Without it: `base_sql`."""
    new_ranges: RangeLookup | None = None
    """Integer key columns → their ranges over the new files (Iceberg bounds): a uniqueness check of new keys
    that no base row can share counts them in a bitmap when the range is small (`meshlake.quality.bitmap`)."""
    replaced: ReplacedKeys | None = None
    """Set for a merge-on-read upsert (`upsert_basis`): only the row count and the uniqueness of its key are
    derived (`_after_upsert`), every other table check is evaluated in full."""
    required: frozenset[str] = frozenset()
    """The columns that hold no NULL (required in the schema)."""


def on_snapshot(
    base: ScanPlan,
    snapshot: Snapshot,
    io: FileIO,
    rows: int,
    aggregates: Mapping[str, Any],
    new_files: Sequence[DataFile],
) -> Incremental:
    """An `Incremental` on a planned base snapshot; key lookups read only the base files whose Iceberg
    column bounds overlap those of the new files (`meshlake.quality.pruning`)."""
    from meshlake.quality.pruning import inside, new_range
    from meshlake.query.sql import scan_sql

    def base_for_keys(names: Sequence[str], nulls_match: bool) -> str | None:
        ranges = {}
        for name in names:
            found = new_range(new_files, base.schema.find_field(name), nulls_match=nulls_match)
            if found is not None:
                ranges[name] = found
        candidates = inside(snapshot, io, base.schema, ranges) if ranges else None
        if candidates is None:
            return f"({scan_sql(base)})" if base.tasks else None
        if not candidates:
            return None  # no base file may share a key with the new rows: none is even listed
        kept = tuple(task for task in base.tasks if task.path in candidates)
        return f"({scan_sql(replace(base, tasks=kept))})" if kept else None

    from meshlake.quality.bitmap import int_ranges

    def new_ranges(names: Sequence[str]) -> Mapping[str, IntRange]:
        return int_ranges(new_files, base.schema, names)

    return Incremental(lambda: f"({scan_sql(base)})", rows, aggregates, base_for_keys, new_ranges)


def fingerprint(expectations: Sequence[Expectation], schema_id: int) -> str:
    """Identifies an expectation list (types, kwargs, order) on one table schema: aggregates stamped under
    one fingerprint only serve checks under the same one."""
    text = json.dumps(
        {"v": BASIS_VERSION, "schema": schema_id, "expectations": [e.to_item() for e in expectations]},
        sort_keys=True,
        default=str,
    )
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def prior_aggregates(
    metadata: TableMetadata, base_id: int | None, change: Change, key: str, base: ScanPlan, io: FileIO
) -> tuple[Mapping[str, Any], int] | None:
    """The base snapshot's stamped aggregates and live rows, when `change` may be checked incrementally on it;
    else None.

    All of: the change is a pure append (nothing deleted, every added file holds new rows) and the base's stamp
    may be built on (`stamped_basis`).
    """
    if change.kind != "append" or change.deleted or change.delete_files or base_id is None:
        return None
    if {f.file_path for f in change.added} != {f.file_path for f in change.new_rows}:
        return None
    return stamped_basis(metadata, base_id, key, base, io)


def upsert_basis(
    metadata: TableMetadata, base_id: int | None, change: Change, key: str, base: ScanPlan, io: FileIO
) -> tuple[Mapping[str, Any], int] | None:
    """The base's stamped aggregates and the staged snapshot's live rows, when `change` is a merge-on-read upsert
    whose key lookup ran on `base_id` (`Change.replaced_keys`: nothing removed but the rows it lists, every added
    file holds new rows) and the base's stamp may be built on (`stamped_basis`); else None."""
    replaced = change.replaced_keys
    if replaced is None or base_id is None or replaced.base_id != base_id or change.deleted:
        return None
    if {f.file_path for f in change.added} != {f.file_path for f in change.new_rows}:
        return None
    prior = stamped_basis(metadata, base_id, key, base, io)
    if prior is None:
        return None
    aggregates, rows = prior
    return aggregates, rows - replaced.rows + sum(f.record_count for f in change.new_rows)


def stamped_basis(
    metadata: TableMetadata, base_id: int, key: str, base: ScanPlan, io: FileIO
) -> tuple[Mapping[str, Any], int] | None:
    """The stamped aggregates and live rows of snapshot `base_id`, when a write on it may build on them; else None.

    All of: the base is `main`'s head (the staged snapshot's parent) on the current schema; its `meshlake.quality`
    stamp says the native gate passed it under fingerprint `key`; the base has no equality delete; the base's
    record counts, less its position deletes (`total-position-deletes`: merge-on-read writes, which never list a
    row twice), add up to the rows the stamp says it checked; and meshlake wrote the base: its `meshlake.digest`
    matches its files and stamps (`meshlake.query.provenance`). A foreign head is checked in full, and the next
    write builds on the fresh aggregates stamped then. The base's aggregates are of its live rows, so pending
    position deletes do not stop a write from building on them.
    """
    head = metadata.snapshot_by_name(MAIN_BRANCH)
    if head is None or head.snapshot_id != base_id or head.schema_id != metadata.current_schema_id:
        return None
    stamped = _past_compactions(metadata, head, io)
    if stamped is None:
        return None
    summary = stamped.summary.additional_properties if stamped.summary else {}
    try:
        stamp = json.loads(summary.get(QUALITY) or "null")
    except ValueError:
        return None
    if not isinstance(stamp, dict) or stamp.get("verdict") != "passed" or stamp.get("engine") != "native":
        return None
    aggregates, rows = stamp.get("aggregates"), stamp.get("rows")
    if stamp.get("fingerprint") != key or not isinstance(aggregates, dict) or not isinstance(rows, int):
        return None
    if any(task.equality_deletes for task in base.tasks):
        return None
    head_summary = head.summary.additional_properties if head.summary else {}
    deleted = int(head_summary.get("total-position-deletes") or 0) if base.has_deletes else 0
    if base.record_count - deleted != rows:
        return None
    if provenance(str(metadata.table_uuid), stamped, io).foreign:
        return None
    return aggregates, rows


COMPACT_MODE = "compact"
MAX_COMPACTIONS_PASSED = 8
"""Compactions in a row `stamped_basis` looks past for the stamp of the write before them."""


def _past_compactions(metadata: TableMetadata, head: Snapshot, io: FileIO) -> Snapshot | None:
    """`head`, or when it is a compaction meshlake committed (`meshlake maintain`, a stream's compactor, automatic
    compaction after a write), the nearest ancestor that is not: a compaction rewrites files, never rows (it
    commits only when the rows it read are the rows it wrote), so the aggregates stamped on the write before it
    are those of its live rows too. None when a compaction in between is foreign or the chain runs out."""
    uuid = str(metadata.table_uuid)
    snapshot: Snapshot | None = head
    for _ in range(MAX_COMPACTIONS_PASSED + 1):
        if snapshot is None:
            return None
        summary = snapshot.summary.additional_properties if snapshot.summary else {}
        if summary.get(MODE) != COMPACT_MODE:
            return snapshot
        if provenance(uuid, snapshot, io).foreign or snapshot.parent_snapshot_id is None:
            return None
        snapshot = metadata.snapshot_by_id(snapshot.parent_snapshot_id)
    return None


def incremental_plan(
    exp: Expectation,
    columns: Mapping[str, Column],
    state: Mapping[str, Any],
    incremental: Incremental,
    *,
    new_sql: str,
    sample_size: int,
) -> Plan | None:
    """The incremental plan of a table check, or None when it is evaluated in full (or `state` does not fit)."""
    spec = exp.spec
    if exp.kwargs.get("row_condition") is not None:
        return None  # the base's aggregates are of every row
    plan = Plan(exp, spec, "table", reads="new", method="incremental")
    if incremental.replaced is not None:
        return _after_upsert(plan, state, incremental, incremental.replaced)
    try:
        if spec.name in (_ROW_COUNT, _ROW_COUNT_EQUAL):
            plan.known["value"] = incremental.rows
            if spec.name == _ROW_COUNT_EQUAL:
                plan.verdict = lambda got: (int(got["value"]) == int(exp.kwargs["value"]), int(got["value"]))
            return plan
        if spec.name == _STDEV:
            return _stdev(plan, columns[exp.kwargs["column"]], state)
        if spec.name in _COUNTED:
            return _counted(exp, columns, state, new_sql)
        if spec.name in _UNIQUE:
            names = [exp.kwargs["column"]] if "column" in exp.kwargs else list(exp.kwargs["column_list"])
            return _unique(plan, [columns[n] for n in names], state, incremental, new_sql, sample_size)
        if spec.name in (*_EXTREMES, _SUM, _MEAN):
            return _aggregate(plan, columns[exp.kwargs["column"]], state)
    except (KeyError, TypeError, ValueError):
        return None
    return None


def basis(plan: Plan, got: Mapping[str, Any], result: ExpectationResult) -> dict[str, Any] | None:
    """The aggregates to stamp for a table check (full or incremental), so that the next append builds on them."""
    if plan.source != "table" or result.status == "errored" or plan.exp.kwargs.get("row_condition") is not None:
        return None
    name = plan.spec.name
    if name in (_ROW_COUNT, _ROW_COUNT_EQUAL):
        return {}
    if name == _STDEV and (got.get("m2") is not None or "base_n" in got):
        n, mean, m2 = stdev_state(got)
        return {"n": n, "mean": mean, "m2": m2}
    if name in _COUNTED and plan.exp.kwargs.get("partition_object") is not None:
        return _counts_basis(got)
    if name in _UNIQUE and result.unexpected_count is not None:
        return {"nonnull": int(got["nonnull"]), "unexpected": int(result.unexpected_count)}
    if name in _EXTREMES or name == _SUM:
        return {"value": got.get("text")}
    if name == _MEAN:
        return {"nonnull": int(got["nonnull"]), "sum": got.get("sum_text")}
    return None


def withhold_values(
    aggregates: Mapping[str, Any], expectations: Sequence[Expectation], classified: Collection[str]
) -> dict[str, Any]:
    """`aggregates` without those that hold a value of a `classified` column (a min, max, sum or mean).

    Counts (row count, uniqueness) reveal no value and are kept.
    """
    kept = {}
    for index, state in aggregates.items():
        exp = expectations[int(index)]
        if exp.spec.name in _REVEALING and exp.kwargs.get("column") in classified:
            continue
        kept[index] = state
    return kept


def _stdev(plan: Plan, col: Column, state: Mapping[str, Any]) -> Plan:
    """The sample deviation of base + new rows from the base's (count, mean, M2) and the new rows' (Chan et al.),
    in floating point, as the full evaluation computes it (its own result depends on the summation order)."""
    from meshlake.quality.native import in_range

    x = f"{col.value}::DOUBLE"
    plan.family = col.family
    plan.known |= {"base_n": int(state["n"]), "base_mean": float(state["mean"]), "base_m2": float(state["m2"])}
    plan.aggregates |= {"new_n": f"count({x})", "new_mean": f"avg({x})", "new_m2": f"var_pop({x})"}

    def verdict(got: Mapping[str, Any]) -> tuple[bool, Any]:
        n, _, m2 = stdev_state(got)
        value = math.sqrt(m2 / (n - 1)) if n > 1 else None
        return value is not None and in_range(value, plan.exp.kwargs, col.family), value

    plan.verdict = verdict
    return plan


def stdev_state(got: Mapping[str, Any]) -> tuple[int, float, float]:
    """(count, mean, M2) of a stdev check's values: as aggregated, or the base's combined with the new rows'."""
    if "base_n" not in got:
        return int(got["n"]), float(got["mean"] or 0.0), float(got["m2"] or 0.0)
    na, ma, m2a = int(got["base_n"]), float(got["base_mean"]), float(got["base_m2"])
    nb = int(got["new_n"])
    if nb == 0:
        return na, ma, m2a
    mb, m2b = float(got["new_mean"]), float(got["new_m2"]) * nb
    n = na + nb
    delta = mb - ma
    return n, ma + delta * nb / n, m2a + m2b + delta * delta * na * nb / n


def _counted(exp: Expectation, columns: Mapping[str, Column], state: Mapping[str, Any], new_sql: str) -> Plan:
    """A distribution check of counts: the new rows' counts plus the base's (bins and tails, or value counts)."""
    from meshlake.quality.compile import compile_plan

    plan = compile_plan(exp, columns, source="table", source_sql=new_sql)
    plan.reads, plan.method = "new", "incremental"
    for role, sql in list(plan.aggregates.items()):
        if role == "counts":
            continue
        plan.aggregates[role] = f"({int(state[role])} + {sql})"
    if "counts" in plan.aggregates:
        base = {value: int(count) for value, count in state["counts"]}
        judge = plan.verdict
        assert judge is not None

        def verdict(got: Mapping[str, Any]) -> tuple[bool, Any]:
            merged = dict(base)
            for value, count in dict(got.get("counts") or {}).items():
                merged[value] = merged.get(value, 0) + int(count)
            return judge({**got, "counts": merged})

        plan.verdict = verdict
        plan.known["base_counts"] = base
    return plan


def _counts_basis(got: Mapping[str, Any]) -> dict[str, Any] | None:
    state: dict[str, Any] = {role: int(value) for role, value in got.items() if role not in ("counts", "base_counts")}
    if "counts" in got:
        counts = dict(got.get("counts") or {})
        if "base_counts" in got:  # an incremental result: what was stamped plus the new rows
            merged = dict(got["base_counts"])
            for value, count in counts.items():
                merged[value] = merged.get(value, 0) + int(count)
            counts = merged
        if len(counts) > MAX_COUNTED_VALUES or not all(isinstance(v, str | int | float | bool) for v in counts):
            return None
        state["counts"] = [[value, int(count)] for value, count in counts.items()]
    return state


def _aggregate(plan: Plan, col: Column, state: Mapping[str, Any]) -> Plan | None:
    name, v = plan.spec.name, col.value
    plan.family = col.family
    if name in _EXTREMES:
        new, combine = _EXTREMES[name]
        before = state["value"]
        value = f"{new}({v})" if before is None else f"{combine}({_cast(before, col.sql_type)}, {new}({v}))"
        plan.aggregates |= {"value": value, "text": f"CAST({value} AS VARCHAR)"}
        return plan
    total = _sum_type(col)
    if total is None:
        return None
    if name == _SUM:
        value = f"{_cast(state['value'], total)} + coalesce(sum({v}), 0)"
        plan.aggregates |= {"value": value, "text": f"CAST({value} AS VARCHAR)"}
        return plan
    count = f"{int(state['nonnull'])} + count({v})"
    summed = f"({_cast(state['sum'] or '0', total)} + coalesce(sum({v}), 0))"
    plan.aggregates |= {
        "value": f"{summed} / NULLIF({count}, 0)",
        "nonnull": count,
        "sum_text": f"CAST({summed} AS VARCHAR)",
    }
    return plan


def _after_upsert(
    plan: Plan, state: Mapping[str, Any], incremental: Incremental, replaced: ReplacedKeys
) -> Plan | None:
    """A table check after a merge-on-read upsert, from the base's aggregates and what its key lookup established
    (`ReplacedKeys`); None (evaluated in full) for all but the row count and the uniqueness of exactly the
    upsert's key, without NULLs, on a base where that key was unique.

    The staged snapshot is the base's live rows less every row sharing a key with a new row, plus the new rows,
    whose keys are unique among themselves: when no two base rows shared a key, no two staged rows do. A base
    that held duplicates (a check with `mostly`) is counted in full, as is any other check: a sum, a min or a
    distribution would need the removed rows' values."""
    spec, kw = plan.spec, plan.exp.kwargs
    if spec.name in (_ROW_COUNT, _ROW_COUNT_EQUAL):
        plan.known["value"] = incremental.rows
        if spec.name == _ROW_COUNT_EQUAL:
            plan.verdict = lambda got: (int(got["value"]) == int(kw["value"]), int(got["value"]))
        return plan
    if spec.name not in _UNIQUE:
        return None
    names = [kw["column"]] if "column" in kw else list(kw.get("column_list") or ())
    if sorted(names) != sorted(replaced.columns) or not set(names) <= incremental.required:
        return None
    try:
        if int(state["unexpected"]) != 0:
            return None
    except (KeyError, TypeError, ValueError):
        return None
    plan.known |= {"total": incremental.rows, "nonnull": incremental.rows, "unexpected": 0}
    return plan


def _unique(
    plan: Plan,
    cols: list[Column],
    state: Mapping[str, Any],
    incremental: Incremental,
    new_sql: str,
    sample_size: int,
) -> Plan:
    """GE's unexpected count after the append: the base's, corrected for each key the new rows carry."""
    before = int(state["unexpected"])
    domain, key = unique_key(plan.exp, cols)
    values = [c.value for c in cols]
    plan.known |= {"total": incremental.rows, "unexpected": before}
    in_domain = f"count({values[0]})" if len(cols) == 1 else f"count(*) FILTER (WHERE {domain})"
    plan.aggregates |= {"nonnull": f"{int(state['nonnull'])} + {in_domain}", "new_keys": in_domain}
    plan.followup_role = "unexpected"
    names = [c.name for c in cols]
    if incremental.base_for_keys is not None:
        found = incremental.base_for_keys(names, len(cols) > 1)  # NULLs are part of compound keys only
        if found is None:
            return _new_keys_only(plan, cols, domain, key, before, new_sql, sample_size, incremental.new_ranges)
        lookup = found
    else:
        lookup = incremental.base_sql()
    for j, v in enumerate(values):
        plan.aggregates[f"lo{j}"] = f"CAST(min({v}) FILTER (WHERE {domain}) AS VARCHAR)"
        plan.aggregates[f"hi{j}"] = f"CAST(max({v}) FILTER (WHERE {domain}) AS VARCHAR)"
        if len(cols) > 1:
            plan.aggregates[f"nulls{j}"] = f"count(*) FILTER (WHERE ({domain}) AND {v} IS NULL)"

    def followup(got: Mapping[str, Any]) -> str | None:
        if not int(got["new_keys"]):
            return None
        return _duplicates_after(cols, domain, got, before, new_sql, lookup)

    plan.followup_sql = followup
    # Samples: rows (old or new) whose key is duplicated among the new keys and the base rows sharing them.
    touched = (
        f"(SELECT * FROM {new_sql} AS __src UNION ALL SELECT * FROM {lookup} AS __src "
        f"WHERE ({domain}) AND {key} IN (SELECT {key} FROM {new_sql} AS __src WHERE {domain}))"
    )
    grouped = f"FROM {touched} AS __src WHERE {domain} GROUP BY {', '.join(values)} HAVING count(*) > 1"
    sample_duplicates(plan, domain, key, values, grouped, sample_size)
    return plan


def _new_keys_only(
    plan: Plan,
    cols: list[Column],
    domain: str,
    key: str,
    before: int,
    new_sql: str,
    sample_size: int,
    ranges: RangeLookup | None = None,
) -> Plan:
    """No base row can share a key with the new rows: only duplicates among the new rows add to the count.

    As in the full evaluation, a distinct count tells whether there is any (a compound key counts distinct
    hashes: a collision only costs the exact GROUP BY; an integer key whose `ranges` over the new files are
    small is counted in a bitmap), and only then are the duplicated rows counted.
    """
    values = [c.value for c in cols]
    bitmap = bitmap_distinct(plan.exp, cols, ranges, None if len(cols) == 1 else domain)
    plan.aggregates["new_distinct"] = bitmap or (
        f"count(DISTINCT {key})"
        if len(cols) == 1
        else f"count(DISTINCT hash({', '.join(values)})) FILTER (WHERE {domain})"
    )
    grouped = f"FROM {new_sql} AS __src WHERE {domain} GROUP BY {', '.join(values)} HAVING count(*) > 1"
    plan.followup_sql = lambda got: (
        f"({before} + coalesce((SELECT sum(c) FROM (SELECT count(*) AS c {grouped})), 0))"
        if got["new_distinct"] != got["new_keys"]
        else None
    )
    sample_duplicates(plan, domain, key, values, grouped, sample_size)
    return plan


def _duplicates_after(
    cols: list[Column], domain: str, got: Mapping[str, Any], before: int, new_sql: str, base_sql: str
) -> str:
    """Scalar SQL: GE's unexpected count of the staged snapshot, from the base's (`before`) and the new keys.

    For each distinct new key with n new rows and b base rows: it now counts n + b rows if n + b > 1, and it
    counted b before if b > 1. The base side is filtered by the new keys' range (literals: pushed into the
    Parquet scan, which skips row groups by their statistics), then semi-joined with the new keys.
    """
    keys = [f"__k{j}" for j in range(len(cols))]
    selected = ", ".join(f"{c.value} AS {k}" for c, k in zip(cols, keys, strict=True))
    nulls = [int(got.get(f"nulls{j}") or 0) for j in range(len(cols))]
    ranges = [
        f"{c.ident} BETWEEN {_cast(got[f'lo{j}'], c.sql_type)} AND {_cast(got[f'hi{j}'], c.sql_type)}"
        for j, c in enumerate(cols)
        if not nulls[j] and c.family in _PRUNABLE and got.get(f"lo{j}") is not None
    ]

    def same(a: str, b: str) -> str:
        return " AND ".join(
            f"{a}.{k} = {b}.{k}" if not nulls[j] else f"{a}.{k} IS NOT DISTINCT FROM {b}.{k}"
            for j, k in enumerate(keys)
        )

    base_keys = ", ".join(f"__b.{k}" for k in keys)
    n, b = "__nk.__c", "coalesce(__bk.__c, 0)"
    return (
        f"(WITH __nk AS (SELECT {selected}, count(*) AS __c FROM {new_sql} AS __src WHERE {domain} GROUP BY ALL), "
        f"__bk AS (SELECT {base_keys}, count(*) AS __c FROM (SELECT {selected} FROM {base_sql} AS __src "
        f"WHERE {' AND '.join([f'({domain})', *ranges])}) AS __b SEMI JOIN __nk ON {same('__b', '__nk')} "
        f"GROUP BY ALL) "
        f"SELECT {before} + coalesce(sum(CASE WHEN {n} + {b} > 1 THEN {n} + {b} ELSE 0 END "
        f"- CASE WHEN {b} > 1 THEN {b} ELSE 0 END), 0) "
        f"FROM __nk LEFT JOIN __bk ON {same('__nk', '__bk')})"
    )


def _cast(text: Any, sql_type: str) -> str:
    return f"CAST({quote(str(text))} AS {sql_type})"


def _sum_type(col: Column) -> str | None:
    """The type DuckDB sums a column in (exact for integers and decimals), or None if not summable here."""
    if col.family == "integer":
        return "HUGEINT"
    if col.family == "float":
        return "DOUBLE"
    match = _DECIMAL.match(col.sql_type.strip()) if col.family == "decimal" else None
    return f"DECIMAL(38,{match.group(1)})" if match else None
