"""Where the read paths meet the rules: a principal's reads of one port, and the failing-row samples it sees.

- `port_reader(identity, policy, descriptor, port)`: the principal's `Decision` on the port, checked before
  anything of the port is loaded: `AccessDeniedError` for a principal that may not read it,
  `AuthenticationError` for an unverified one where the mesh policy requires verified callers. None in a lake
  without a mesh policy (the `declared` level): nothing is enforced, every read is as before.
- `PortReader` is the `meshlake.query.policy.ReadPolicy` a `PortSnapshot` applies: `relation` wraps DuckDB SQL
  with `mask_sql.restricted_sql`, `frame` a Polars LazyFrame with `mask_polars.restricted_frame` (a fresh
  `sha-256-query-local` salt each call). An owner's, an admin's or an unrestricted reader's reads are left
  as they are.
- Failing-row samples and observed values of quality results: `PortReader.review(results)` shows them to the
  reader (masked with its masks; refused when its reads are row-filtered, since a check reads every row), and
  `recorded(report, port, policy)` is what the quality history keeps: each masked or classified column's
  samples masked with the column's mask (`sha-256-query-local` as `mask-to-default`, there being no query).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from pyiceberg.schema import Schema
from pyiceberg.types import IcebergType

from meshlake.access.guard import check_verified
from meshlake.access.identity import Identity
from meshlake.access.masks import MASK_TO_DEFAULT, mask_value, new_salt
from meshlake.access.policy import MeshPolicy
from meshlake.access.rights import Decision, column_mask, decide
from meshlake.contract.access import ColumnMask
from meshlake.contract.descriptor import Descriptor, OutputPort
from meshlake.contract.types import TypeSyntaxError, parse_type
from meshlake.errors import AccessDeniedError
from meshlake.quality.report import ExpectationResult, QualityReport

if TYPE_CHECKING:
    import polars as pl

SQL_EXPECTATION = "unexpected_rows_expectation"
"""Its samples are the rows of a query the port's owners wrote: any column may be derived from a masked one."""


@dataclass(frozen=True)
class PortReader:
    """One principal's reads of one port (a `meshlake.query.policy.ReadPolicy`)."""

    decision: Decision
    columns: Mapping[str, IcebergType]
    """The port's columns and their types, as the contract declares them (for masking sample values)."""
    contract: Schema | None = None
    """The port's current table schema (the names the decision uses), bound when the table is loaded."""

    @property
    def address(self) -> str:
        return self.decision.address

    @property
    def principal(self) -> str:
        return str(self.decision.principal)

    @property
    def unrestricted(self) -> bool:
        return self.decision.unrestricted

    def check(self, action: str = "read") -> None:
        """Raise `AccessDeniedError` unless the principal may read the port (to `action` it)."""
        if not self.decision.read:
            missing = self.decision.missing_read or "no read grant"
            raise AccessDeniedError(self.principal, self.address, missing, action=action)

    def bind(self, contract: Schema) -> PortReader:
        """This reader with the port's current table schema, to match older snapshots' columns by field id."""
        return replace(self, contract=contract)

    def relation(self, sql: str, schema: Schema, *, salt: bytes | None = None) -> str:
        """`sql` restricted for the principal; `salt`: the `sha-256-query-local` salt (None: a fresh one)."""
        from meshlake.access.mask_sql import restricted_sql

        self.check()
        return restricted_sql(self.decision, sql, schema, contract=self.contract, salt=salt)

    def frame(self, frame: pl.LazyFrame, schema: Schema) -> pl.LazyFrame:
        from meshlake.access.mask_polars import restricted_frame

        self.check()
        return restricted_frame(self.decision, frame, schema, contract=self.contract)

    def review(self, results: Sequence[ExpectationResult], *, action: str = "review") -> tuple[ExpectationResult, ...]:
        """Quality results as this principal may see them: samples masked; refused when its reads are filtered.

        A check reads every row of what it checks, so its counts and samples would tell a row-filtered reader
        about rows it may not see: `AccessDeniedError`.
        """
        self.check(action)
        if self.decision.row_filter is not None:
            raise AccessDeniedError(
                self.principal,
                self.address,
                f"quality results are computed over every row, and this principal's reads are filtered "
                f"({self.decision.row_filter})",
                action=action,
                hint="Ask an owner of the product.",
            )
        if self.unrestricted:
            return tuple(results)
        return mask_results(results, self.decision.masks, self.columns, salt=new_salt())


