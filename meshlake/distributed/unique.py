"""The gate's uniqueness checks of a distributed write, run on the engine: a shuffle by key, counts back.

A distributed append or overwrite of many rows would have one driver process count its keys (DuckDB over the
staged files). Instead, each uniqueness expectation (`expect_column_values_to_be_unique`,
`expect_compound_columns_to_be_unique`, without `row_condition`, keys of the types whose equality is the same
everywhere: `meshlake.quality.metrics.KEY_FAMILIES`) runs on the engine:

1. the key columns of the staged files are read on the workers (`meshlake.distributed.keyed.read_staged_keys`)
   and tagged as new rows; the key columns of the write's base snapshot (`main`'s head when the write started,
   its delete files applied: Daft's Iceberg scan) are tagged as old rows. An overwrite has no old rows;
2. the rows the check considers are kept (a one-column key: its non-NULL values; a compound key: per
   `ignore_row_if`), grouped by key (a shuffle: NULL parts group together, as in GE and GROUP BY), and each key's
   rows and new rows counted;
3. only sums come back: the considered rows and GE's unexpected count (every row whose key occurs more than
   once), and a few duplicated keys, which the driver's gate uses as the check's answer instead of reading the
   files (`meshlake.quality.metrics.use_key_counts`; the failing rows sampled are those of the example keys).

When the driver's gate would check the append incrementally (the base's stamp holds the check's aggregates,
`meshlake.quality.incremental`), the engine does the same: the old rows are read only within the new keys'
range (pushed down to the scan, which skips files and row groups by their statistics), and the count is the
base's stamped one corrected for each new key (`UniqueCheck.before`). Either way the numbers are the native
engine's, and the result records `ran_on` (the engine's name) in the quality history.

When: `unique_on_engine="auto"` (the default) runs a check on the engine when the rows it would read (the new
rows, plus the base's for a check that is not incremental) exceed `ENGINE_ROWS`; below that the driver's DuckDB
is faster (see `ENGINE_ROWS`). `True` always, `False` never.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import pyarrow as pa

from meshlake.distributed.keyed import KeyedSpec

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from meshlake.port import Port
    from meshlake.quality.metrics import KeyCounts

ENGINE_ROWS = 100_000_000
"""`unique_on_engine="auto"`: a check reading more rows than this runs on the engine. Below it the driver is faster:
on one 2-core machine the engine cost 1.2–1.6 s per million keys more than the driver's DuckDB (which counts dense
integer keys in a bitmap and proves keys written in order distinct while they stream), plus a few seconds of
scheduling; the engine's count scales with the cluster, the driver's with one machine's cores and memory (a full
check holds a hash table of every key there) — docs/scaling.md."""
OPTIONS = ("auto", True, False)
NEW = "__ml_new"
"""1 for a row of the write, 0 for a row of the base snapshot."""
ROWS = "__ml_rows"
NEW_ROWS = "__ml_new_rows"


@dataclass(frozen=True)
class UniqueCheck:
    """One uniqueness expectation as the engine runs it (it pickles)."""

    index: int
    """The expectation's index in the port's expectation list."""
    columns: tuple[str, ...]
    ignore: str = ""
    """A compound key's `ignore_row_if` (all_values_are_missing, any_value_is_missing, never); "" for one column."""
    before: int | None = None
    """Incremental: the base's stamped unexpected count (then only the old rows sharing a new key are read)."""
    before_nonnull: int = 0
    """Incremental: the base's stamped count of considered rows."""
    examples: int = 5
    """How many duplicated keys come back (the port's sample size)."""

    @property
    def incremental(self) -> bool:
        return self.before is not None

    def considered(self, table: pa.Table) -> pa.Array:
        """The rows of `table` (its key columns) whose key the check considers."""
        import pyarrow.compute as pc

        nulls = [pc.is_null(table.column(name)) for name in self.columns]
        if len(nulls) == 1:
            return pc.invert(nulls[0])
        if self.ignore == "never":
            return pa.array([True] * table.num_rows, pa.bool_())
        if self.ignore == "any_value_is_missing":
            found = nulls[0]
            for more in nulls[1:]:
                found = pc.or_(found, more)
            return pc.invert(found)
        every = nulls[0]
        for more in nulls[1:]:
            every = pc.and_(every, more)
        return pc.invert(every)

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
        return KeyCounts(engine, self.before_nonnull + considered, (self.before or 0) + unexpected, shown)


SUMS_SCHEMA = pa.schema([pa.field("considered", pa.int64()), pa.field("unexpected", pa.int64())])


def _order(key: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple((value is None, value if value is not None else 0) for value in key)


@dataclass(frozen=True)
class BaseSnapshot:
    """The snapshot a write started from, as the engine reads it (Daft's Iceberg scan of exactly that snapshot)."""

    table: Table
    snapshot_id: int

    def ranges(self, check: UniqueCheck, new: Mapping[str, tuple[Any, Any, int]]) -> dict[str, tuple[Any, Any]]:
        """The columns whose new keys' range bounds the old rows that may share one (`new`: per column, the new
        considered keys' least and greatest value and NULL count): a column with NULLs among the new keys bounds
        nothing (a NULL part matches a NULL part)."""
        if not check.incremental:
            return {}
        return {name: (lo, hi) for name, (lo, hi, nulls) in new.items() if not nulls and lo is not None}


class UniqueEngine(Protocol):
    """What an engine runs of the gate's uniqueness checks (`daft_keyed.DaftKeys`, `ray_keyed.RayKeys`)."""

    name: str

    def key_counts(
        self, spec: KeyedSpec, check: UniqueCheck, chunks: Sequence[Sequence[str]], base: BaseSnapshot | None
    ) -> KeyCounts:
        """Count `check`'s keys over the staged files (`chunks` of their paths) and `base`'s live rows."""
        ...


# -- on the driver -------------------------------------------------------------------------------------------------


def plan_checks(port: Port, table: Table, base_id: int | None, mode: str) -> list[UniqueCheck]:
    """The port's uniqueness expectations the engine can answer for a write of `mode` on `base_id`, each marked
    incremental when the driver's gate would check it so (the base's stamp holds its aggregates)."""
    from meshlake.contract.expectations import ExpectationConfigError
    from meshlake.quality.incremental import fingerprint, stamped_basis
    from meshlake.quality.metrics import table_columns, unique_key
    from meshlake.query.plan import cached_plan

    contract = port.contract
    if contract.quality.engine != "native" or mode not in ("append", "overwrite"):
        return []
    expectations = contract.expectation_list
    columns = table_columns(table.schema())
    state: Mapping[str, Any] = {}
    if mode == "append" and base_id is not None:
        key = fingerprint(expectations, table.metadata.current_schema_id)
        prior = stamped_basis(table.metadata, base_id, key, cached_plan(table, base_id), table.io)
        state = prior[0] if prior is not None else {}
    checks = []
    for i, exp in enumerate(expectations):
        try:
            names = unique_key(exp, columns)
        except (ExpectationConfigError, KeyError, LookupError, ValueError, TypeError):
            continue
        if names is None:
            continue
        ignore = "" if len(names) == 1 else str(exp.kwargs.get("ignore_row_if") or "all_values_are_missing")
        found = state.get(str(i))
        before = nonnull = None
        if isinstance(found, Mapping):
            try:
                before, nonnull = int(found["unexpected"]), int(found["nonnull"])
            except (KeyError, TypeError, ValueError):
                before = nonnull = None
        checks.append(UniqueCheck(i, names, ignore, before, nonnull or 0, examples=contract.quality.sample_size))
    return checks


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
