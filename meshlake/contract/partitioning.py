"""Partition clauses of a descriptor (`day(shipped_at)`, `bucket[16](id)`) to Iceberg partition specs."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pyiceberg.partitioning import PartitionField, PartitionSpec
from pyiceberg.schema import Schema
from pyiceberg.transforms import (
    BucketTransform,
    DayTransform,
    HourTransform,
    IdentityTransform,
    MonthTransform,
    Transform,
    TruncateTransform,
    YearTransform,
)
from pyiceberg.types import IcebergType, PrimitiveType

from meshlake.contract.types import format_type

TRANSFORMS = ("identity", "year", "month", "day", "hour", "bucket[N]", "truncate[W]")
_CLAUSE = re.compile(
    r"^\s*(?:(?P<name>[a-z]+)\s*(?:\[\s*(?P<param>\d+)\s*\])?\s*\(\s*(?P<column>[a-z][a-z0-9_]*)\s*\)"
    r"|(?P<bare>[a-z][a-z0-9_]*))\s*$"
)
MAX_BUCKETS = 100_000
"""More buckets than this is never useful: a write opens up to one file per bucket it touches."""
MAX_TRUNCATE_WIDTH = 2**31 - 1
"""Iceberg stores a truncate width as a 32-bit int."""
_NEEDS = {
    "year": "a date or timestamp",
    "month": "a date or timestamp",
    "day": "a date or timestamp",
    "hour": "a timestamp",
    "bucket": "an int, long, decimal, date, time, timestamp, string, binary or uuid",
    "truncate": "an int, long, decimal, string or binary",
}


class PartitionSyntaxError(ValueError):
    """A partition clause that cannot be read or does not fit its column."""


@dataclass(frozen=True)
class PartitionClause:
    """One `partition_by` entry: a transform applied to a source column."""

    transform: str
    column: str
    param: int | None = None

    @classmethod
    def parse(cls, text: str) -> PartitionClause:
        match = _CLAUSE.match(text) if isinstance(text, str) else None
        if match is None:
            raise PartitionSyntaxError(
                f"cannot read partition clause {text!r}; use column, or one of {', '.join(TRANSFORMS)} "
                "applied to a column, e.g. day(shipped_at) or bucket[16](id)"
            )
        if match.group("bare"):
            return cls("identity", match.group("bare"))
        name, param = match.group("name"), match.group("param")
        if name in ("bucket", "truncate"):
            digits = (param or "").lstrip("0")
            if not digits:
                raise PartitionSyntaxError(f"{name} needs a positive width, e.g. {name}[16]({match.group('column')})")
            most = MAX_BUCKETS if name == "bucket" else MAX_TRUNCATE_WIDTH
            if len(digits) > len(str(most)) or int(digits) > most:
                raise PartitionSyntaxError(f"{name}[{param}] is out of range: {name} takes at most {most:,}")
            return cls(name, match.group("column"), int(digits))
        if name not in ("identity", "year", "month", "day", "hour"):
            raise PartitionSyntaxError(f"unknown partition transform '{name}'; known: {', '.join(TRANSFORMS)}")
        if param is not None:
            raise PartitionSyntaxError(f"transform '{name}' takes no [parameter]")
        return cls(name, match.group("column"))

    @property
    def field_name(self) -> str:
        """The partition field's name, as Spark and pyiceberg name it."""
        if self.transform == "identity":
            return self.column
        if self.param is not None:
            return f"{self.column}_{self.transform}_{self.param}"
        return f"{self.column}_{self.transform}"

    def to_transform(self) -> Transform[Any, Any]:
        transforms: dict[str, Transform[Any, Any]] = {
            "identity": IdentityTransform(),
            "year": YearTransform(),
            "month": MonthTransform(),
            "day": DayTransform(),
            "hour": HourTransform(),
        }
        if self.transform == "bucket":
            assert self.param is not None
            return BucketTransform(self.param)
        if self.transform == "truncate":
            assert self.param is not None
            return TruncateTransform(self.param)
        return transforms[self.transform]

    def check_source(self, kind: IcebergType) -> None:
        """Refuse a transform that cannot apply to the source column's type (pyiceberg's own rule)."""
        if not isinstance(kind, PrimitiveType):
            raise PartitionSyntaxError(f"cannot partition by nested column '{self.column}'")
        if not self.to_transform().can_transform(kind):
            raise PartitionSyntaxError(
                f"{self} needs {_NEEDS[self.transform]} column; '{self.column}' is {format_type(kind)}"
            )

    def __str__(self) -> str:
        if self.transform == "identity":
            return self.column
        width = f"[{self.param}]" if self.param is not None else ""
        return f"{self.transform}{width}({self.column})"


def build_partition_spec(clauses: list[PartitionClause], schema: Schema) -> PartitionSpec:
    """The Iceberg partition spec for `clauses` over `schema` (field ids from 1000, as Iceberg does)."""
    fields = []
    for offset, clause in enumerate(clauses):
        source = schema.find_field(clause.column)
        clause.check_source(source.field_type)
        fields.append(
            PartitionField(
                source_id=source.field_id,
                field_id=1000 + offset,
                transform=clause.to_transform(),
                name=clause.field_name,
            )
        )
    return PartitionSpec(*fields)
