"""meshlake's `where` grammar: a small, documented part of SQL, parsed and checked against a port's columns.

    filter     := condition
    condition  := term ( OR term )*
    term       := factor ( AND factor )*
    factor     := NOT factor | '(' condition ')' | predicate
    predicate  := column op literal | literal op column
                | column [NOT] IN '(' literal [, literal]… ')'
                | column [NOT] BETWEEN literal AND literal
                | column [NOT] LIKE 'pattern' [ESCAPE 'c']
                | column IS [NOT] NULL
    op         := =  ==  !=  <>  <  <=  >  >=
    column     := name | "quoted name"        (unquoted names are case-insensitive, as in SQL)
    literal    := 'text' (two quotes for one: 'it''s') | number (7, -2.5, 1e3) | TRUE | FALSE
                | DATE 'YYYY-MM-DD' | TIMESTAMP 'YYYY-MM-DD HH:MM:SS[.ffffff]' | TIMESTAMPTZ '…+HH:MM'

Semantics are SQL's (and DuckDB's): a comparison with NULL is unknown and selects nothing (use IS NULL);
`NOT` of unknown stays unknown; LIKE is case-sensitive, `%` matches any run of characters, `_` exactly one,
and only the ESCAPE character (none by default) makes the next one literal; NaN equals NaN and sorts above
every other number. Literals are checked against the column's contract type: numbers for numeric columns
(exactly: 1.234 is refused for a decimal(10,2)), quoted text for strings, dates and times (`timestamptz`
needs a zone: '2026-11-01T00:00:00+00:00' or …Z), TRUE/FALSE for booleans. Anything else — functions,
column-to-column comparisons, nested fields, another keyword — is an `InvalidFilterError` showing where.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from typing import TYPE_CHECKING

from pyiceberg.types import (
    BooleanType,
    DateType,
    DecimalType,
    DoubleType,
    FloatType,
    IcebergType,
    IntegerType,
    LongType,
    NestedField,
    StringType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

from meshlake.errors import InvalidFilterError

if TYPE_CHECKING:
    from pyiceberg.schema import Schema

MAX_DEPTH = 100
MAX_LENGTH = 100_000
KEYWORDS = frozenset({"and", "or", "not", "in", "is", "null", "between", "like", "escape", "true", "false"})
OPERATORS = {"=": "=", "==": "=", "!=": "!=", "<>": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
FLIPPED = {"=": "=", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_TOKEN = re.compile(
    r"""(?P<space>\s+)
    |(?P<string>'(?:[^']|'')*')
    |(?P<quoted>"(?:[^"]|"")*")
    |(?P<number>(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)
    |(?P<word>[A-Za-z_][A-Za-z0-9_]*)
    |(?P<symbol><=|>=|<>|!=|==|=|<|>|\(|\)|,|-)""",
    re.VERBOSE,
)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_TIMESTAMP = re.compile(
    r"(?P<day>\d{4}-\d{2}-\d{2})(?:[T ](?P<time>\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?))?"
    r"(?P<zone>Z|[+-]\d{2}(?::?\d{2})?)?"
)
_TIME = re.compile(r"\d{2}:\d{2}(?::\d{2}(?:\.\d{1,6})?)?")


@dataclass(frozen=True)
class Token:
    kind: str  # string, quoted, number, word, symbol, end
    text: str
    position: int  # 1-based

    @property
    def word(self) -> str:
        return self.text.lower() if self.kind == "word" else ""


# -- the tree ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Column:
    """A top-level column of the port and its contract type."""

    name: str
    type: IcebergType


@dataclass(frozen=True)
class Comparison:
    column: Column
    op: str  # one of = != < <= > >=
    value: object


@dataclass(frozen=True)
class InList:
    column: Column
    values: tuple[object, ...]
    negated: bool


@dataclass(frozen=True)
class Between:
    column: Column
    low: object
    high: object
    negated: bool


@dataclass(frozen=True)
class Like:
    column: Column
    pattern: str
    escape: str | None
    negated: bool


@dataclass(frozen=True)
class IsNull:
    column: Column
    negated: bool


@dataclass(frozen=True)
class Not:
    child: Node


@dataclass(frozen=True)
class And:
    left: Node
    right: Node


@dataclass(frozen=True)
class Or:
    left: Node
    right: Node


Node = Comparison | InList | Between | Like | IsNull | Not | And | Or


@dataclass(frozen=True)
class _Literal:
    kind: str  # string, number, boolean, null, date, timestamp, timestamptz
    text: str
    position: int


def parse_where(text: str, schema: Schema) -> Node:
    """The condition `text` as a checked tree over `schema`'s columns; `InvalidFilterError` otherwise."""
    if not isinstance(text, str):
        raise InvalidFilterError(str(text), f"a filter is text, not {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise InvalidFilterError(text[:60] + "…", f"the filter is longer than {MAX_LENGTH:,} characters")
    if not text.strip():
        raise InvalidFilterError(text, "the filter is empty")
    return _Parser(text, schema).parse()


def tokens(text: str) -> list[Token]:
    """The tokens of `text`, ending with an `end` token; unreadable characters raise `InvalidFilterError`."""
    found: list[Token] = []
    position = 0
    while position < len(text):
        match = _TOKEN.match(text, position)
        if match is None:
            character = text[position]
            if character == "'":
                problem = "a quote (') is not closed"
            elif character == '"':
                problem = 'a double quote (") is not closed'
            elif character == ".":
                problem = (
                    "'.' is not part of the grammar (filters name top-level columns; nested fields are not supported)"
                )
            else:
                problem = f"the character {character!r} is not part of the grammar"
            raise InvalidFilterError(text, problem, position=position + 1)
        kind = match.lastgroup or ""
        if kind != "space":
            found.append(Token(kind, match.group(), position + 1))
        position = match.end()
    found.append(Token("end", "", len(text) + 1))
    return found


class _Parser:
    def __init__(self, text: str, schema: Schema) -> None:
        self.text = text
        self.schema = schema
        self.tokens = tokens(text)
        self.index = 0
        self.depth = 0
        self.heights: dict[int, int] = {}  # id(node) → levels of its tree (a predicate is 1)

    # -- helpers
    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def _advance(self) -> Token:
        token = self.tokens[self.index]
        if token.kind != "end":
            self.index += 1
        return token

    def _at(self, *words: str) -> bool:
        return self.current.word in words

    def _at_symbol(self, *symbols: str) -> bool:
        return self.current.kind == "symbol" and self.current.text in symbols

    def _fail(self, problem: str, token: Token | None = None, **extra: object) -> InvalidFilterError:
        at = token or self.current
        return InvalidFilterError(self.text, problem, position=at.position, **extra)  # type: ignore[arg-type]

    def _expect_word(self, word: str, context: str) -> None:
        if not self._at(word):
            raise self._fail(f"expected {word.upper()} {context}, found {_shown(self.current)}")
        self._advance()

    def _expect_symbol(self, symbol: str, context: str) -> None:
        if not self._at_symbol(symbol):
            raise self._fail(f"expected '{symbol}' {context}, found {_shown(self.current)}")
        self._advance()

    # -- grammar
    def parse(self) -> Node:
        node = self._condition()
        if self.current.kind != "end":
            raise self._fail(f"expected AND, OR or the end of the filter, found {_shown(self.current)}")
        return node

    def _condition(self) -> Node:
        self.depth += 1
        if self.depth > MAX_DEPTH:
            raise self._fail(f"the filter nests deeper than {MAX_DEPTH} levels")
        terms = [self._term()]
        while self._at("or"):
            self._advance()
            terms.append(self._term())
        self.depth -= 1
        return self._joined(Or, terms)

    def _term(self) -> Node:
        factors = [self._factor()]
        while self._at("and"):
            self._advance()
            factors.append(self._factor())
        return self._joined(And, factors)

    def _joined(self, kind: type[And] | type[Or], nodes: list[Node]) -> Node:
        """`a AND b AND c …` as a balanced tree (AND and OR are associative): a chain of thousands of
        conditions stays a few levels deep for everything that walks the tree."""
        while len(nodes) > 1:
            nodes = [
                self._node(kind(*nodes[i : i + 2])) if i + 1 < len(nodes) else nodes[i] for i in range(0, len(nodes), 2)
            ]
        return nodes[0]

    def _node(self, node: Not | And | Or) -> Node:
        """`node`, once its tree is known to be at most `MAX_DEPTH` levels deep."""
        children = (node.child,) if isinstance(node, Not) else (node.left, node.right)
        height = 1 + max(self.heights.get(id(child), 1) for child in children)
        if height > MAX_DEPTH:
            raise self._fail(f"the filter nests deeper than {MAX_DEPTH} levels")
        self.heights[id(node)] = height
        return node

    def _factor(self) -> Node:
        if self._at("not"):
            self._advance()
            self.depth += 1
            if self.depth > MAX_DEPTH:
                raise self._fail(f"the filter nests deeper than {MAX_DEPTH} levels")
            negated = self._node(Not(self._factor()))
            self.depth -= 1
            return negated
        if self._at_symbol("("):
            self._advance()
            inner = self._condition()
            self._expect_symbol(")", "to close the parenthesis")
            return inner
        return self._predicate()

    def _predicate(self) -> Node:
        start = self.current
        if self._starts_literal():
            literal = self._literal()
            op = self._operator(f"after {_shown(start)}")
            column_token = self.current
            if self._starts_literal():
                raise self._fail("a comparison needs a column on one side", start)
            column = self._column()
            return self._comparison(column, FLIPPED[op], literal, column_token)
        column = self._column()
        if isinstance(column.type, BooleanType) and (
            self.current.kind == "end" or self._at("and", "or") or self._at_symbol(")")
        ):
            return Comparison(column, "=", True)  # `WHERE active`: a boolean column on its own
        negated = False
        if self._at("not"):
            self._advance()
            negated = True
            if not self._at("in", "between", "like"):
                raise self._fail(f"expected IN, BETWEEN or LIKE after NOT, found {_shown(self.current)}")
        if self._at("is"):
            self._advance()
            is_not = self._at("not")
            if is_not:
                self._advance()
            self._expect_word("null", "after IS (IS NULL or IS NOT NULL)")
            return IsNull(column, is_not)
        if self._at("in"):
            self._advance()
            return self._in(column, negated)
        if self._at("between"):
            self._advance()
            low = self._value(column, self._literal())
            self._expect_word("and", "between the two bounds of BETWEEN")
            high = self._value(column, self._literal())
            self._ordered(column, start)
            return Between(column, low, high, negated)
        if self._at("like"):
            self._advance()
            return self._like(column, negated)
        op = self._operator(f"after column {_shown(start)}", like=True)
        if not self._starts_literal():
            if self.current.kind in ("word", "quoted"):
                raise self._fail("comparing a column with another column is not supported")
            raise self._fail(f"expected a value after '{op}', found {_shown(self.current)}")
        value_token = self.current
        return self._comparison(column, op, self._literal(), value_token)

    def _operator(self, context: str, like: bool = False) -> str:
        token = self.current
        if token.kind == "symbol" and token.text in OPERATORS:
            self._advance()
            return OPERATORS[token.text]
        expected = "a comparison (= != <> < <= > >=), IN, BETWEEN, LIKE or IS" if like else "a comparison"
        raise self._fail(f"expected {expected} {context}, found {_shown(token)}")

    def _comparison(self, column: Column, op: str, literal: _Literal, token: Token) -> Comparison:
        if literal.kind == "null":
            raise self._fail("a comparison with NULL is never true; write IS NULL or IS NOT NULL", token)
        if op not in ("=", "!="):
            self._ordered(column, token)
        return Comparison(column, op, self._value(column, literal))

    def _ordered(self, column: Column, token: Token) -> None:
        if isinstance(column.type, UUIDType):
            raise self._fail(f"column '{column.name}' is a uuid: compare it with = , != or IN only", token)

    def _in(self, column: Column, negated: bool) -> InList:
        self._expect_symbol("(", "after IN")
        values = [self._value(column, self._literal())]
        while self._at_symbol(","):
            self._advance()
            values.append(self._value(column, self._literal()))
        self._expect_symbol(")", "to close the IN list")
        return InList(column, tuple(values), negated)

    def _like(self, column: Column, negated: bool) -> Like:
        token = self.current
        if token.kind != "string":
            raise self._fail(f"expected a quoted pattern after LIKE, found {_shown(token)}")
        pattern = self._literal().text
        if not isinstance(column.type, StringType):
            raise self._fail(f"LIKE applies to string columns; '{column.name}' is {column.type}", token)
        escape: str | None = None
        if self._at("escape"):
            self._advance()
            escape_token = self.current
            if escape_token.kind != "string":
                raise self._fail(f"expected a quoted character after ESCAPE, found {_shown(escape_token)}")
            escape = self._literal().text or None
            if escape is not None and len(escape) != 1:
                raise self._fail("ESCAPE takes a single character", escape_token)
        try:
            like_parts(pattern, escape)
        except _Misfit as misfit:
            raise self._fail(str(misfit), token) from None
        return Like(column, pattern, escape, negated)

    def _starts_literal(self) -> bool:
        token = self.current
        if token.kind in ("string", "number") or token.word in ("true", "false", "null"):
            return True
        if token.kind == "symbol" and token.text == "-":
            return True
        following = self.tokens[min(self.index + 1, len(self.tokens) - 1)]
        return token.word in ("date", "timestamp", "timestamptz") and following.kind == "string"

    def _literal(self) -> _Literal:
        token = self._advance()
        if token.kind == "string":
            return _Literal("string", token.text[1:-1].replace("''", "'"), token.position)
        if token.kind == "number":
            return _Literal("number", token.text, token.position)
        if token.kind == "symbol" and token.text == "-":
            number = self._advance()
            if number.kind != "number":
                raise self._fail(f"expected a number after '-', found {_shown(number)}", number)
            return _Literal("number", "-" + number.text, token.position)
        if token.word in ("true", "false"):
            return _Literal("boolean", token.word, token.position)
        if token.word == "null":
            return _Literal("null", "null", token.position)
        if token.word in ("date", "timestamp", "timestamptz"):
            text = self._advance().text
            return _Literal(token.word, text[1:-1].replace("''", "'"), token.position)
        raise self._fail(f"expected a value, found {_shown(token)}", token)

    def _column(self) -> Column:
        token = self.current
        if token.kind == "quoted":
            name = token.text[1:-1].replace('""', '"')
        elif token.kind == "word" and token.word not in KEYWORDS:
            name = token.word
        else:
            raise self._fail(f"expected a column name, found {_shown(token)}")
        self._advance()
        if self._at_symbol("(") and token.kind == "word":
            raise self._fail(f"functions such as {token.text}(…) are not part of the grammar", token)
        known = [field.name for field in self.schema.fields]
        if name not in known:
            raise self._fail(f"unknown column '{name}' (columns: {', '.join(known)})", token, column=name, known=known)
        field: NestedField = self.schema.find_field(name)
        return Column(name, field.field_type)

    # -- literal values in the column's type
    def _value(self, column: Column, literal: _Literal) -> object:
        token = Token("literal", literal.text, literal.position)
        try:
            return _typed(column, literal)
        except _Misfit as misfit:
            raise self._fail(str(misfit), token, column=column.name) from None


class _Misfit(ValueError):  # noqa: N818 - internal, turned into InvalidFilterError
    pass


ANY, ONE = "%", "_"


def like_parts(pattern: str, escape: str | None) -> list[tuple[str, str]]:
    """A LIKE pattern as (kind, text) parts: ("text", "abc"), ("any", "%"), ("one", "_")."""
    parts: list[tuple[str, str]] = []
    index = 0
    while index < len(pattern):
        character = pattern[index]
        if escape is not None and character == escape:
            if index + 1 == len(pattern):
                raise _Misfit("the LIKE pattern ends with its escape character")
            parts.append(("text", pattern[index + 1]))
            index += 2
            continue
        parts.append(("any", ANY) if character == ANY else ("one", ONE) if character == ONE else ("text", character))
        index += 1
    merged: list[tuple[str, str]] = []
    for kind, text in parts:
        if merged and kind == "text" and merged[-1][0] == "text":
            merged[-1] = ("text", merged[-1][1] + text)
        else:
            merged.append((kind, text))
    return merged


def _typed(column: Column, literal: _Literal) -> object:
    """The literal as a Python value of the column's type, or `_Misfit` saying why it is not one."""
    kind, name, text = column.type, column.name, literal.text
    if literal.kind == "null":
        raise _Misfit("NULL cannot be compared or listed; write IS NULL or IS NOT NULL")
    if isinstance(kind, (IntegerType, LongType, FloatType, DoubleType, DecimalType)):
        if literal.kind != "number":
            raise _Misfit(f"column '{name}' is {kind}: write a number without quotes")
        return _number(kind, name, text)
    if isinstance(kind, StringType):
        if literal.kind != "string":
            raise _Misfit(f"column '{name}' is a string: quote the value ('…')")
        return text
    if isinstance(kind, BooleanType):
        if literal.kind != "boolean":
            raise _Misfit(f"column '{name}' is a boolean: compare it with TRUE or FALSE")
        return text == "true"
    if isinstance(kind, (DateType, TimestampType, TimestamptzType, TimeType, UUIDType)):
        expected = {DateType: "date", TimestampType: "timestamp", TimestamptzType: "timestamptz"}.get(type(kind))
        if literal.kind not in ("string", expected):
            raise _Misfit(f"column '{name}' is {kind}: write the value in quotes, e.g. {_EXAMPLES[type(kind)]}")
        return _temporal(kind, name, text)
    raise _Misfit(f"column '{name}' is {kind}: filters can only test it with IS NULL or IS NOT NULL")


_EXAMPLES: dict[type, str] = {
    DateType: "'2026-11-01'",
    TimestampType: "'2026-11-01 08:00:00'",
    TimestamptzType: "'2026-11-01T08:00:00+00:00'",
    TimeType: "'08:00:00'",
    UUIDType: "'6f1c…'",
}


def _number(kind: IcebergType, name: str, text: str) -> object:
    exact = Decimal(text)
    if isinstance(kind, (FloatType, DoubleType)):
        value = float(exact)
        if value in (float("inf"), float("-inf")):
            raise _Misfit(f"{text} is too large for column '{name}' ({kind})")
        return value
    if isinstance(kind, (IntegerType, LongType)):
        if exact.adjusted() > 20:
            raise _Misfit(f"{text} is out of range for column '{name}' ({kind})")
        if exact != exact.to_integral_value():
            raise _Misfit(f"column '{name}' is {kind} and {text} is not a whole number")
        bits = 31 if isinstance(kind, IntegerType) else 63
        if not -(2**bits) <= int(exact) < 2**bits:
            raise _Misfit(f"{text} is out of range for column '{name}' ({kind})")
        return int(exact)
    assert isinstance(kind, DecimalType)
    with localcontext(prec=200):
        try:
            fitted: Decimal | None = exact.quantize(Decimal(1).scaleb(-kind.scale))
        except InvalidOperation:
            fitted = None
        if fitted is None or fitted != exact or len(fitted.as_tuple().digits) > kind.precision:
            raise _Misfit(f"{text} is not exactly a value of column '{name}' ({kind})")
    return fitted


def _temporal(kind: IcebergType, name: str, text: str) -> object:
    if isinstance(kind, UUIDType):
        try:
            return uuid.UUID(text)
        except ValueError:
            raise _Misfit(f"'{text}' is not a UUID (column '{name}')") from None
    if isinstance(kind, TimeType):
        if not _TIME.fullmatch(text):
            raise _Misfit(f"'{text}' is not a time of day like '08:00:00' (column '{name}')")
        return _parse(dt.time.fromisoformat, text, name)
    if isinstance(kind, DateType):
        if not _DATE.fullmatch(text):
            raise _Misfit(f"'{text}' is not a date like '2026-11-01' (column '{name}')")
        return _parse(dt.date.fromisoformat, text, name)
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        raise _Misfit(f"'{text}' is not a time like {_EXAMPLES[type(kind)]} (column '{name}')")
    zone = match.group("zone")
    if isinstance(kind, TimestamptzType) and not zone:
        raise _Misfit(f"column '{name}' is timestamptz and '{text}' has no zone: add one, e.g. '{text}+00:00' (or Z)")
    if isinstance(kind, TimestampType) and zone:
        raise _Misfit(f"column '{name}' is a timestamp without zone and '{text}' has one: drop the offset")
    iso = match.group("day") + "T" + (match.group("time") or "00:00") + (zone or "")
    value = _parse(dt.datetime.fromisoformat, iso.replace("Z", "+00:00"), name)
    assert isinstance(value, dt.datetime)
    return value.astimezone(dt.UTC) if zone else value


def _parse(parse: object, text: str, name: str) -> object:
    try:
        return parse(text)  # type: ignore[operator]
    except ValueError as exc:
        raise _Misfit(f"'{text}' is not a valid value for column '{name}' ({exc})") from None


def _shown(token: Token) -> str:
    return "the end of the filter" if token.kind == "end" else repr(token.text)
