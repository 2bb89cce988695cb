"""`row_condition`: the rows an expectation looks at, in Great Expectations' condition syntax, parsed (never pasted).

Two spellings, chosen by `condition_parser`, are parsed into the filter tree of `meshlake.contract.filters`
(`Comparison`, `IsNull`, `Not`, `And`, `Or`), whose literals are checked against the port's column types:

    great_expectations:  col("weight") > 5 & col("country") == "NL" | ~(col("id").notnull())
    pandas:              weight > 5 & country == "NL" | ~(id.notnull())      (the subset of DataFrame.query below)

    condition  := term ( ('|' | 'or') term )*
    term       := factor ( ('&' | 'and') factor )*
    factor     := ('~' | 'not') factor | '(' condition ')' | predicate
    predicate  := column op value | value op column | column '.notnull()' | column '.isnull()'
    op         := ==  !=  <  <=  >  >=
    column     := col("name")                       (great_expectations)
                | name | `name`                     (pandas)
    value      := number | "text" | 'text' | True | False | date("2026-11-01")

The semantics are GE's on pandas (`DataFrame.query`): a comparison with a missing value (NULL or NaN) is false,
except `!=`, which is true; `~` and `not` negate that two-valued result.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from pyiceberg.types import BooleanType

from meshlake.contract import filters
from meshlake.contract.filters import And, Column, Comparison, IsNull, Node, Not, Or
from meshlake.errors import InvalidFilterError

if TYPE_CHECKING:
    from pyiceberg.schema import Schema

MAX_LENGTH = 10_000
MAX_DEPTH = 50
_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<col>col\(\s*(?P<q>["'])(?P<colname>(?:(?!(?P=q)).)*)(?P=q)\s*\))
    |(?P<date>date\(\s*(?P<dq>["'])(?P<datevalue>(?:(?!(?P=dq)).)*)(?P=dq)\s*\))
    |(?P<method>\.\s*(?:notnull|notna|isnull|isna)\s*\(\s*\))
    |(?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    |(?P<number>[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<backtick>`[^`]+`)
    |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<symbol>==|!=|<=|>=|<|>|&|\||~|\(|\))""",
    re.VERBOSE,
)
_OPS = {"==": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_FLIP = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}


@dataclass(frozen=True)
class _Token:
    kind: str
    text: str
    value: str
    position: int


class RowConditionError(ValueError):
    """A `row_condition` that does not parse, names an unknown column or compares a column with the wrong type."""

    def __init__(self, problem: str, *, condition: str, position: int | None = None) -> None:
        self.problem = problem
        self.condition = condition
        self.position = position
        at = f" at character {position}" if position else ""
        super().__init__(f"row_condition {condition!r}{at}: {problem}")


def parse_row_condition(text: object, parser: object, columns: Mapping[str, str]) -> Node:
    """The condition as a checked tree over `columns` (name → type); `RowConditionError` otherwise."""
    if not isinstance(text, str):
        raise RowConditionError(f"a row_condition is text, not {type(text).__name__}", condition=str(text))
    if parser is None:
        parser = "great_expectations" if "col(" in text else "pandas"
    if parser not in ("great_expectations", "great_expectations__experimental__", "pandas"):
        raise RowConditionError(
            f"condition_parser {parser!r} is not supported: use great_expectations or pandas", condition=text
        )
    if not text.strip():
        raise RowConditionError("the condition is empty", condition=text)
    if len(text) > MAX_LENGTH:
        raise RowConditionError(f"the condition is longer than {MAX_LENGTH:,} characters", condition=text[:60])
    return _Parser(text, parser == "pandas", _schema(columns)).parse()


def _schema(columns: Mapping[str, str]) -> Schema:
    """An Iceberg schema of `columns`, whose types are contract types (`long`) or DuckDB types (`BIGINT`)."""
    from pyiceberg.schema import Schema
    from pyiceberg.types import (
        BinaryType,
        DateType,
        DecimalType,
        DoubleType,
        LongType,
        NestedField,
        StringType,
        TimestampType,
        TimestamptzType,
        TimeType,
        UUIDType,
    )

    from meshlake.contract.expectations import type_family
    from meshlake.contract.types import TypeSyntaxError, parse_type

    by_family = {
        "integer": LongType(),
        "float": DoubleType(),
        "string": StringType(),
        "boolean": BooleanType(),
        "date": DateType(),
        "time": TimeType(),
        "timestamp": TimestampType(),
        "timestamptz": TimestamptzType(),
        "uuid": UUIDType(),
        "binary": BinaryType(),
    }
    fields = []
    for index, (name, text) in enumerate(columns.items(), start=1):
        try:
            kind = parse_type(text)
        except TypeSyntaxError:
            family = type_family(text)
            decimal = re.match(r"^\s*(?:decimal|numeric)\s*\(\s*(\d+)\s*,\s*(\d+)\s*\)", text, re.IGNORECASE)
            if decimal:
                kind = DecimalType(int(decimal.group(1)), int(decimal.group(2)))
            elif family in by_family:
                kind = by_family[family]
            else:
                continue  # nested or unknown: not comparable in a condition
        fields.append(NestedField(index, name, kind, required=False))
    return Schema(*fields)


