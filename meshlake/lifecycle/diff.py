"""Diff two snapshots of a port: the schema by Iceberg field id, then rows added, removed and changed by key.

Only what differs is read. Each snapshot's scan plan lists its data files with the delete files that apply to
them; a data file that both snapshots read with the same delete files gives both the same rows, so it cannot
add, remove or change one. The diff reads the other files of each side (with their delete files) and joins
them on the key: a key only in A's rows is removed, only in B's added, in both with a column that is distinct
(`IS DISTINCT FROM`: NULLs compare equal) changed. This equals the full join of both snapshots as long as the key
is unique in each snapshot: it is checked in the rows read (`DiffError` with examples when not), and with
`check_keys=True` also against the files both share (which then reads their key columns).

Rows are read as the caller may see them (row filters and masks of the caller's rights apply to both sides), so
the counts and sample rows are those of the caller's view. Columns present in only one snapshot are reported in
the schema diff and not compared.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from meshlake.errors import DiffError
from meshlake.query.native.masks import Native, connect, native_mode
from meshlake.query.policy import restricted
from meshlake.query.sql import scan_sql
from meshlake.query.types import quote_ident

if TYPE_CHECKING:
    import duckdb
    from pyiceberg.schema import Schema

    from meshlake.query.plan import DataTask, ScanPlan
    from meshlake.snapshot import PortSnapshot

SAMPLES = 5


@dataclass
class Diff:
    """What differs between snapshot `a` and snapshot `b` of a port."""

    address: str
    a: int | None
    b: int | None
    key: list[str]
    schema: list[dict[str, Any]] = field(default_factory=list)
    """Columns added, removed, renamed or retyped, by Iceberg field id."""
    added: int = 0
    removed: int = 0
    changed: int = 0
    column_changes: dict[str, int] = field(default_factory=dict)
    """Changed rows per column (a row counts once per column it changed in)."""
    samples: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Up to `samples` rows each of `added`, `removed` and `changed` (these as `{column: [before, after]}`)."""
    files_read: int = 0
    """Data and delete files read (those the two snapshots do not share)."""
    files_total: int = 0
    """Data and delete files of the two snapshots together."""

    @property
    def different(self) -> bool:
        return bool(self.schema or self.added or self.removed or self.changed)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self) | {"different": self.different}


def _signature(task: DataTask) -> tuple[str, tuple[str, ...]]:
    deletes = sorted(d.path for d in (*task.position_deletes, *task.equality_deletes))
    return task.path, tuple(deletes)


def _files(tasks: tuple[DataTask, ...] | list[DataTask]) -> set[str]:
    return {path for task in tasks for path in (task.path, *_signature(task)[1])}


def schema_diff(before: Schema, after: Schema) -> list[dict[str, Any]]:
    """Columns added, removed, renamed or retyped between two schemas, matched by Iceberg field id."""
    from meshlake.contract.types import format_type

    old = {f.field_id: f for f in before.fields}
    new = {f.field_id: f for f in after.fields}
    out: list[dict[str, Any]] = []
    for fid, f in old.items():
        if fid not in new:
            out.append({"change": "removed", "column": f.name, "field_id": fid, "type": format_type(f.field_type)})
    for fid, f in new.items():
        was = old.get(fid)
        if was is None:
            out.append({"change": "added", "column": f.name, "field_id": fid, "type": format_type(f.field_type)})
            continue
        if was.name != f.name:
            out.append({"change": "renamed", "column": f.name, "field_id": fid, "before": was.name})
        if was.field_type != f.field_type:
            before_type, after_type = format_type(was.field_type), format_type(f.field_type)
            out.append({"change": "retyped", "column": f.name, "field_id": fid, "before": before_type,
                        "after": after_type})  # fmt: skip
        if was.required != f.required:
            out.append({"change": "required" if f.required else "optional", "column": f.name, "field_id": fid})
    return out


