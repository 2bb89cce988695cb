"""Contract types: the type strings of `dataproduct.yaml`, to and from Iceberg types.

Primitive: boolean, int, long, float, double, decimal(p,s), string, binary, date, time, timestamp,
timestamptz, uuid. Nested: `list<T>`, `map<K,V>`, `struct<name: T, other: T>`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from pyiceberg.types import (
    BinaryType,
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IcebergType,
    IntegerType,
    ListType,
    LongType,
    MapType,
    NestedField,
    PrimitiveType,
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

from meshlake.contract.address import NAME_PATTERN

PRIMITIVES: dict[str, type[PrimitiveType]] = {
    "boolean": BooleanType,
    "int": IntegerType,
    "long": LongType,
    "float": FloatType,
    "double": DoubleType,
    "string": StringType,
    "binary": BinaryType,
    "date": DateType,
    "time": TimeType,
    "timestamp": TimestampType,
    "timestamptz": TimestamptzType,
    "uuid": UUIDType,
}
MAX_NESTING = 32
"""How deep list, map and struct types may nest (pyiceberg cannot load a schema much deeper back)."""
TYPE_NAMES = (*PRIMITIVES, "decimal(p,s)", "list<T>", "map<K,V>", "struct<name: T, ...>")
_TOKEN = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_]*|\d+|[<>(),:])")


class TypeSyntaxError(ValueError):
    """A type string that cannot be read; the message says why."""


class _IdCounter:
    """Hands out placeholder field ids for nested fields; tables get fresh ids on create."""

    def __init__(self, start: int = 1) -> None:
        self.next_id = start

    def __call__(self) -> int:
        value = self.next_id
        self.next_id += 1
        return value


def parse_type(text: str, ids: _IdCounter | None = None) -> IcebergType:
    """Parse a contract type string into an Iceberg type."""
    if not isinstance(text, str):
        raise TypeSyntaxError(f"a type must be a string, got {type(text).__name__}")
    tokens = list(_tokens(text))
    parser = _Parser(tokens, text, ids or _IdCounter(10_000))
    result = parser.parse()
    if parser.position != len(tokens):
        raise TypeSyntaxError(f"unexpected '{tokens[parser.position]}' in type {text!r}")
    return result


def _tokens(text: str) -> Iterator[str]:
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if not match:
            raise TypeSyntaxError(f"cannot read type {text!r} at '{stripped[position:]}'")
        yield match.group(1)
        position = match.end()


class _Parser:
    def __init__(self, tokens: list[str], text: str, ids: _IdCounter) -> None:
        self.tokens = tokens
        self.text = text
        self.ids = ids
        self.position = 0
        self.depth = 0

    def _next(self) -> str:
        if self.position >= len(self.tokens):
            raise TypeSyntaxError(f"type {self.text!r} ends too early")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def _expect(self, token: str) -> None:
        found = self._next()
        if found != token:
            raise TypeSyntaxError(f"expected '{token}' but found '{found}' in type {self.text!r}")

    def parse(self) -> IcebergType:
        name = self._next().lower()
        if name in PRIMITIVES:
            return PRIMITIVES[name]()
        if name in ("list", "map", "struct"):
            self.depth += 1
            if self.depth > MAX_NESTING:
                raise TypeSyntaxError(f"type nests list, map and struct deeper than {MAX_NESTING} levels")
            try:
                return self._nested(name)
            finally:
                self.depth -= 1
        if name == "decimal":
            self._expect("(")
            precision = int(self._number())
            self._expect(",")
            scale = int(self._number())
            self._expect(")")
            if not 1 <= precision <= 38 or not 0 <= scale <= precision:
                raise TypeSyntaxError(
                    f"decimal({precision},{scale}) needs 1 ≤ precision ≤ 38 and 0 ≤ scale ≤ precision"
                )
            return DecimalType(precision, scale)
        known = ", ".join(TYPE_NAMES)
        raise TypeSyntaxError(f"unknown type '{name}' in {self.text!r}; known types: {known}")

    def _nested(self, name: str) -> IcebergType:
        if name == "list":
            self._expect("<")
            element_id = self.ids()
            element = self.parse()
            self._expect(">")
            return ListType(element_id=element_id, element_type=element, element_required=False)
        if name == "map":
            self._expect("<")
            key_id, value_id = self.ids(), self.ids()
            key = self.parse()
            self._expect(",")
            value = self.parse()
            self._expect(">")
            return MapType(key_id=key_id, key_type=key, value_id=value_id, value_type=value, value_required=False)
        return self._struct()

    def _number(self) -> str:
        token = self._next()
        if not token.isdigit():
            raise TypeSyntaxError(f"expected a number but found '{token}' in type {self.text!r}")
        return token

    def _struct(self) -> StructType:
        self._expect("<")
        fields: list[NestedField] = []
        seen: set[str] = set()
        while True:
            field_name = self._next()
            if not NAME_PATTERN.fullmatch(field_name):
                raise TypeSyntaxError(f"invalid struct field name '{field_name}' in {self.text!r}")
            if field_name in seen:
                raise TypeSyntaxError(f"duplicate struct field '{field_name}' in {self.text!r}")
            seen.add(field_name)
            self._expect(":")
            field_id = self.ids()
            fields.append(NestedField(field_id, field_name, self.parse(), required=False))
            separator = self._next()
            if separator == ">":
                return StructType(*fields)
            if separator != ",":
                raise TypeSyntaxError(f"expected ',' or '>' but found '{separator}' in {self.text!r}")


def format_type(value: IcebergType) -> str:
    """Render an Iceberg type in contract syntax (the inverse of `parse_type`)."""
    if isinstance(value, DecimalType):
        return f"decimal({value.precision},{value.scale})"
    if isinstance(value, ListType):
        return f"list<{format_type(value.element_type)}>"
    if isinstance(value, MapType):
        return f"map<{format_type(value.key_type)},{format_type(value.value_type)}>"
    if isinstance(value, StructType):
        inner = ", ".join(f"{f.name}: {format_type(f.field_type)}" for f in value.fields)
        return f"struct<{inner}>"
    for name, kind in PRIMITIVES.items():
        if type(value) is kind:
            return name
    return str(value)


def is_widening(old: IcebergType, new: IcebergType) -> bool:
    """True when Iceberg can promote `old` to `new` in place (int→long, float→double, wider decimal)."""
    if isinstance(old, IntegerType) and isinstance(new, LongType):
        return True
    if isinstance(old, FloatType) and isinstance(new, DoubleType):
        return True
    return (
        isinstance(old, DecimalType)
        and isinstance(new, DecimalType)
        and old.scale == new.scale
        and new.precision > old.precision
    )
