"""A scan plan as one DuckDB relation that reads the planned Parquet files in place.

Columns resolve by Iceberg field id through `read_parquet(..., schema = MAP {field_id: {...}})`, so renamed,
added, dropped and widened columns read right across old files. Files without deletes are one plain
`read_parquet` (raw Parquet speed). Files with deletes are read with `file_row_number`, and:

- position deletes (only those with sequence number >= the file's) are anti-joined on (file, row number), or, for
  a group with many of them (`MASK_MIN_DELETES`), become one bit mask per data file, joined by file index and
  tested with `get_bit(mask, row number)` (unless the masks would be too large, `MASK_BITS`);
- equality deletes are anti-joined on the equality columns (NULL matches NULL), keeping only deletes newer than
  the data file, of its partition or global.

Dirty files are read in groups of about `GROUP_DELETES` deleted rows; docs/write-modes.md ("Reading pending
deletes") has the shapes measured and why these.

Every identifier is double-quoted and every path is a single-quoted literal; paths are also escaped for
DuckDB's glob matching, so a file named `a[1].parquet` never reads `a1.parquet`.
"""

from __future__ import annotations

import re
import threading
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import replace

from pyiceberg.schema import Schema
from pyiceberg.types import ListType, MapType, NestedField, StructType

from meshlake.query.errors import UnsupportedScanError
from meshlake.query.native.masks import Native, maskable
from meshlake.query.plan import FILE_PATH_FIELD_ID, POS_FIELD_ID, DataTask, DeleteFile, ScanPlan
from meshlake.query.types import default_literal, duckdb_type, quote_ident, quote_literal

_GLOB_ESCAPES = str.maketrans({"[": "[[]", "*": "[*]", "?": "[?]"})


def relation_sql(plan: ScanPlan) -> str:
    """Alias of `scan_sql`."""
    return scan_sql(plan)


def scan_sql(plan: ScanPlan, *, native: bool | Native | None = False) -> str:
    """The SELECT text reading `plan`; an empty plan gives a typed relation with no rows.

    `native`: the text runs on a connection with meshlake's DuckDB extensions loaded (`meshlake.query.native`;
    `native_mode(con)` says which), so file-scoped position deletes are applied by a row mask instead of joins:
    inside the Parquet scan (`scan`, `meshlake_scan`) or in a filter right above it (`filter` or True,
    `meshlake_kept`)."""
    try:
        check_readable(plan)
        if not plan.tasks:
            return empty_relation(plan.schema)
        tasks = [t for t in plan.tasks if t.path not in plan.unmapped] if plan.unmapped else plan.tasks
        imported = _by_name(plan) if plan.unmapped else None
        dirty = [t for t in tasks if t.position_deletes or t.equality_deletes] if plan.has_deletes else []
        clean = [t for t in tasks if not (t.position_deletes or t.equality_deletes)] if dirty else tasks
        columns = ", ".join(quote_ident(f.name) for f in plan.schema.fields)
        if not dirty:
            texts = plan.path_texts if clean is plan.tasks else None
            read = _read(clean, schema_map(plan.schema.fields), texts=texts)
            parts = [f"SELECT {columns} FROM {read}"] if clean else []
            return " UNION ALL ".join([*parts, *([imported] if imported else [])])
        if native == "scan" and maskable(tasks):
            return _scanned(plan, tasks, imported)
        if native and maskable(tasks):
            return _masked(plan, tasks, dirty, clean, imported)
        ctes, body = _with_deletes(replace(plan, tasks=tuple(tasks)), dirty)
        return f"WITH {', '.join(ctes)} " + _between(body, clean, imported, plan.schema.fields)
    except UnsupportedScanError as exc:
        raise exc.at(plan.name) from None