def diff_snapshots(
    a: PortSnapshot, b: PortSnapshot, *, key: list[str], samples: int = SAMPLES, check_keys: bool = False
) -> Diff:
    """Diff two snapshots of one port by `key` (see the module docstring); `DiffError` for snapshots of different
    tables, a key column missing from either snapshot, or a key that is not unique."""

    if a.address != b.address or a.metadata.table_uuid != b.metadata.table_uuid:
        raise DiffError(
            f"{a.address}@{a.snapshot_id} and {b.address}@{b.snapshot_id} are snapshots of different tables "
            f"(table uuids {a.metadata.table_uuid} and {b.metadata.table_uuid}); diff two snapshots of one port"
        )
    if not key:
        raise DiffError(f"{a.address} declares no primary key: name the key columns (--key col1,col2 or key=[…])")
    result = Diff(a.address, a.snapshot_id, b.snapshot_id, list(key), schema=schema_diff(a.schema, b.schema))
    names_a = {f.name: f.field_id for f in a.plan.schema.fields}
    names_b = {f.name: f.field_id for f in b.plan.schema.fields}
    common = [name for name, fid in names_b.items() if names_a.get(name) == fid]
    missing = [k for k in key if k not in common]
    if missing:
        raise DiffError(
            f"key column(s) {missing} are not columns of both snapshots of {a.address}",
            examples=[
                f"columns of {a.snapshot_id}: {sorted(names_a)}",
                f"columns of {b.snapshot_id}: {sorted(names_b)}",
            ],
        )
    shared = {_signature(t) for t in a.plan.tasks} & {_signature(t) for t in b.plan.tasks}
    only_a = tuple(t for t in a.plan.tasks if _signature(t) not in shared)
    only_b = tuple(t for t in b.plan.tasks if _signature(t) not in shared)
    result.files_read = len(_files(only_a) | _files(only_b))
    result.files_total = len(_files(a.plan.tasks) | _files(b.plan.tasks))
    con = connect()  # meshlake's DuckDB extension applies pending deletes where it loads
    try:
        _load(con, "__a", a, only_a)
        _load(con, "__b", b, only_b)
        for side, snap in (("__a", a), ("__b", b)):
            _refuse_duplicates(con, side, key, snap)
        if check_keys:
            shared_tasks = tuple(t for t in a.plan.tasks if _signature(t) in shared)
            _check_shared_keys(con, a, shared_tasks, key)
        sides = (list(names_a), list(names_b))
        _compare(con, result, key, [c for c in common if c not in key], samples, sides)
    finally:
        con.close()
    for snap in (a, b):
        if snap.read_log is not None:
            snap.read_log(snap.address, snap.snapshot_id, list(names_a if snap is a else names_b), path="diff")
    return result


def _relation(snap: PortSnapshot, tasks: tuple[DataTask, ...], *, native: Native | None) -> tuple[str, ScanPlan]:
    plan = dataclasses.replace(snap.plan, tasks=tasks)
    sql = scan_sql(plan, native=native)
    if restricted(snap.policy):
        sql = snap.policy.relation(sql, plan.schema)
    return sql, plan


def _load(con: duckdb.DuckDBPyConnection, name: str, snap: PortSnapshot, tasks: tuple[DataTask, ...]) -> None:
    from meshlake.query.engine import register_filesystems

    sql, plan = _relation(snap, tasks, native=native_mode(con))
    register_filesystems(con, plan, snap.io)
    con.execute(f"CREATE TEMP VIEW {name} AS {sql}")