def port_reader(
    identity: Identity, policy: MeshPolicy | None, descriptor: Descriptor, port_name: str
) -> PortReader | None:
    """The principal's checked reads of a port (see the module docstring); None when nothing is enforced."""
    if policy is None:
        return None
    check_verified(identity, policy)
    reader = PortReader(decide(identity, descriptor, port_name, policy), column_types(descriptor.output(port_name)))
    reader.check()
    return reader


def column_types(port: OutputPort) -> dict[str, IcebergType]:
    """The port's columns and their Iceberg types (a column whose type does not parse is left out)."""
    types: dict[str, IcebergType] = {}
    for column in port.columns:
        try:
            types[column.name] = parse_type(column.type)
        except TypeSyntaxError:
            continue
    return types


# -- quality samples -------------------------------------------------------------------------------------------


def recorded(report: QualityReport, port: OutputPort, policy: MeshPolicy | None) -> QualityReport:
    """`report` as the quality history keeps it (unchanged in a lake without a mesh policy)."""
    if policy is None:
        return report
    masks = record_masks(port, policy)
    if not masks:
        return report
    return replace(report, results=mask_results(report.results, masks, column_types(port), salt=None))


def record_masks(port: OutputPort, policy: MeshPolicy) -> dict[str, ColumnMask]:
    """The mask of each masked or classified column, as recorded: a query-local hash has no query, so default."""
    masks: dict[str, ColumnMask] = {}
    for column in port.columns:
        mask = column_mask(column, policy)
        if mask is not None:
            masks[column.name] = MASK_TO_DEFAULT if mask.action == "sha-256-query-local" else mask
    return masks


def mask_results(
    results: Iterable[ExpectationResult],
    masks: Mapping[str, ColumnMask],
    types: Mapping[str, IcebergType],
    *,
    salt: bytes | None,
) -> tuple[ExpectationResult, ...]:
    """Results with the sample values of masked columns masked, and no observed value of a masked column.

    A SQL expectation's samples are not kept at all when the port has a masked column (its query may
    return a masked column under any name); an observed value of an expectation on a masked column (a
    minimum, a set of distinct values, …) is dropped. Counts are kept.
    """
    if not masks:
        return tuple(results)
    masked = []
    for result in results:
        if result.expectation == SQL_EXPECTATION:
            sample: list[dict[str, Any]] = []
        else:
            sample = [_masked_row(row, masks, types, salt) for row in result.sample]
        observed = None if _columns(result) & set(masks) else result.observed_value
        masked.append(replace(result, sample=sample, observed_value=observed))
    return tuple(masked)


def _masked_row(
    row: Mapping[str, Any], masks: Mapping[str, ColumnMask], types: Mapping[str, IcebergType], salt: bytes | None
) -> dict[str, Any]:
    out = {}
    for name, value in row.items():
        mask = masks.get(name)
        if mask is None:
            out[name] = value
        elif name in types:
            out[name] = mask_value(value, mask, types[name], salt=salt)
        else:
            out[name] = None
    return out


def _columns(result: ExpectationResult) -> set[str]:
    """The columns an expectation is about."""
    kwargs = result.kwargs
    names = [kwargs.get(key) for key in ("column", "column_A", "column_B")]
    names += list(kwargs.get("column_list") or [])
    return {str(name) for name in names if name is not None}