def _scanned(plan: ScanPlan, tasks: Sequence[DataTask], imported: str | None) -> str:
    """`tasks` read in one `meshlake_scan`, which skips the rows their position deletes mark in a row mask while it
    decodes them (files without deletes get no test at all)."""
    from meshlake.query.native.masks import masks
    from meshlake.query.polars_scan import object_store_options

    key = masks.ensure(tasks, object_store_options(plan.io_properties))
    fields = plan.schema.fields
    columns = ", ".join(quote_ident(f.name) for f in fields)
    read = _read(tasks, schema_map(fields), f", meshlake_mask = {quote_literal(key)}", function="meshlake_scan")
    return _between(f"SELECT {columns} FROM {read}", (), imported, fields)


def _masked(
    plan: ScanPlan,
    tasks: Sequence[DataTask],
    dirty: Sequence[DataTask],
    clean: Sequence[DataTask],
    imported: str | None,
) -> str:
    """`tasks` read with their position deletes as a row mask tested in the scan's filter (`meshlake_kept`).

    When the files with deletes hold at least half the rows, every file is one scan (one pipeline, so DuckDB's
    threads share all row groups); otherwise the clean files are a plain scan of their own and only the dirty ones
    are masked, so the clean rows skip the test. docs/write-modes.md ("Reading pending deletes") has the numbers."""
    from meshlake.query.native.masks import masks
    from meshlake.query.polars_scan import object_store_options

    one_scan = 2 * sum(t.record_count for t in dirty) >= sum(t.record_count for t in tasks)
    scanned = tasks if one_scan else dirty
    key = masks.ensure(scanned, object_store_options(plan.io_properties))
    fields = plan.schema.fields
    read = _read(
        scanned, schema_map(fields, {f.field_id: f"__ml_c{f.field_id}" for f in fields}), ", file_row_number = true"
    )
    select = ", ".join(f"{_col(f.field_id)} AS {quote_ident(f.name)}" for f in fields)
    body = f"SELECT {select} FROM {read} WHERE meshlake_kept({quote_literal(key)}, file_index, file_row_number)"
    return _between(body, () if one_scan else clean, imported, fields)


def _between(body: str, clean: Sequence[DataTask], imported: str | None, fields: Sequence[NestedField]) -> str:
    """`body` (the files with deletes) after a plain scan of the `clean` files and before the `imported` ones."""
    columns = ", ".join(quote_ident(f.name) for f in fields)
    plain = [f"SELECT {columns} FROM {_read(clean, schema_map(fields))}"] if clean else []
    return " UNION ALL ".join([*plain, body, *([imported] if imported else [])])


def empty_relation(schema: Schema) -> str:
    """`SELECT CAST(NULL AS T) AS "c", ... WHERE false`: the schema's columns, no rows."""
    if not schema.fields:
        raise UnsupportedScanError("the table has no columns", hint="add a column to the port")
    cols = ", ".join(f"CAST(NULL AS {duckdb_type(f.field_type)}) AS {quote_ident(f.name)}" for f in schema.fields)
    return f"SELECT {cols} WHERE false"


def schema_map(fields: Iterable[NestedField], names: dict[int, str] | None = None) -> str:
    """The `schema` argument of `read_parquet`: columns by field id, optionally renamed via `names`."""
    entries = []
    for f in fields:
        name = (names or {}).get(f.field_id, f.name)
        default = default_literal(getattr(f, "initial_default", None))
        entries.append(
            f"{f.field_id}: {{name: {quote_literal(name)}, type: {quote_literal(duckdb_type(f.field_type))}, "
            f"default_value: {default}}}"
        )
    if not entries:
        raise UnsupportedScanError("the table has no columns", hint="add a column to the port")
    return "MAP {" + ", ".join(entries) + "}"


def duckdb_path(path: str) -> str:
    """A file location as DuckDB should open it: local `file:` URIs as paths, glob characters escaped."""
    if path.startswith("file://"):
        path = path[len("file://") :]
        path = path[len("localhost") :] if path.startswith("localhost/") else path
    elif path.startswith("file:/"):
        path = path[len("file:") :]
    return path.translate(_GLOB_ESCAPES)


