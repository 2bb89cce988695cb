"""A `Decision`'s read restrictions resolved against one relation, and the masks' meaning on plain values.

Both compilers (`mask_sql` for DuckDB, `mask_polars` for Polars) start from `resolve(...)`, which turns a
decision into what to do with each column of the relation being read:

- the **row filter**: every matching `where` parsed with the filter grammar (`meshlake.contract.filters`),
  AND-ed, never pasted as text; it runs on the original values, before any mask;
- each column's **mask** (`ColumnMask`), checked against the column's type as the relation has it: an action
  the type cannot take (the specification's "applicable to"), `replace-with-null` on a required column, an
  action meshlake does not know, or a filter naming a column the relation lacks is a `ReadRestrictionError`:
  the read fails, it never returns the column unmasked.

The decision names columns as the port's contract does today. A snapshot written under an older schema may
name them otherwise: given `contract` (the schema the decision names), columns are matched by Iceberg field
id, as the specification addresses them, and a column the contract no longer has is masked to its type's
default for a reader with masks (nothing says it was not sensitive).

The rest is the meaning of each action on one Python value (`mask_value`), used where values are masked
outside an engine: failing-row samples in the quality history and in quarantine reviews.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, fields, is_dataclass, replace
from decimal import Decimal
from typing import Any, Final

from pyiceberg.schema import Schema
from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FixedType,
    FloatType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    StringType,
    StructType,
    TimestampNanoType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

from meshlake.access.rights import Decision
from meshlake.contract import filters as grammar
from meshlake.contract.access import MASK_ACTIONS, ColumnMask, mask_problem
from meshlake.errors import AccessDeniedError, InvalidFilterError, ReadRestrictionError

SALT_BYTES: Final = 16
"""Bytes of random salt of `sha-256-query-local` (the specification asks for at least 16)."""
KEPT: Final = frozenset("(),.-@")
"""Characters `mask-alphanum` keeps as they are (digits become `n`, everything else `x`)."""
MASK_TO_DEFAULT: Final = ColumnMask(action="mask-to-default")
_UTC_EPOCH_NS_LIMIT = dt.datetime(2261, 12, 31)


@dataclass(frozen=True)
class ColumnRestriction:
    """One column of the relation: its field (as the relation has it) and what replaces its values."""

    field: NestedField
    mask: ColumnMask | None = None
    expression: grammar.Node | None = None
    """The parsed expression of an `apply-expression` mask, over the relation's columns."""

    @property
    def name(self) -> str:
        return self.field.name


@dataclass(frozen=True)
class Restrictions:
    """What a read of one relation must apply: the row filter first, then the masks."""

    address: str
    columns: tuple[ColumnRestriction, ...]
    row_filter: grammar.Node | None
    salt: bytes | None
    """The query's salt when a column is masked with `sha-256-query-local`."""

    @property
    def masked(self) -> tuple[ColumnRestriction, ...]:
        return tuple(c for c in self.columns if c.mask is not None)


def new_salt() -> bytes:
    """A fresh random salt for one query's `sha-256-query-local` masks."""
    return secrets.token_bytes(SALT_BYTES)


def needs_salt(decision: Decision) -> bool:
    """Whether reading under `decision` hashes a column with a per-query salt (`sha-256-query-local`)."""
    return any(mask.action == "sha-256-query-local" for mask in decision.masks.values())


def resolve(
    decision: Decision, schema: Schema, *, contract: Schema | None = None, salt: bytes | None = None
) -> Restrictions:
    """The restrictions of `decision` on a relation with `schema` (see the module docstring).

    Raises `AccessDeniedError` when the decision does not allow reading, `ReadRestrictionError` when a
    restriction cannot be applied to this relation.
    """
    address = decision.address
    if not decision.read:
        raise AccessDeniedError(
            str(decision.principal), address, decision.missing_read or "no read grant", action="read"
        )
    names = contract if contract is not None else schema
    renamed = _renaming(names, schema)
    row_filter = None
    if decision.row_filter is not None:
        for clause in decision.row_filter.clauses:
            node = _parse(clause, names, renamed, address=address, restriction="row filter")
            row_filter = node if row_filter is None else grammar.And(row_filter, node)
    masks: dict[str, ColumnMask] = {}
    for name, action in decision.masks.items():
        if name in renamed:  # else the relation does not have the column: nothing of it is read
            masks[renamed[name]] = action
    if contract is not None and decision.masks:
        known = {f.field_id for f in contract.fields}
        for field in schema.fields:
            if field.field_id not in known:
                masks[field.name] = MASK_TO_DEFAULT
    if salt is None and any(m.action == "sha-256-query-local" for m in masks.values()):
        salt = new_salt()
    if salt is not None and len(salt) < SALT_BYTES:
        raise ValueError(f"a query-local salt has at least {SALT_BYTES} bytes, got {len(salt)}")
    columns = []
    for field in schema.fields:
        mask: ColumnMask | None = masks.get(field.name)
        expression = None
        if mask is not None:
            check_mask(mask, field, address=address)
            if mask.action == "apply-expression":
                assert mask.expression is not None
                expression = _parse(mask.expression, names, renamed, address=address, restriction=str(mask))
        columns.append(ColumnRestriction(field, mask, expression))
    return Restrictions(address, tuple(columns), row_filter, salt)


