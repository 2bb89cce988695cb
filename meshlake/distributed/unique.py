"""The gate's uniqueness checks of a distributed write, run on the engine: a shuffle by key, counts back.

A distributed write of many rows would have one driver process count the keys of the staged snapshot (DuckDB over
its files). Instead, each uniqueness expectation (`expect_column_values_to_be_unique`,
`expect_compound_columns_to_be_unique`, keys of the types in `ENGINE_FAMILIES`) runs on the engine, in every mode
(append, overwrite, replace, upsert, delete), on exactly the snapshot the driver's gate checks:

1. the gate asks (`PortGate.count_keys`, for every check it runs: a rebased write is counted again on its new base)
   with the staged snapshot's plan: the base's files less those the write removes, the position deletes it adds
   attached (an upsert's or a delete's rows removed merge-on-read), the files it adds (its new rows, and the kept
   rows of files a copy-on-write rewrote). Its files are cut into chunks, each tagged new (the write's rows) or
   old;
2. each chunk is read on a worker as the driver's gate reads the snapshot (`read_checked_keys`: its relation SQL,
   delete files applied, and the check's `row_condition`, domain and key values compiled by the driver's own
   functions), in the sandbox the gate runs SQL expectations in, which may read only the chunk's files; float keys
   are made equal where DuckDB's GROUP BY finds them equal (-0.0 is 0.0; NaN is missing, as GE on pandas has it),
   UUID and binary keys handed over as text (`AS_TEXT`);
3. the rows are grouped by key (a shuffle: NULL parts group together, as in GE and GROUP BY), each key's rows and new
   rows counted, and only sums come back: the considered rows and GE's unexpected count (every row whose key occurs
   more than once), and the smallest duplicated keys in key order (as many as the port's sample size), which the
   driver's gate uses as the check's answer instead of reading the files (`meshlake.quality.metrics.use_key_counts`;
   the failing rows sampled are those of the example keys, in the order the driver's own samples take,
   `meshlake.quality.compile.sample_duplicates`).

Where the driver's gate is incremental, so is the engine: an append on a base whose stamp holds the check's
aggregates (`meshlake.quality.incremental.prior_aggregates`) reads only the base files whose Iceberg bounds may
hold a new key (the driver's own pruning), and the count is the base's stamped one corrected for each new key
(`UniqueCheck.before`). A merge-on-read upsert's key uniqueness after a base where it held is known from the stamp
and the join (`ReplacedKeys`): the driver answers it without reading, and the engine is not asked. Every other
check is counted in full. Either way the numbers are the native engine's, and the result records `ran_on` (the
engine's name) in the quality history.

When: `unique_on_engine="auto"` (the default) runs a check on the engine when the rows it would read (the new
rows, plus the base's for a check that is not incremental) exceed `ENGINE_ROWS`; below that the driver's DuckDB
is faster (see `ENGINE_ROWS`). `True` always, `False` never.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from meshlake.distributed.keyed import FILES_PER_TASK, KeyedSpec

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from meshlake.contract.expectations import Expectation
    from meshlake.port import Port
    from meshlake.quality.compile import Column
    from meshlake.quality.metrics import KeyCounts
    from meshlake.query.plan import DataTask, ScanPlan
    from meshlake.write.commit import Change

ENGINE_ROWS = 100_000_000
"""`unique_on_engine="auto"`: a check reading more rows than this runs on the engine. Below it the driver is faster:
on one 2-core machine the engine cost 1.2–1.6 s per million keys more than the driver's DuckDB (which counts dense
integer keys in a bitmap and proves keys written in order distinct while they stream), plus a few seconds of
scheduling; the engine's count scales with the cluster, the driver's with one machine's cores and memory (a full
check holds a hash table of every key there) — docs/scaling.md."""
ENGINE_FAMILIES = frozenset(
    {"integer", "string", "date", "time", "timestamp", "timestamptz", "float", "decimal", "boolean", "uuid", "binary"}
)
"""Key types the engine groups exactly as DuckDB's GROUP BY: their Arrow values are equal when DuckDB's are (a float
key's -0.0 is made 0.0, its NaN is missing; a decimal column has one scale, Iceberg's). Every key type a port's
column can have except nested ones (the driver's gate counts those)."""
AS_TEXT = {"uuid": "CAST({} AS VARCHAR)", "binary": "hex({})"}
"""Key families the workers hand to the engine as text, ordered as DuckDB orders the values: a UUID as its canonical
lower-case form, a binary (or fixed) value as upper-case hex (Daft can neither group fixed-size binary nor sort
binary; Arrow has no UUID type DuckDB returns). `UniqueCheck.counts` turns the example keys back."""
OPTIONS = ("auto", True, False)
NEW = "__ml_new"
"""1 for a row of the write, 0 for a row of the base snapshot."""
ROWS = "__ml_rows"
NEW_ROWS = "__ml_new_rows"


@dataclass(frozen=True)
class UniqueCheck:
    """One uniqueness expectation as the engine runs it (it pickles): the driver's gate's SQL for it."""

    index: int
    """The expectation's index in the port's expectation list."""
    columns: tuple[str, ...]
    values: tuple[str, ...] = ()
    """Per key column, its value as the gate's SQL reads it (`Column.value`: a float's NaN is NULL)."""
    domain: str = "true"
    """The rows the check considers (SQL: a one-column key's non-NULL values; a compound key's per `ignore_row_if`)."""
    condition: str | None = None
    """The expectation's `row_condition` as the gate's SQL (`meshlake.quality.compile.condition_sql`), or None."""
    before: int | None = None
    """Incremental: the base's stamped unexpected count (then only the old rows sharing a new key are read)."""
    before_nonnull: int = 0
    """Incremental: the base's stamped count of considered rows."""
    examples: int = 5
    """How many duplicated keys come back (the port's sample size)."""
    families: tuple[str, ...] = ()
    """Per key column, its type family (`meshlake.contract.expectations.type_family`); () reads every one as is."""

    def selected(self, j: int) -> str:
        """Key column j as the workers select it (`AS_TEXT`)."""
        family = self.families[j] if j < len(self.families) else ""
        return AS_TEXT[family].format(self.values[j]) if family in AS_TEXT else self.values[j]

    @property
    def incremental(self) -> bool:
        return self.before is not None

    def summarise(self, groups: pa.Table) -> pa.Table:
        """Per-key counts (`ROWS`, `NEW_ROWS`) as one row of sums: considered rows, unexpected rows (before the
        base's stamped count is added), duplicated keys."""
        import pyarrow.compute as pc

        rows = groups.column(ROWS).cast(pa.int64())
        new = groups.column(NEW_ROWS).cast(pa.int64())
        repeated = pc.greater(rows, 1)
        counted = pc.if_else(repeated, rows, 0)
        if not self.incremental:
            return pa.table(
                {"considered": [pc.sum(rows).as_py() or 0], "unexpected": [pc.sum(counted).as_py() or 0]},
            )
        old = pc.subtract(rows, new)
        was = pc.if_else(pc.greater(old, 1), old, 0)
        touched = pc.greater(new, 0)
        change = pc.if_else(touched, pc.subtract(counted, was), 0)
        return pa.table({"considered": [pc.sum(new).as_py() or 0], "unexpected": [pc.sum(change).as_py() or 0]})

    def duplicated(self, groups: pa.Table) -> pa.Array:
        """The keys of `groups` that count as duplicated (incremental: those the write's rows touch)."""
        import pyarrow.compute as pc

        repeated = pc.greater(groups.column(ROWS), 1)
        return pc.and_(repeated, pc.greater(groups.column(NEW_ROWS), 0)) if self.incremental else repeated

    def counts(self, engine: str, sums: pa.Table, examples: Sequence[tuple[Any, ...]]) -> KeyCounts:
        """The answer handed to the gate, from the sums of all `summarise` rows and the duplicated keys found."""
        import pyarrow.compute as pc

        from meshlake.quality.metrics import KeyCounts

        considered = int(pc.sum(sums.column("considered")).as_py() or 0) if sums.num_rows else 0
        unexpected = int(pc.sum(sums.column("unexpected")).as_py() or 0) if sums.num_rows else 0
        shown = tuple(sorted(examples, key=_order)[: max(self.examples, 1)]) if unexpected else ()
        found = tuple(tuple(self._typed(j, v) for j, v in enumerate(key)) for key in shown)
        return KeyCounts(engine, self.before_nonnull + considered, (self.before or 0) + unexpected, found)

    def _typed(self, j: int, value: Any) -> Any:
        """An example key's value j as the driver's gate reads it (`AS_TEXT` undone)."""
        family = self.families[j] if j < len(self.families) else ""
        if value is None or family not in AS_TEXT:
            return value
        return uuid.UUID(value) if family == "uuid" else bytes.fromhex(value)


SUMS_SCHEMA = pa.schema([pa.field("considered", pa.int64()), pa.field("unexpected", pa.int64())])


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((value is None, value if value is not None else 0) for value in key)


@dataclass(frozen=True)
class KeyChunk:
    """Some files of the staged snapshot one worker reads for a check (it pickles)."""

    plan: ScanPlan
    """The staged snapshot's plan narrowed to these files (their delete files attached)."""
    new: int
    """1: the files hold the write's rows; 0: rows of the base that the staged snapshot keeps."""


def checked_schema(spec: KeyedSpec, check: UniqueCheck) -> pa.Schema:
    """What `read_checked_keys` returns: the key columns as the port's schema types them (`AS_TEXT`'s as strings),
    and `NEW`."""
    keys = replace(spec, primary_key=check.columns).key_schema()
    for j, name in enumerate(check.columns):
        if j < len(check.families) and check.families[j] in AS_TEXT:
            keys = keys.set(j, pa.field(name, pa.string()))
    return keys.append(pa.field(NEW, pa.int64()))


# -- on the workers ------------------------------------------------------------------------------------------------


def read_checked_keys(spec: KeyedSpec, check: UniqueCheck, chunk: KeyChunk) -> pa.Table:
    """The keys `check` considers among the live rows of `chunk`, tagged with `chunk.new`.

    Read as the driver's gate reads the staged snapshot: its relation SQL (`scan_sql`: delete files applied), then
    the check's `row_condition`, domain and key values, all compiled on the driver by the gate's own functions; in
    the sandbox the gate runs SQL expectations in (`meshlake.quality.sandbox.on_files`), which may read only the
    chunk's data and delete files. A float key's -0.0 becomes 0.0, which DuckDB's GROUP BY finds equal."""
    import pyarrow.compute as pc

    from meshlake.contract.expectation_sql import BATCH
    from meshlake.quality import sandbox
    from meshlake.query.engine import register_filesystems
    from meshlake.query.sql import scan_sql

    plan = chunk.plan
    io = spec.table().io
    paths = [t.path for t in plan.tasks]
    paths += [d.path for t in plan.tasks for d in (*t.position_deletes, *t.equality_deletes)]
    where = " AND ".join(f"({c})" for c in (check.condition, check.domain) if c)
    keys = ", ".join(f"{check.selected(j)} AS __ml_k{j}" for j in range(len(check.values)))
    relation = f"({scan_sql(plan)})"
    with sandbox.on_files(relation, paths, lambda con: register_filesystems(con, plan, io)) as con:
        found = con.sql(f"SELECT {keys} FROM {BATCH} AS __src WHERE {where}").to_arrow_table()
    schema = checked_schema(spec, check)
    columns = []
    for j, target in enumerate(schema.field(i) for i in range(len(check.columns))):
        column = found.column(j).cast(target.type)
        if pa.types.is_floating(target.type):
            column = pc.if_else(pc.equal(column, pa.scalar(0, target.type)), pa.scalar(0, target.type), column)
        columns.append(column)
    columns.append(pa.array([chunk.new] * found.num_rows, pa.int64()))
    return pa.Table.from_arrays(columns, schema=schema)


class UniqueEngine(Protocol):
    """What an engine runs of the gate's uniqueness checks (`daft_keyed.DaftKeys`, `ray_keyed.RayKeys`)."""

    name: str

    def key_counts(self, spec: KeyedSpec, check: UniqueCheck, chunks: Sequence[KeyChunk]) -> KeyCounts:
        """Count `check`'s keys over `chunks` of the staged snapshot (`read_checked_keys` on the workers)."""
        ...


# -- on the driver -------------------------------------------------------------------------------------------------


@dataclass
class EngineKeyCounter:
    """`PortGate.count_keys` of a distributed write: the port's uniqueness checks of the staged snapshot that run
    on `engine` (`on_engine`), answered there, by expectation index; {} when every one runs on the driver (then
    nothing is planned: `option` False, or "auto" and the staged snapshot's rows within `ENGINE_ROWS`), None when
    the engine could count none. `failed` runs (the write's cleanup) before an engine's error is raised."""

    port: Port
    spec: KeyedSpec
    engine: UniqueEngine
    option: Any
    failed: Any = None

    def __call__(
        self, table: Table, base_id: int | None, change: Change, base: ScanPlan, staged: ScanPlan, new_rows: ScanPlan
    ) -> dict[int, KeyCounts] | None:
        if self.option is False or (self.option == "auto" and staged.record_count <= ENGINE_ROWS):
            return {}  # every check runs on the driver (none of them reads more rows): nothing to plan
        only_new = len(staged.tasks) == len(new_rows.tasks)
        checks = plan_checks(self.port, table, base_id, change, base, only_new)
        if not checks:
            return None
        new = new_rows.record_count
        chosen = [c for c in checks if on_engine(self.option, c, new, staged.record_count - new)]
        try:
            return {
                c.index: self.engine.key_counts(self.spec, c, chunks(table, c, change, base, staged, new_rows))
                for c in chosen
            }
        except BaseException:
            if self.failed is not None:
                self.failed()
            raise


def chunks(
    table: Table, check: UniqueCheck, change: Change, base: ScanPlan, staged: ScanPlan, new_rows: ScanPlan
) -> list[KeyChunk]:
    """The files of the staged snapshot `check` reads, `FILES_PER_TASK` to a chunk: the new rows' and the old
    rows' (incremental: only the base files whose Iceberg bounds may hold a new key, as the driver prunes them)."""
    written = {t.path for t in new_rows.tasks}
    old: Sequence[DataTask] = [t for t in staged.tasks if t.path not in written]
    if check.incremental:
        old = _may_share_a_key(table, check, change, base)
    found: list[KeyChunk] = []
    for tag, tasks in ((1, new_rows.tasks), (0, tuple(old))):
        for i in range(0, len(tasks), FILES_PER_TASK):
            part = tasks[i : i + FILES_PER_TASK]
            paths = {t.path for t in part}
            unmapped = {p: names for p, names in staged.unmapped.items() if p in paths}
            found.append(KeyChunk(replace(staged, tasks=tuple(part), unmapped=unmapped), tag))
    return found


def _may_share_a_key(table: Table, check: UniqueCheck, change: Change, base: ScanPlan) -> list[DataTask]:
    """The base's files that may hold a key of the new rows, by the Iceberg bounds of the new files."""
    from meshlake.quality.pruning import inside, new_range

    snapshot = table.metadata.snapshot_by_id(base.snapshot_id) if base.snapshot_id is not None else None
    ranges = {}
    for name in check.columns:
        found = new_range(change.new_rows, base.schema.find_field(name), nulls_match=len(check.columns) > 1)
        if found is not None:
            ranges[name] = found
    candidates = inside(snapshot, table.io, base.schema, ranges) if ranges and snapshot is not None else None
    return [t for t in base.tasks if candidates is None or t.path in candidates]


def plan_checks(
    port: Port, table: Table, base_id: int | None, change: Change, base: ScanPlan, only_new: bool
) -> list[UniqueCheck]:
    """The port's uniqueness expectations the engine can answer for `change` on `base_id`, as the driver's gate
    would check them: incremental when it would (the base's stamp holds the check's aggregates and the change is a
    pure append), left out when it needs no reading (a merge-on-read upsert's own key, `_known_after_upsert`)."""
    from meshlake.contract.expectations import ExpectationConfigError, validate_expectation
    from meshlake.quality.compile import condition_sql
    from meshlake.quality.compile import unique_key as key_domain
    from meshlake.quality.incremental import fingerprint, prior_aggregates, upsert_basis
    from meshlake.quality.metrics import table_columns

    contract = port.contract
    if contract.quality.engine != "native":
        return []
    expectations = contract.expectation_list
    columns = table_columns(table.schema())
    types = {c.name: c.sql_type for c in columns.values()}
    state: Mapping[str, Any] = {}
    upserted: Mapping[str, Any] | None = None
    if not only_new and base_id is not None:
        key = fingerprint(expectations, table.metadata.current_schema_id)
        prior = prior_aggregates(table.metadata, base_id, change, key, base, table.io)
        if prior is not None and table.metadata.snapshot_by_id(base_id) is not None:
            state = prior[0]
        elif prior is None:
            found = upsert_basis(table.metadata, base_id, change, key, base, table.io)
            upserted = found[0] if found is not None else None
    checks = []
    for i, exp in enumerate(expectations):
        try:
            validate_expectation(exp, types)
            names = _engine_key(exp, columns)
            if names is None or _known_after_upsert(exp, i, names, upserted, change, table):
                continue
            cols = [columns[name] for name in names]
            domain, _ = key_domain(exp, cols)
            condition = condition_sql(exp, columns) if exp.kwargs.get("row_condition") is not None else None
        except (ExpectationConfigError, KeyError, LookupError, ValueError, TypeError):
            continue  # the driver's gate reports it
        found = state.get(str(i)) if condition is None else None
        before = nonnull = None
        if isinstance(found, Mapping):
            try:
                before, nonnull = int(found["unexpected"]), int(found["nonnull"])
            except (KeyError, TypeError, ValueError):
                before = nonnull = None
        values = tuple(c.value for c in cols)
        examples = contract.quality.sample_size
        families = tuple(c.family for c in cols)
        checks.append(
            UniqueCheck(i, names, values, domain, condition, before, nonnull or 0, examples=examples, families=families)
        )
    return checks


def _engine_key(exp: Expectation, columns: Mapping[str, Column]) -> tuple[str, ...] | None:
    """The key columns of a uniqueness check the engine can count (`ENGINE_FAMILIES`), or None."""
    from meshlake.quality.metrics import UNIQUE

    if exp.spec.name not in UNIQUE:
        return None
    names = [exp.kwargs["column"]] if "column" in exp.kwargs else list(exp.kwargs.get("column_list") or ())
    if not names or any(name not in columns or columns[name].family not in ENGINE_FAMILIES for name in names):
        return None
    return tuple(names)


def _known_after_upsert(
    exp: Expectation,
    index: int,
    names: Sequence[str],
    upserted: Mapping[str, Any] | None,
    change: Change,
    table: Table,
) -> bool:
    """Whether the driver's gate answers this check from the base's stamp without reading
    (`meshlake.quality.incremental._after_upsert`: the upsert's own key, required columns, unique in the base)."""
    replaced = change.replaced_keys
    if upserted is None or replaced is None or exp.kwargs.get("row_condition") is not None:
        return False
    state = upserted.get(str(index))
    required = {f.name for f in table.schema().fields if f.required}
    if not isinstance(state, Mapping) or sorted(names) != sorted(replaced.columns) or not set(names) <= required:
        return False
    try:
        return int(state["unexpected"]) == 0
    except (KeyError, TypeError, ValueError):
        return False


def on_engine(option: Any, check: UniqueCheck, new_rows: int, base_rows: int) -> bool:
    """Whether `check` runs on the engine (see the module docstring)."""
    if option is True or option is False:
        return option
    return new_rows + (0 if check.incremental else base_rows) > ENGINE_ROWS


def check_option(address: str, option: Any) -> Any:
    """`unique_on_engine`, refused when it is none of `OPTIONS`."""
    if not (option is True or option is False or option == "auto"):
        raise ValueError(
            f"a distributed write of {address} takes unique_on_engine='auto' (the default), True or False, "
            f"not {option!r}"
        )
    return option