_SEPARATOR = "\x1f"
_LONG_LIST = 64
_LOCAL_URI = re.compile(r"\x1f(?:file://localhost(?=/)|file://|file:(?=/))")
"""A local URI's scheme (and `localhost`) after a separator: `duckdb_path`'s rule, on the joined list."""


def path_list(paths: Sequence[str], texts: Sequence[str] | None = None) -> str:
    """A DuckDB list of file locations (`duckdb_path` each).

    A long list is one string split at bind time (`string_split('a\x1fb…', chr(31))`): DuckDB parses a list
    literal of 10,000 strings in about 100 ms, one string of the same text in well under 1 ms. The text is
    escaped as a whole, so a long list costs no Python work per file either. `texts` are the same paths already
    joined in pieces (`ScanPlan.path_texts`): each piece is escaped once and kept, so a plan that shares most of
    its manifests with the last one escapes only the new ones.
    """
    joined = None
    if len(paths) > _LONG_LIST:
        joined = _joined(texts if texts is not None else [_SEPARATOR.join(paths)], len(paths), keep=texts is not None)
    return joined or "[" + ", ".join(quote_literal(duckdb_path(p)) for p in paths) + "]"


def _joined(texts: Sequence[str], count: int, *, keep: bool = True) -> str | None:
    """`string_split(…)` of `count` paths joined in `texts`; None when that cannot hold them (a short list, a
    path holding the separator or a NUL). With `keep`, each text's escaping is kept for the next call."""
    if count <= _LONG_LIST:
        return None
    pieces = [_kept.get(text) if keep else _escaped(text) for text in texts]
    escaped = [piece for piece in pieces if piece is not None]
    if len(escaped) < len(pieces) or sum(piece.count(_SEPARATOR) + 1 for piece in escaped) != count:
        return None
    return f"string_split('{_SEPARATOR.join(escaped)}', chr(31))"


class _KeptPieces:
    """`_escaped` texts, kept by text (a manifest's paths never change): a bounded LRU by characters."""

    def __init__(self, max_chars: int = 64 << 20) -> None:
        self.max_chars = max_chars
        self._pieces: OrderedDict[str, str | None] = OrderedDict()
        self._chars = 0
        self._lock = threading.Lock()

    def get(self, joined: str) -> str | None:
        with self._lock:
            if joined in self._pieces:
                self._pieces.move_to_end(joined)
                return self._pieces[joined]
        escaped = _escaped(joined)
        with self._lock:
            if joined not in self._pieces:
                self._pieces[joined] = escaped
                self._chars += len(joined) + len(escaped or "")
            while self._chars > self.max_chars and len(self._pieces) > 1:
                text, piece = self._pieces.popitem(last=False)
                self._chars -= len(text) + len(piece or "")
        return escaped


_kept = _KeptPieces()


def _escaped(joined: str) -> str | None:
    """`joined` (paths separated by `\x1f`) as the inside of a DuckDB string literal, each path a `duckdb_path`;
    None when a path holds a NUL."""
    if "\x00" in joined:
        return None
    local = (_SEPARATOR + joined).replace(_SEPARATOR + "file:///", _SEPARATOR + "/")  # the usual case, in C
    if "file:" in local:
        local = _LOCAL_URI.sub(_SEPARATOR, local)
    local = local[1:]
    if "[" in local or "*" in local or "?" in local:
        local = local.translate(_GLOB_ESCAPES)
    return local.replace("'", "''")


