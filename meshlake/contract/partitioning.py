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
from pyiceberg.types import (
    DateType,
    DecimalType,
    IntegerType,
    LongType,
    NestedField,
    PrimitiveType,
    StringType,
    TimestampType,
    TimestamptzType,
)

TRANSFORMS = ("identity", "year", "month", "day", "hour", "bucket[N]", "truncate[W]")
_CLAUSE = re.compile(
    r"^\s*(?:(?P<name>[a-z]+)\s*(?:\[\s*(?P<param>\d+)\s*\])?\s*\(\s*(?P<column>[a-z][a-z0-9_]*)\s*\)"
    r"|(?P<bare>[a-z][a-z0-9_]*))\s*$"
)
_TIME_TYPES = (DateType, TimestampType, TimestamptzType)


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
            if param is None or int(param) < 1:
                raise PartitionSyntaxError(f"{name} needs a positive width, e.g. {name}[16]({match.group('column')})")
            return cls(name, match.group("column"), int(param))
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

    def check_source(self, source: NestedField) -> None:
        """Refuse a transform that cannot apply to the source column's type."""
        kind = source.field_type
        if not isinstance(kind, PrimitiveType):
            raise PartitionSyntaxError(f"cannot partition by nested column '{self.column}'")
        if self.transform in ("year", "month", "day") and not isinstance(kind, _TIME_TYPES):
            raise PartitionSyntaxError(
                f"{self.transform}() needs a date or timestamp column; '{self.column}' is {kind}"
            )
        if self.transform == "hour" and not isinstance(kind, (TimestampType, TimestamptzType)):
            raise PartitionSyntaxError(f"hour() needs a timestamp column; '{self.column}' is {kind}")
        if self.transform == "truncate" and not isinstance(kind, (IntegerType, LongType, StringType, DecimalType)):
            raise PartitionSyntaxError(
                f"truncate[] needs an int, long, decimal or string column; '{self.column}' is {kind}"
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
        clause.check_source(source)
        fields.append(
            PartitionField(
                source_id=source.field_id,
                field_id=1000 + offset,
                transform=clause.to_transform(),
                name=clause.field_name,
            )
        )
    return PartitionSpec(*fields)