def check_mask(mask: ColumnMask, field: NestedField, *, address: str) -> None:
    """Raise `ReadRestrictionError` unless `mask` can apply to `field` (its type, whether it is required)."""
    if mask.action not in MASK_ACTIONS:
        raise ReadRestrictionError(
            address, f"unknown mask action {mask.action!r}", restriction="mask", column=field.name
        )
    problem = mask_problem(mask.action, field.field_type, required=field.required)
    if problem is None and mask.action == "mask-to-default":
        problem = _unsupported(field.field_type)
    if problem is not None:
        raise ReadRestrictionError(address, problem, restriction=f"mask '{mask.action}'", column=field.name)


def _unsupported(kind: IcebergType) -> str | None:
    """Why no reader of meshlake can produce a value of `kind` (None when it can), searched through nesting."""
    if not isinstance(kind, (*_DEFAULTS, ListType, MapType, StructType)):
        return f"meshlake cannot build a value of type {kind}"
    if isinstance(kind, ListType):
        return _unsupported(kind.element_type)
    if isinstance(kind, MapType):
        return _unsupported(kind.key_type) or _unsupported(kind.value_type)
    if isinstance(kind, StructType):
        for member in kind.fields:
            problem = _unsupported(member.field_type)
            if problem is not None:
                return problem
    return None


def _renaming(names: Schema, schema: Schema) -> dict[str, str]:
    """Column name in `names` → the relation's name of the same field id (columns the relation lacks left out)."""
    by_id = {f.field_id: f.name for f in schema.fields}
    return {f.name: by_id[f.field_id] for f in names.fields if f.field_id in by_id}


def _parse(text: str, names: Schema, renamed: Mapping[str, str], *, address: str, restriction: str) -> grammar.Node:
    """`text` parsed over `names`' columns, its columns renamed to the relation's (`ReadRestrictionError` if not)."""
    try:
        node = grammar.parse_where(text, names)
    except InvalidFilterError as exc:
        raise ReadRestrictionError(address, exc.problem, restriction=restriction, column=exc.column) from None
    return _rename(node, renamed, address=address, restriction=restriction)


def _rename(node: grammar.Node, renamed: Mapping[str, str], *, address: str, restriction: str) -> grammar.Node:
    if isinstance(node, grammar.Not):
        return grammar.Not(_rename(node.child, renamed, address=address, restriction=restriction))
    if isinstance(node, (grammar.And, grammar.Or)):
        left = _rename(node.left, renamed, address=address, restriction=restriction)
        right = _rename(node.right, renamed, address=address, restriction=restriction)
        return type(node)(left, right)
    column = node.column
    if column.name not in renamed:
        raise ReadRestrictionError(
            address,
            f"it names column '{column.name}', which this snapshot does not have",
            restriction=restriction,
            column=column.name,
        )
    if renamed[column.name] == column.name:
        return node
    assert is_dataclass(node) and any(f.name == "column" for f in fields(node))
    return replace(node, column=grammar.Column(renamed[column.name], column.type))


def filter_columns(node: grammar.Node) -> set[str]:
    """The columns a parsed filter reads."""
    if isinstance(node, grammar.Not):
        return filter_columns(node.child)
    if isinstance(node, (grammar.And, grammar.Or)):
        return filter_columns(node.left) | filter_columns(node.right)
    return {node.column.name}


# -- the specification's mask-to-default values ------------------------------------------------------------

_DEFAULTS: Final[dict[type[IcebergType], object]] = {
    BooleanType: False,
    IntegerType: 999_999_999,
    LongType: 999_999_999,
    FloatType: 0.0,
    DoubleType: 0.0,
    StringType: "XXXXXXXX",
    BinaryType: b"",
    DateType: dt.date(9999, 12, 31),
    TimeType: dt.time(0, 0),
    TimestampType: dt.datetime(9999, 12, 31),
    TimestamptzType: dt.datetime(9999, 12, 31, tzinfo=dt.UTC),
    TimestampNanoType: _UTC_EPOCH_NS_LIMIT,
    UUIDType: uuid.UUID(int=0),
    DecimalType: None,  # 0 with the type's scale
    FixedType: None,  # n zero bytes
}