def _tokens(text: str) -> list[_Token]:
    found: list[_Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            raise RowConditionError(
                f"cannot read {text[position : position + 12]!r}", condition=text, position=position + 1
            )
        kind = match.lastgroup or ""
        if kind in ("q", "colname", "dq", "datevalue"):
            kind = "col" if match.group("col") else "date"
        if kind != "space":
            value = match.group("colname") if kind == "col" else match.group("datevalue") if kind == "date" else ""
            found.append(_Token(kind, match.group(), value or "", position + 1))
        position = match.end()
    found.append(_Token("end", "", "", len(text) + 1))
    return found


class _Parser:
    def __init__(self, text: str, pandas: bool, schema: Schema) -> None:
        self.text = text
        self.pandas = pandas
        self.schema = schema
        self.tokens = _tokens(text)
        self.index = 0
        self.depth = 0

    @property
    def current(self) -> _Token:
        return self.tokens[self.index]

    def _advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def _fail(self, problem: str, token: _Token | None = None) -> RowConditionError:
        return RowConditionError(problem, condition=self.text, position=(token or self.current).position)

    def _at(self, *texts: str) -> bool:
        token = self.current
        return (token.kind == "symbol" and token.text in texts) or (token.kind == "word" and token.text in texts)

    def parse(self) -> Node:
        node = self._condition()
        if self.current.kind != "end":
            raise self._fail(f"expected &, | or the end of the condition, found {self.current.text!r}")
        return node

    def _condition(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._fail(f"the condition nests deeper than {MAX_DEPTH} levels")
        node = self._term()
        while self._at("|", "or"):
            self._advance()
            node = Or(node, self._term())
        self.depth -= 1
        return node

    def _term(self) -> Node:
        node = self._factor()
        while self._at("&", "and"):
            self._advance()
            node = And(node, self._factor())
        return node

    def _factor(self) -> Node:
        if self._at("~", "not"):
            self._advance()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self._fail(f"the condition nests deeper than {MAX_DEPTH} levels")
            node = Not(self._factor())
            self.depth -= 1
            return node
        if self._at("("):
            self._advance()
            inner = self._condition()
            if not self._at(")"):
                raise self._fail(f"expected ')' to close the parenthesis, found {self._shown()}")
            self._advance()
            return inner
        return self._predicate()

    def _predicate(self) -> Node:
        start = self.current
        if self._is_value():
            value = self._advance()
            op = self._operator()
            column = self._column()
            return self._comparison(column, _FLIP[op], value)
        column = self._column()
        if self.current.kind == "method":
            method = self._advance().text.replace(" ", "")
            return IsNull(column, negated=method.startswith(".not"))
        if self.current.kind == "end" or self._at("&", "|", ")", "and", "or"):
            if isinstance(column.type, BooleanType):
                return Comparison(column, "=", True)
            raise self._fail(f"expected a comparison after column '{column.name}'", start)
        op = self._operator()
        if not self._is_value():
            raise self._fail(f"expected a value after '{op}', found {self._shown()} (columns compare with values only)")
        return self._comparison(column, op, self._advance())

    def _shown(self) -> str:
        return "the end of the condition" if self.current.kind == "end" else repr(self.current.text)

    def _is_value(self) -> bool:
        token = self.current
        return token.kind in ("string", "number", "date") or (token.kind == "word" and token.text in ("True", "False"))

    def _operator(self) -> str:
        token = self.current
        if token.kind == "symbol" and token.text in _OPS:
            self._advance()
            return _OPS[token.text]
        raise self._fail(f"expected a comparison (== != < <= > >=), found {self._shown()}")

    def _column(self) -> Column:
        token = self.current
        if token.kind == "col":
            name = token.value
        elif self.pandas and token.kind == "backtick":
            name = token.text[1:-1]
        elif self.pandas and token.kind == "word" and token.text not in ("and", "or", "not", "True", "False"):
            name = token.text
        else:
            spelled = 'col("name")' if not self.pandas else "a column name"
            raise self._fail(f"expected {spelled}, found {self._shown()}")
        self._advance()
        known = [f.name for f in self.schema.fields]
        if name not in known:
            raise self._fail(f"unknown column '{name}' (columns: {', '.join(known)})", token)
        return Column(name, self.schema.find_field(name).field_type)

    def _comparison(self, column: Column, op: str, token: _Token) -> Comparison:
        if token.kind == "string":
            literal = filters._Literal("string", _unquote(token.text), token.position)
        elif token.kind == "date":
            literal = filters._Literal("string", token.value, token.position)
        elif token.kind == "number":
            literal = filters._Literal("number", token.text, token.position)
        else:
            literal = filters._Literal("boolean", token.text.lower(), token.position)
        try:
            value = filters._typed(column, literal)
        except filters._Misfit as misfit:
            raise self._fail(str(misfit), token) from None
        except InvalidFilterError as exc:  # pragma: no cover - _typed raises _Misfit only
            raise self._fail(str(exc), token) from None
        return Comparison(column, op, value)


def _unquote(text: str) -> str:
    body = text[1:-1]
    return re.sub(r"\\(.)", r"\1", body)