def check_readable(plan: ScanPlan) -> None:
    """Raise `UnsupportedScanError` for anything DuckDB would read wrongly instead of failing."""
    for task in plan.tasks if any(f.upper() != "PARQUET" for f in plan.file_formats) else ():
        if task.file_format.upper() != "PARQUET":
            raise UnsupportedScanError(f"data file {task.path} is {task.file_format}", hint="only Parquet is read")
    for task in plan.tasks if plan.has_deletes else ():
        for delete in (*task.position_deletes, *task.equality_deletes):
            if delete.file_format.upper() != "PARQUET":
                raise UnsupportedScanError(
                    f"delete file {delete.path} is {delete.file_format} (deletion vectors are not applied)",
                    hint="compact the table, or read it with an engine that applies deletion vectors",
                )
    if plan.tasks and plan.name_mapping and not plan.unmapped:
        raise UnsupportedScanError(
            "the table has a name mapping, so some data files may lack Parquet field ids",
            hint="plan the scan with meshlake (it reads each file's footer), or rewrite files imported by add_files",
        )
    if plan.unmapped and plan.identity_sources & set(plan.schema.field_ids):
        # Files imported without field ids (migrated Hive data) may lack their identity-partition columns,
        # whose values then live only in the manifests; this reader does not fill them in.
        raise UnsupportedScanError(
            "the table has a name mapping and identity partitions: imported files may lack partition columns",
            hint="read it with pyiceberg, or rewrite the imported files",
        )
    for task in plan.tasks if plan.unmapped else ():
        if task.path in plan.unmapped and (task.position_deletes or task.equality_deletes):
            raise UnsupportedScanError(
                f"data file {task.path} has no field ids and delete files apply to it",
                hint="compact the table (meshlake maintain --apply), or read it with pyiceberg",
            )
    renamed = nested_name_conflicts(plan)
    if plan.tasks and renamed:
        raise UnsupportedScanError(
            f"nested fields were renamed or their names reused ({', '.join(renamed)}); DuckDB matches nested "
            "fields by name, not field id",
            hint="read this port with Polars, or rewrite its files",
        )


def nested_name_conflicts(plan: ScanPlan) -> list[str]:
    """Nested fields of the read schema whose name ever differed, or whose name another id ever had."""
    names: dict[int, set[str]] = {}
    ids: dict[tuple[int, str], set[int]] = {}
    for schema in (plan.schema, *plan.schemas):
        for f in schema.fields:
            _struct_children(f.field_id, f.field_type, names, ids=ids)
    wanted: dict[int, str] = {}
    for f in plan.schema.fields:
        _struct_children(f.field_id, f.field_type, {}, ids={}, paths=wanted, prefix=f"{f.name}.")
    bad = {i for i, n in names.items() if len(n) > 1}
    bad |= {i for (_, _), members in ids.items() if len(members) > 1 for i in members}
    return sorted(wanted[i] for i in bad if i in wanted)


def _struct_children(
    parent: int,
    iceberg_type: object,
    names: dict[int, set[str]],
    *,
    ids: dict[tuple[int, str], set[int]],
    paths: dict[int, str] | None = None,
    prefix: str = "",
) -> None:
    if isinstance(iceberg_type, StructType):
        for f in iceberg_type.fields:
            names.setdefault(f.field_id, set()).add(f.name)
            ids.setdefault((parent, f.name), set()).add(f.field_id)
            if paths is not None:
                paths[f.field_id] = f"{prefix}{f.name}"
            child = f"{prefix}{f.name}."
            _struct_children(f.field_id, f.field_type, names, ids=ids, paths=paths, prefix=child)
    elif isinstance(iceberg_type, ListType):
        element = iceberg_type.element_type
        _struct_children(iceberg_type.element_id, element, names, ids=ids, paths=paths, prefix=prefix)
    elif isinstance(iceberg_type, MapType):
        key, value = iceberg_type.key_type, iceberg_type.value_type
        _struct_children(iceberg_type.key_id, key, names, ids=ids, paths=paths, prefix=prefix)
        _struct_children(iceberg_type.value_id, value, names, ids=ids, paths=paths, prefix=prefix)