def default_value(kind: IcebergType) -> Any:
    """The `mask-to-default` value of an Iceberg type, as a Python value (a map is `{}`, a struct a dict).

    Per the specification: false, 999999999, 0.0, 0 with the decimal's scale, "XXXXXXXX", 9999-12-31,
    00:00:00, 9999-12-31T00:00:00 (UTC for timestamptz), 2261-12-31 for nanosecond timestamps, the nil UUID,
    n zero bytes for fixed(n), empty bytes, [], {} and, for a struct, each field's default.
    """
    if isinstance(kind, DecimalType):
        return Decimal(0).scaleb(-kind.scale)
    if isinstance(kind, FixedType):
        return bytes(len(kind))
    if isinstance(kind, ListType):
        return []
    if isinstance(kind, MapType):
        return {}
    if isinstance(kind, StructType):
        return {f.name: default_value(f.field_type) for f in kind.fields}
    if type(kind) in _DEFAULTS:
        return _DEFAULTS[type(kind)]
    raise ValueError(f"meshlake has no mask-to-default value for type {kind}")


# -- each action on one Python value ----------------------------------------------------------------------


def mask_alphanum(text: str) -> str:
    """Digits 0-9 → `n`; `( ) , . - @` kept; every other code point → `x`."""
    return "".join("n" if "0" <= c <= "9" else c if c in KEPT else "x" for c in text)


def show_first_4(text: str) -> str:
    """The first 4 code points kept, the rest as `mask_alphanum`; 4 or fewer code points unchanged."""
    return text if len(text) <= 4 else text[:4] + mask_alphanum(text[4:])


def show_last_4(text: str) -> str:
    """The last 4 code points kept, the rest as `mask_alphanum`; 4 or fewer code points unchanged."""
    return text if len(text) <= 4 else mask_alphanum(text[:-4]) + text[-4:]


def truncate(value: dt.date, unit: str) -> dt.date:
    """`value` truncated to its `year` or `month` (aware datetimes in UTC, returned in UTC)."""
    month = 1 if unit == "year" else value.month
    if isinstance(value, dt.datetime):
        moment = value.astimezone(dt.UTC) if value.tzinfo is not None else value
        return moment.replace(month=month, day=1, hour=0, minute=0, second=0, microsecond=0)
    return value.replace(month=month, day=1)


def sha256_value(value: object, kind: IcebergType, salt: bytes | None = None) -> object:
    """SHA-256 of the canonical bytes (after `salt`), in the column's type: hex text, a signed int or long, bytes."""
    if isinstance(kind, StringType) and isinstance(value, str):
        data = value.encode("utf-8")
    elif isinstance(kind, IntegerType) and isinstance(value, int):
        data = value.to_bytes(4, "little", signed=True)
    elif isinstance(kind, LongType) and isinstance(value, int):
        data = value.to_bytes(8, "little", signed=True)
    elif isinstance(kind, BinaryType) and isinstance(value, (bytes, bytearray, memoryview)):
        data = bytes(value)
    else:
        raise TypeError(f"sha-256 does not take a {type(value).__name__} of type {kind}")
    digest = hashlib.sha256((salt or b"") + data).digest()
    if isinstance(kind, StringType):
        return digest.hex()
    if isinstance(kind, IntegerType):
        return int.from_bytes(digest[:4], "little", signed=True)
    if isinstance(kind, LongType):
        return int.from_bytes(digest[:8], "little", signed=True)
    return digest


def mask_value(value: object, mask: ColumnMask, kind: IcebergType, *, salt: bytes | None = None) -> object:
    """One value masked with `mask` (NULL stays NULL); a value the action cannot take becomes the type's default.

    `sha-256-query-local` without the query's `salt` is masked to the default too. `apply-expression` needs the
    whole row, so a single value cannot be computed: it is None (not shown).
    """
    if value is None or mask.action in {"replace-with-null", "apply-expression"}:
        return None
    try:
        if mask.action == "mask-to-default":
            return default_value(kind)
        if mask.action in ("mask-alphanum", "show-first-4", "show-last-4") and isinstance(value, str):
            return {"mask-alphanum": mask_alphanum, "show-first-4": show_first_4, "show-last-4": show_last_4}[
                mask.action
            ](value)
        if mask.action in ("truncate-to-year", "truncate-to-month") and isinstance(value, dt.date):
            return truncate(value, "year" if mask.action == "truncate-to-year" else "month")
        if mask.action == "sha-256-global":
            return sha256_value(value, kind)
        if mask.action == "sha-256-query-local" and salt is not None:
            return sha256_value(value, kind, salt)
    except (TypeError, ValueError):
        pass
    try:
        return default_value(kind)
    except ValueError:
        return None