def _keys(key: list[str], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(prefix + quote_ident(k) for k in key)


def _refuse_duplicates(con: duckdb.DuckDBPyConnection, table: str, key: list[str], snap: PortSnapshot) -> None:
    rows = con.execute(
        f"SELECT {_keys(key)}, count(*) AS n FROM {table} GROUP BY ALL HAVING count(*) > 1 ORDER BY n DESC LIMIT 5"
    ).fetchall()
    if rows:
        raise DiffError(
            f"the key {key} is not unique in {snap.address}@{snap.snapshot_id}: a diff by it would be wrong; "
            "name a unique key with --key (e.g. the port's primary key plus a column)",
            examples=[f"{dict(zip(key, row[:-1], strict=True))} appears {row[-1]} times" for row in rows],
        )


def _check_shared_keys(
    con: duckdb.DuckDBPyConnection, snap: PortSnapshot, tasks: tuple[DataTask, ...], key: list[str]
) -> None:
    """Refuse a key of the rows read that a shared file holds too (a duplicate the rows read alone cannot show)."""
    if not tasks:
        return
    sql, plan = _relation(snap, tasks, native=native_mode(con))
    from meshlake.query.engine import register_filesystems

    register_filesystems(con, plan, snap.io)
    on = " AND ".join(f"s.{quote_ident(k)} IS NOT DISTINCT FROM r.{quote_ident(k)}" for k in key)
    rows = con.execute(
        f"SELECT DISTINCT {_keys(key, 'r')} FROM (SELECT {_keys(key)} FROM __a UNION ALL SELECT {_keys(key)} FROM __b)"
        f" r JOIN (SELECT {_keys(key)} FROM ({sql})) s ON {on} LIMIT 5"
    ).fetchall()
    if rows:
        raise DiffError(
            f"the key {key} is not unique in {snap.address}: rows read for the diff share a key with rows of files "
            "both snapshots hold; name a unique key with --key",
            examples=[str(dict(zip(key, row, strict=True))) for row in rows],
        )


def _compare(
    con: duckdb.DuckDBPyConnection,
    result: Diff,
    key: list[str],
    columns: list[str],
    samples: int,
    sides: tuple[list[str], list[str]],
) -> None:
    """Join the rows read on `key` once, keeping the rows that differ whole (each side's row as a struct); count
    added, removed and changed rows, per column too, and take the samples from them (no second read)."""

    def flag(column: str) -> str:
        return quote_ident("__changed_" + column)

    def joined(left: str, right: str) -> str:
        return " AND ".join(f"{left}.{quote_ident(k)} IS NOT DISTINCT FROM {right}.{quote_ident(k)}" for k in key)

    keys = ", ".join(f"coalesce(a.{quote_ident(k)}, b.{quote_ident(k)}) AS {quote_ident(k)}" for k in key)
    changes = [f"a.{quote_ident(c)} IS DISTINCT FROM b.{quote_ident(c)}" for c in columns]
    flags = "".join(f", ({change}) AS {flag(c)}" for change, c in zip(changes, columns, strict=True))
    con.execute(
        f"CREATE TEMP TABLE __j AS SELECT a.__present AS in_a, b.__present AS in_b, {keys}{flags}, "
        f"({' OR '.join(changes) or 'false'}) AS __any, a AS __arow, b AS __brow "
        "FROM (SELECT *, true AS __present FROM __a) a "
        f"FULL OUTER JOIN (SELECT *, true AS __present FROM __b) b ON {joined('a', 'b')} "
        f"WHERE a.__present IS NULL OR b.__present IS NULL OR ({' OR '.join(changes) or 'false'})"
    )  # only the rows that differ are kept: unchanged rows of rewritten files are most of a scattered change
    counts = [
        "count(*) FILTER (in_b AND in_a IS NULL)",
        "count(*) FILTER (in_a AND in_b IS NULL)",
        "count(*) FILTER (in_a AND in_b AND __any)",
        *(f"count(*) FILTER (in_a AND in_b AND {flag(c)})" for c in columns),
    ]
    (row,) = con.execute(f"SELECT {', '.join(counts)} FROM __j").fetchall()
    result.added, result.removed, result.changed = int(row[0]), int(row[1]), int(row[2])
    result.column_changes = {c: int(n) for c, n in zip(columns, row[3:], strict=True) if n}
    if samples <= 0:
        return
    order = _keys(key)

    def whole(row: str, names: list[str]) -> str:
        return ", ".join(f"{row}.{quote_ident(n)} AS {quote_ident(n)}" for n in names)

    for kind, struct, names, where in (
        ("added", "__brow", sides[1], "in_b AND in_a IS NULL"),
        ("removed", "__arow", sides[0], "in_a AND in_b IS NULL"),
    ):
        result.samples[kind] = _rows(
            con, f"SELECT {whole(struct, names)} FROM __j WHERE {where} ORDER BY {order} LIMIT {samples}"
        )
    result.samples["changed"] = []
    if not columns:
        return
    before_after = ", ".join(
        f"CASE WHEN {flag(c)} THEN [__arow.{quote_ident(c)}, __brow.{quote_ident(c)}] END AS {quote_ident(c)}"
        for c in columns
    )
    rows = _rows(
        con,
        f"SELECT {_keys(key)}, {before_after} FROM __j WHERE in_a AND in_b AND __any ORDER BY {order} LIMIT {samples}",
    )
    result.samples["changed"] = [{k: v for k, v in item.items() if v is not None or k in key} for item in rows]


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    table = con.sql(sql).to_arrow_table()
    rows: list[dict[str, Any]] = table.to_pylist()
    return rows