def _by_name(plan: ScanPlan) -> str:
    """The files of `plan` without field ids, read by column name through the table's name mapping.

    A column is the first name the mapping gives its field id that some file has (NULL where a file lacks it,
    `union_by_name`); a field no file names reads as NULL. Values are cast to the column's type, as a field-id
    read casts them.
    """
    paths = list(plan.unmapped)
    present = {name for names in plan.unmapped.values() for name in names}
    mapping = plan.name_mapping or {}
    exprs = []
    for f in plan.schema.fields:
        names = [n for n in mapping.get(f.field_id, ()) if n in present]
        kind = duckdb_type(f.field_type)
        value = "NULL" if not names else f"coalesce({', '.join(quote_ident(n) for n in names)})"
        exprs.append(f"CAST({value} AS {kind}) AS {quote_ident(f.name)}")
    nan = ", can_have_nan = true" if any(_FLOATS.search(duckdb_type(f.field_type)) for f in plan.schema.fields) else ""
    return f"SELECT {', '.join(exprs)} FROM read_parquet({path_list(paths)}, union_by_name = true{nan})"


def _read(
    tasks: Sequence[DataTask],
    schema: str,
    extra: str = "",
    *,
    texts: Sequence[str] | None = None,
    function: str = "read_parquet",
) -> str:
    # Parquet writers leave NaN out of float min/max statistics and DuckDB 2.0 trusts them
    # (duckdb/duckdb#25521: `WHERE isnan(x)` finds nothing, `max(x)` skips NaN) unless told otherwise.
    nan = ", can_have_nan = true" if _FLOATS.search(schema) else ""
    files = _joined(texts, len(tasks)) if texts is not None else None
    files = files or path_list([t.path for t in tasks])
    return f"{function}({files}, schema = {schema}{extra}{nan})"


_FLOATS = re.compile(r"\b(DOUBLE|FLOAT|REAL)\b")


def positions_sql(plan: ScanPlan) -> str:
    """The live rows of `plan` (its delete files applied) with `__ml_file`, the index of their data file in
    `plan.tasks`, and `__ml_pos`, their physical row number in that file: the positions a merge-on-read write
    deletes. Raises `UnsupportedScanError` for a plan with files read by name (no field ids)."""
    try:
        check_readable(plan)
        if plan.unmapped:
            raise UnsupportedScanError(
                "some data files have no field ids", hint="compact the table (meshlake maintain --apply)"
            )
        if not plan.tasks:
            none = "(SELECT 0::BIGINT AS __ml_file, 0::BIGINT AS __ml_pos)"
            return f"SELECT * FROM ({empty_relation(plan.schema)}), {none} WHERE false"
        ctes, body = _with_deletes(plan, plan.tasks, positions=True)
        return f"WITH {', '.join(ctes)} {body}" if ctes else body
    except UnsupportedScanError as exc:
        raise exc.at(plan.name) from None


def _col(field_id: int) -> str:
    return quote_ident(f"__ml_c{field_id}")


def _values(rows: Iterable[Sequence[object]], names: str, types: Sequence[str] | None = None) -> str:
    """A VALUES list; the first row is cast (BIGINT by default) so joins compare BIGINT to BIGINT."""

    def lit(v: object) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, int):
            return str(v)
        return quote_literal(str(v))

    rendered = []
    for n, row in enumerate(rows):
        kinds = (types or ["BIGINT"] * len(row)) if n == 0 else None
        cells = [f"CAST({lit(v)} AS {k})" for v, k in zip(row, kinds, strict=True)] if kinds else map(lit, row)
        rendered.append("(" + ", ".join(cells) + ")")
    return f"(VALUES {', '.join(rendered)}) AS {names}"


GROUP_DELETES = 1 << 17
"""Position deletes per group, at most (one data file with more is a group of its own). A group whose masks
would pass `MASK_BITS` is anti-joined, and DuckDB's probe of a hash table of 1 M positions costs ~44 ns a row, of
150 k ~14 ns, of 20 k ~10 ns (its table outgrows the CPU caches), so each group keeps its own small table."""


def _with_deletes(plan: ScanPlan, dirty: Sequence[DataTask], *, positions: bool = False) -> tuple[list[str], str]:
    """CTEs and the SELECT that reads `dirty` files and drops their deleted rows (equi-joins only); `positions`
    adds each row's file index in `dirty` and row number (`positions_sql`).

    Files with only file-scoped position deletes are read in consecutive groups of about `GROUP_DELETES` deleted
    rows, one scan each (UNION ALL); with equality or shared position deletes every file is one group, so their
    delete files are read once."""
    ctes: list[str] = []
    bodies: list[str] = []
    for n, (start, group) in enumerate(_delete_groups(dirty)):
        group_ctes, body = _group_with_deletes(plan, group, positions=positions, start=start, name=str(n) if n else "")
        ctes += group_ctes
        bodies.append(body)
    return ctes, " UNION ALL ".join(bodies)


def _delete_groups(dirty: Sequence[DataTask]) -> list[tuple[int, Sequence[DataTask]]]:
    """`dirty` cut into consecutive groups of at most `GROUP_DELETES` position-delete rows (as the delete files
    count them), with the index of each group's first file. One group when any file has equality deletes or a
    position delete file that may list rows of other files (Spark's partition-scoped ones): each group would
    read those delete files whole again."""
    shared = any(d.referenced_file != t.path for t in dirty for d in t.position_deletes)
    if len(dirty) < 2 or shared or any(t.equality_deletes for t in dirty):
        return [(0, dirty)]
    groups: list[tuple[int, Sequence[DataTask]]] = []
    start, rows = 0, 0
    for i, task in enumerate(dirty):
        count = sum(max(d.record_count, 0) for d in task.position_deletes)
        if i > start and rows + count > GROUP_DELETES:
            groups.append((start, dirty[start:i]))
            start, rows = i, 0
        rows += count
    groups.append((start, dirty[start:]))
    return groups


def _group_with_deletes(
    plan: ScanPlan, dirty: Sequence[DataTask], *, positions: bool, start: int, name: str
) -> tuple[list[str], str]:
    """`_with_deletes` of one group: its CTEs are suffixed with `name`, its file indexes offset by `start`."""
    fields = list(plan.schema.fields)
    hidden = [f for i, f in plan.equality_fields.items() if i not in {g.field_id for g in fields}]
    internal = {f.field_id: f"__ml_c{f.field_id}" for f in (*fields, *hidden)}
    read = _read(dirty, schema_map((*fields, *hidden), internal), ", file_row_number = true")
    source = f"(SELECT *, CAST(file_index AS BIGINT) AS __ml_file FROM {read}) AS d"
    ctes: list[str] = []
    joins: list[str] = []
    where: list[str] = []
    position = _distinct(d for t in dirty for d in t.position_deletes)
    if position:
        ctes.append(_position_cte(position, dirty, name=f"__ml_pos{name}"))
        rows = max(1, *(t.record_count for t in dirty))
        deleted = sum(max(d.record_count, 0) for d in position)
        if deleted >= MASK_MIN_DELETES and len(dirty) * rows <= MASK_BITS and rows <= _MAX_MASK_ROWS:
            ctes.append(_mask_cte(name, rows))
            joins.append(f"LEFT JOIN __ml_mask{name} AS k ON k.file_index = d.__ml_file")
            where.append(_kept_by_mask(rows))
        else:
            joins.append(f"ANTI JOIN __ml_pos{name} AS p ON p.file_index = d.__ml_file AND p.pos = d.file_row_number")
    groups: dict[tuple[int, ...], list[DeleteFile]] = {}
    for delete in _distinct(d for t in dirty for d in t.equality_deletes):
        groups.setdefault(delete.equality_ids, []).append(delete)
    if groups:
        meta = _values(((i, t.sequence_number, t.partition) for i, t in enumerate(dirty)), "m(file_index, seq, part)")
        joins.append(f"JOIN {meta} ON m.file_index = d.__ml_file")
    for k, (eq_ids, deletes) in enumerate(groups.items()):
        # Newest delete per key, globally and per partition: a row goes if either is newer than its file.
        cols = ", ".join(_col(i) for i in eq_ids)
        n = f"{name}_{k}" if name else str(k)
        ctes.append(_equality_cte(n, eq_ids, deletes, plan))
        ctes.append(f"__ml_eqg{n} AS (SELECT {cols}, max(seq) AS seq FROM __ml_eq{n} WHERE part IS NULL GROUP BY ALL)")
        ctes.append(
            f"__ml_eqp{n} AS (SELECT {cols}, part, max(seq) AS seq FROM __ml_eq{n} WHERE part IS NOT NULL GROUP BY ALL)"
        )
        match = " AND ".join(f"{{a}}.{_col(i)} IS NOT DISTINCT FROM d.{_col(i)}" for i in eq_ids)
        joins.append(f"LEFT JOIN __ml_eqg{n} AS g{n} ON {match.format(a=f'g{n}')}")
        joins.append(f"LEFT JOIN __ml_eqp{n} AS q{n} ON {match.format(a=f'q{n}')} AND q{n}.part = m.part")
        where.append(f"(g{n}.seq IS NULL OR g{n}.seq <= m.seq) AND (q{n}.seq IS NULL OR q{n}.seq <= m.seq)")
    select = ", ".join(f"d.{_col(f.field_id)} AS {quote_ident(f.name)}" for f in fields)
    if positions:
        select += f", d.__ml_file + {start} AS __ml_file, d.file_row_number AS __ml_pos"
    body = f"SELECT {select} FROM {source} {' '.join(joins)}"
    if where:
        body += f" WHERE {' AND '.join(where)}"
    return ctes, body


MASK_BITS = 1 << 30
"""Bits of position masks one group may hold (its files × the rows of its largest file: 128 MiB), else the group is
anti-joined on (file index, position). A mask join probes a hash table of one row per data file, which stays in the
CPU caches however many rows are deleted, and tests one bit: 7–16 % less CPU than the anti join on the benchmark's
ports (docs/write-modes.md, "Reading pending deletes")."""

MASK_MIN_DELETES = 1 << 16
"""Position deletes a group needs before it is read with masks: below, the anti join's table stays small enough
for the CPU caches, and building the masks (`bitstring_agg`, one bit per row of the group's largest file for each
of its files) costs more than it saves — at 50 k deletes over a 1 M-row port Q1 costs the same either way and a
query reading one row group ~9 ms more with masks; at ~150 k per group (6 M rows) the masks save 5–16 %."""

_MAX_MASK_ROWS = 2**31 - 1
"""`get_bit` takes an INTEGER position."""


def _mask_cte(name: str, rows: int) -> str:
    """`__ml_mask<name>(file_index, mask)`: per data file of the group, a `BIT` string of `rows` bits, bit `pos`
    set for each deleted position (positions outside the file's rows, which delete nothing, are left out)."""
    return (
        f"__ml_mask{name} AS (SELECT file_index, bitstring_agg(pos, 0, {rows - 1}) AS mask FROM __ml_pos{name} "
        f"WHERE pos >= 0 AND pos < {rows} GROUP BY file_index)"
    )


def _kept_by_mask(rows: int) -> str:
    """A row is kept when its file has no mask or its bit is clear. A row at or past `rows` (a data file holding
    more rows than its manifest entry counts, whose deletes the mask may have left out) fails the query instead of
    being kept unchecked."""
    past = "error('a data file holds more rows than its manifest entry counts: its position deletes cannot be applied')"
    bit = "get_bit(k.mask, CAST(d.file_row_number AS INTEGER)) = 0"
    return f"CASE WHEN d.file_row_number >= {rows} THEN {past} WHEN k.mask IS NULL THEN true ELSE {bit} END"


def _distinct(deletes: Iterable[DeleteFile]) -> list[DeleteFile]:
    seen: dict[str, DeleteFile] = {}
    for d in deletes:
        seen.setdefault(d.path, d)
    return list(seen.values())


def _position_cte(deletes: Sequence[DeleteFile], dirty: Sequence[DataTask], *, name: str = "__ml_pos") -> str:
    """`name(file_index, pos)`: the rows the position deletes remove, by index of their data file in `dirty`.

    A file-scoped delete (one data file in its `file_path` bounds, as meshlake writes them) is mapped to its file's
    index here, so only its `pos` column is read: its data file is known without reading a path per row or joining
    on path strings. Other delete files are joined to their files by path and sequence number."""
    index = {t.path: i for i, t in enumerate(dirty)}
    scoped = [(d, index[d.referenced_file]) for d in deletes if d.referenced_file in index]
    scoped = [(d, i) for d, i in scoped if dirty[i].sequence_number <= d.sequence_number]
    shared = [d for d in deletes if d.referenced_file not in index]
    parts = []
    if scoped:
        files = path_list([d.path for d, _ in scoped])
        numbers = ",".join(str(i) for _, i in scoped)  # one string: a long list literal is slow to parse
        targets = f"CAST(string_split('{numbers}', ',') AS BIGINT[])"
        parts.append(
            f"SELECT ({targets})[CAST(p.file_index AS BIGINT) + 1] AS file_index, p.pos "
            f"FROM read_parquet({files}, schema = MAP {{{_POS_ENTRY}}}) AS p"
        )
    if shared:
        parts.append(_shared_positions(shared, dirty))
    nothing = "SELECT 0::BIGINT AS file_index, 0::BIGINT AS pos WHERE false"  # every delete older than its file
    return f"{name} AS ({' UNION ALL '.join(parts) or nothing})"


_POS_ENTRY = f"{POS_FIELD_ID}: {{name: 'pos', type: 'BIGINT', default_value: NULL}}"


def _shared_positions(deletes: Sequence[DeleteFile], dirty: Sequence[DataTask]) -> str:
    """Positions of delete files that may list rows of several data files: joined to them by path and sequence."""
    schema = f"MAP {{{FILE_PATH_FIELD_ID}: {{name: 'file_path', type: 'VARCHAR', default_value: NULL}}, {_POS_ENTRY}}}"
    files = f"read_parquet({path_list([d.path for d in deletes])}, schema = {schema})"
    targets = _values(
        ((t.path, i, t.sequence_number) for i, t in enumerate(dirty)),
        "t(path, file_index, seq)",
        ["VARCHAR", "BIGINT", "BIGINT"],
    )
    seqs = _values(((i, d.sequence_number) for i, d in enumerate(deletes)), "s(delete_index, seq)")
    return (
        f"SELECT t.file_index, p.pos FROM {files} AS p "
        f"JOIN {seqs} ON s.delete_index = CAST(p.file_index AS BIGINT) "
        f"JOIN {targets} ON t.path = p.file_path AND t.seq <= s.seq"
    )


def _equality_cte(n: str, eq_ids: tuple[int, ...], deletes: Sequence[DeleteFile], plan: ScanPlan) -> str:
    fields = [plan.equality_fields[i] for i in eq_ids]
    names = {f.field_id: f"__ml_c{f.field_id}" for f in fields}
    files = f"read_parquet({path_list([d.path for d in deletes])}, schema = {schema_map(fields, names)})"
    seqs = _values(((i, d.sequence_number, d.partition) for i, d in enumerate(deletes)), "s(delete_index, seq, part)")
    cols = ", ".join(f"e.{_col(i)}" for i in eq_ids)
    join = f"JOIN {seqs} ON s.delete_index = CAST(e.file_index AS BIGINT)"
    return f"__ml_eq{n} AS (SELECT {cols}, s.seq, s.part FROM {files} AS e {join})"
