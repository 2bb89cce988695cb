"""Golden tests of the read restrictions: the same cases through the DuckDB and the Polars compilers.

Each case builds an Arrow table in code, reads it through one engine with a `Decision`'s masks and row filter
applied (`mask_sql.restricted_sql` over a registered relation, `mask_polars.restricted_frame` over a lazy
frame), and compares with the values the Iceberg REST specification's read restrictions prescribe.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

import duckdb
import polars as pl
import pyarrow as pa
import pytest
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.schema import Schema
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
    StringType,
    StructType,
    TimestampType,
    TimestamptzType,
    TimeType,
    UUIDType,
)

from meshlake.access.mask_polars import restricted_frame
from meshlake.access.mask_sql import needs_salt, restricted_sql
from meshlake.access.masks import mask_value
from meshlake.access.rights import Decision, RowFilter
from meshlake.contract.access import APPLICABLE_TO, MASK_ACTIONS, ColumnMask, MaskAction
from meshlake.contract.principals import Principal
from meshlake.errors import AccessDeniedError, ReadRestrictionError

ENGINES = ["duckdb", "polars"]
ADDRESS = "sales.crm.customers"
EMAIL = "prashant010696@gmail.com"


def decision(masks: Mapping[str, str | dict[str, str]] | None = None, where: Sequence[str] = ()) -> Decision:
    """A reader's decision with these masks (column → action) and row filter clauses."""
    return Decision(
        Principal.parse("user:ann"),
        ADDRESS,
        read=True,
        write=False,
        reason="reader via *",
        level="library",
        role="reader",
        row_filter=RowFilter(tuple(where)) if where else None,
        masks={name: ColumnMask.model_validate(action) for name, action in (masks or {}).items()},
    )


def schema_of(*columns: tuple[str, IcebergType] | tuple[str, IcebergType, bool]) -> Schema:
    fields = []
    next_id = 1000
    for i, column in enumerate(columns, start=1):
        name, kind = column[0], column[1]
        required = len(column) == 3 and bool(column[2])
        fields.append(NestedField(i, name, _renumbered(kind, next_id), required=required))
        next_id += 100
    return Schema(*fields)


def _renumbered(kind: IcebergType, start: int) -> IcebergType:
    """Nested types with field ids that do not clash with the top-level ones."""
    if isinstance(kind, StructType):
        return StructType(
            *(
                NestedField(start + i, f.name, _renumbered(f.field_type, start + 10 * (i + 1)), required=f.required)
                for i, f in enumerate(kind.fields)
            )
        )
    if isinstance(kind, ListType):
        return ListType(start, _renumbered(kind.element_type, start + 1), element_required=kind.element_required)
    if isinstance(kind, MapType):
        return MapType(start, kind.key_type, start + 1, kind.value_type, value_required=kind.value_required)
    return kind


def table_of(schema: Schema, rows: Sequence[Mapping[str, Any]]) -> pa.Table:
    arrow = schema_to_pyarrow(schema)
    prepared = [{k: (v.bytes if isinstance(v, uuid.UUID) else v) for k, v in row.items()} for row in rows]
    return pa.Table.from_pylist(prepared, schema=arrow)


def read(
    engine: str,
    schema: Schema,
    rows: Sequence[Mapping[str, Any]],
    restriction: Decision,
    *,
    salt: bytes | None = None,
    contract: Schema | None = None,
    time_zone: str | None = None,
) -> pa.Table:
    """The rows read through `engine` under `restriction`."""
    table = table_of(schema, rows)
    if engine == "duckdb":
        con = duckdb.connect()
        if time_zone:
            con.execute(f"SET TimeZone = '{time_zone}'")
        con.register("source", table)
        sql = restricted_sql(restriction, 'SELECT * FROM "source"', schema, salt=salt, contract=contract)
        result: pa.Table = con.sql(sql).to_arrow_table()
        return result
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    lazy = restricted_frame(restriction, frame.lazy(), schema, salt=salt, contract=contract)
    return lazy.collect().to_arrow()


def values(result: pa.Table, column: str) -> list[Any]:
    """A column's values as plain Python (UUIDs as UUID, zoned times in UTC, maps as dicts)."""
    return [_plain(v) for v in result.column(column).to_pylist()]


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime) and value.tzinfo is not None:
        return value.astimezone(dt.UTC)
    if isinstance(value, str) and len(value) == 36 and value.count("-") == 4:
        try:
            return uuid.UUID(value)
        except ValueError:
            return value
    if isinstance(value, bytes) and len(value) == 16 and value == bytes(16):
        return uuid.UUID(int=0)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


# -- the specification's worked examples --------------------------------------------------------------------

STRING = schema_of(("s", StringType()))


@pytest.mark.parametrize(
    ("action", "value", "expected"),
    [
        ("mask-alphanum", EMAIL, "xxxxxxxxnnnnnn@xxxxx.xxx"),
        ("show-first-4", EMAIL, "prasxxxxnnnnnn@xxxxx.xxx"),
        ("show-last-4", "4111-1111-1111-4444", "nnnn-nnnn-nnnn-4444"),
        ("mask-alphanum", "(555) 010-9999, ext.#12", "(nnn)xnnn-nnnn,xxxx.xnn"),
    ],
)
def test_string_masks_reproduce_the_specification_examples(engine: str, action: str, value: str, expected: str) -> None:
    result = read(engine, STRING, [{"s": value}], decision({"s": action}))
    assert values(result, "s") == [expected]


@pytest.mark.parametrize(
    ("action", "expected"), [("truncate-to-year", dt.date(2024, 1, 1)), ("truncate-to-month", dt.date(2024, 7, 1))]
)
def test_date_truncation_reproduces_the_specification_examples(engine: str, action: str, expected: dt.date) -> None:
    schema = schema_of(("d", DateType()))
    result = read(engine, schema, [{"d": dt.date(2024, 7, 15)}], decision({"d": action}))
    assert values(result, "d") == [expected]


def test_masks_work_code_point_by_code_point_on_non_ascii_text(engine: str) -> None:
    text = "Zoë Ångström ١٢ 😀 x9\n"
    rows = [{"a": text, "f": text, "l": text}]
    schema = schema_of(("a", StringType()), ("f", StringType()), ("l", StringType()))
    result = read(engine, schema, rows, decision({"a": "mask-alphanum", "f": "show-first-4", "l": "show-last-4"}))
    # only 0-9 are digits: Arabic-Indic digits, letters with accents, an emoji and a newline are one `x` each
    assert values(result, "a") == ["x" * 19 + "nx"]
    assert values(result, "f") == ["Zoë " + "x" * 15 + "nx"]
    assert values(result, "l") == ["x" * 17 + " x9\n"]


@pytest.mark.parametrize("text", ["", "a", "ab1", "😀é1x", "४२-@"])
@pytest.mark.parametrize("action", ["show-first-4", "show-last-4"])
def test_show_4_keeps_values_of_at_most_4_code_points(engine: str, action: str, text: str) -> None:
    result = read(engine, STRING, [{"s": text}], decision({"s": action}))
    assert values(result, "s") == [text]


# -- mask-to-default for every type meshlake supports -------------------------------------------------------

NESTED = StructType(
    NestedField(1, "a", IntegerType(), required=False),
    NestedField(2, "b", StringType(), required=False),
    NestedField(3, "c", StructType(NestedField(4, "d", DateType(), required=False)), required=False),
)
DEFAULTS: list[tuple[IcebergType, Any, Any]] = [
    (BooleanType(), True, False),
    (IntegerType(), -5, 999_999_999),
    (LongType(), 2**40, 999_999_999),
    (FloatType(), 1.5, 0.0),
    (DoubleType(), -2.25, 0.0),
    (DecimalType(10, 2), Decimal("12.34"), Decimal("0.00")),
    (DecimalType(38, 0), Decimal("7"), Decimal("0")),
    (StringType(), "secret", "XXXXXXXX"),
    (BinaryType(), b"\x01\x02", b""),
    (DateType(), dt.date(2024, 7, 15), dt.date(9999, 12, 31)),
    (TimeType(), dt.time(13, 45, 1), dt.time(0, 0)),
    (TimestampType(), dt.datetime(2024, 7, 15, 10, 30), dt.datetime(9999, 12, 31)),
    (TimestamptzType(), dt.datetime(2024, 7, 15, 10, 30, tzinfo=dt.UTC), dt.datetime(9999, 12, 31, tzinfo=dt.UTC)),
    (UUIDType(), uuid.UUID(int=12345), uuid.UUID(int=0)),
    (ListType(1, IntegerType(), element_required=False), [1, 2], []),
    (MapType(1, StringType(), 2, IntegerType(), value_required=False), [("k", 1)], []),
    (
        NESTED,
        {"a": 1, "b": "x", "c": {"d": dt.date(2020, 1, 2)}},
        {"a": 999_999_999, "b": "XXXXXXXX", "c": {"d": dt.date(9999, 12, 31)}},
    ),
    (NESTED, {"a": None, "b": None, "c": None}, {"a": 999_999_999, "b": "XXXXXXXX", "c": {"d": dt.date(9999, 12, 31)}}),
]


@pytest.mark.parametrize(("kind", "value", "expected"), DEFAULTS, ids=lambda x: str(x)[:30])
def test_mask_to_default_gives_each_types_specified_default(
    engine: str, kind: IcebergType, value: Any, expected: Any
) -> None:
    schema = schema_of(("c", kind))
    result = read(engine, schema, [{"c": value}, {"c": None}], decision({"c": "mask-to-default"}))
    got = values(result, "c")
    assert got[1] is None
    if isinstance(kind, MapType):
        assert got[0] in ([], {})
    else:
        assert got[0] == expected
        assert type(got[0]) is type(expected)
    if isinstance(kind, DecimalType):
        assert got[0].as_tuple().exponent == -kind.scale


# -- NULL stays NULL, and types are kept --------------------------------------------------------------------

SAMPLES: dict[str, tuple[IcebergType, Any]] = {
    "boolean": (BooleanType(), True),
    "int": (IntegerType(), -7),
    "long": (LongType(), 2**41 + 3),
    "float": (FloatType(), 0.5),
    "double": (DoubleType(), 1.25),
    "decimal": (DecimalType(12, 2), Decimal("3.50")),
    "string": (StringType(), "Ann 42"),
    "binary": (BinaryType(), b"\x00\xff"),
    "date": (DateType(), dt.date(2024, 7, 15)),
    "time": (TimeType(), dt.time(8, 0)),
    "timestamp": (TimestampType(), dt.datetime(2024, 7, 15, 10, 30)),
    "timestamptz": (TimestamptzType(), dt.datetime(2024, 7, 15, 10, 30, tzinfo=dt.UTC)),
    "uuid": (UUIDType(), uuid.UUID(int=99)),
    "list": (ListType(1, StringType(), element_required=False), ["a"]),
    "map": (MapType(1, StringType(), 2, LongType(), value_required=False), [("a", 1)]),
    "struct": (NESTED, {"a": 1, "b": "x", "c": {"d": dt.date(2020, 1, 2)}}),
}


def _applicable(action: MaskAction, kind: IcebergType) -> bool:
    allowed = APPLICABLE_TO[action]
    return allowed is None or isinstance(kind, allowed)


CASES = [(action, name) for action in MASK_ACTIONS for name, (kind, _) in SAMPLES.items() if _applicable(action, kind)]


def _mask(action: MaskAction) -> str | dict[str, str]:
    return {"apply-expression": "k > 0"} if action == "apply-expression" else action


@pytest.mark.parametrize(("action", "type_name"), CASES)
def test_every_action_keeps_null_and_the_columns_type(engine: str, action: MaskAction, type_name: str) -> None:
    kind, sample = SAMPLES[type_name]
    schema = schema_of(("k", IntegerType()), ("c", kind))
    rows = [{"k": 1, "c": sample}, {"k": 2, "c": None}]
    unmasked = read(engine, schema, rows, decision(where=["k > 0"]))
    masked = read(engine, schema, rows, decision({"c": _mask(action)}))
    assert masked.column("c").to_pylist()[1] is None
    assert masked.column("c").to_pylist()[0] is not None or action == "replace-with-null"
    if action == "apply-expression":
        assert masked.schema.field("c").type == pa.bool_()
        assert masked.column("c").to_pylist() == [True, None]
    else:
        assert masked.schema.field("c").type == unmasked.schema.field("c").type
    assert masked.schema.field("k") == unmasked.schema.field("k")
    assert masked.column_names == unmasked.column_names


# -- SHA-256 -------------------------------------------------------------------------------------------------


def _int_digest(value: int, width: int, salt: bytes = b"") -> int:
    digest = hashlib.sha256(salt + value.to_bytes(width, "little", signed=True)).digest()
    return int.from_bytes(digest[:width], "little", signed=True)


HASHED = schema_of(("s", StringType()), ("i", IntegerType()), ("l", LongType()), ("b", BinaryType()))
HASH_ROWS = [
    {"s": EMAIL, "i": 0, "l": 0, "b": b""},
    {"s": "Zoë 😀", "i": -1, "l": -1, "b": b"\x00\x01\xff"},
    {"s": "", "i": 2**31 - 1, "l": 2**63 - 1, "b": b"x" * 100},
    {"s": "a", "i": -(2**31), "l": -(2**63), "b": b"\x80"},
    {"s": "b", "i": 123456789, "l": 1234567890123456789, "b": b"\x01"},
    {"s": None, "i": None, "l": None, "b": None},
]


def _expected_hashes(salt: bytes = b"") -> dict[str, list[Any]]:
    def each(column: str, hash_one: Callable[[Any], Any]) -> list[Any]:
        return [None if row[column] is None else hash_one(row[column]) for row in HASH_ROWS]

    return {
        "s": each("s", lambda v: hashlib.sha256(salt + v.encode("utf-8")).hexdigest()),
        "i": each("i", lambda v: _int_digest(v, 4, salt)),
        "l": each("l", lambda v: _int_digest(v, 8, salt)),
        "b": each("b", lambda v: hashlib.sha256(salt + v).digest()),
    }


def test_sha_256_global_matches_hashlib_on_the_canonical_bytes(engine: str) -> None:
    masks = dict.fromkeys(["s", "i", "l", "b"], "sha-256-global")
    result = read(engine, HASHED, HASH_ROWS, decision(masks))
    expected = _expected_hashes()
    for column in "silb":
        assert values(result, column) == expected[column], column
    assert all(len(v) == 64 and v == v.lower() for v in values(result, "s") if v is not None)


def test_sha_256_query_local_hashes_salt_then_bytes(engine: str) -> None:
    salt = bytes(range(16))
    masks = dict.fromkeys(["s", "i", "l", "b"], "sha-256-query-local")
    result = read(engine, HASHED, HASH_ROWS, decision(masks), salt=salt)
    expected = _expected_hashes(salt)
    for column in "silb":
        assert values(result, column) == expected[column], column


def test_sha_256_query_local_is_consistent_within_a_query_and_differs_across_queries(engine: str) -> None:
    rows = [{"s": "same", "l": 7}, {"s": "same", "l": 7}, {"s": "other", "l": 8}]
    schema = schema_of(("s", StringType()), ("l", LongType()))
    restriction = decision({"s": "sha-256-query-local", "l": "sha-256-query-local"})
    assert needs_salt(restriction)
    first, second = read(engine, schema, rows, restriction), read(engine, schema, rows, restriction)
    for column in "sl":
        a, b = values(first, column), values(second, column)
        assert a[0] == a[1] != a[2]
        assert set(a).isdisjoint(b)
    assert values(first, "s")[0] != hashlib.sha256(b"same").hexdigest()


def test_needs_salt_only_for_query_local_hashes() -> None:
    assert not needs_salt(decision({"s": "sha-256-global", "t": "mask-alphanum"}))
    assert needs_salt(decision({"s": "sha-256-query-local"}))


# -- truncation of zoned timestamps happens in UTC -----------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("truncate-to-year", dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
        ("truncate-to-month", dt.datetime(2024, 3, 1, tzinfo=dt.UTC)),
    ],
)
def test_timestamptz_truncates_in_utc_whatever_the_session_time_zone(
    engine: str, action: str, expected: dt.datetime
) -> None:
    # 03:00 UTC on the 1st is still the last day of the previous month (and year) in Los Angeles
    schema = schema_of(("t", TimestamptzType()), ("n", TimestampType()))
    rows = [{"t": dt.datetime(2024, 3, 1, 3, 0, tzinfo=dt.UTC), "n": dt.datetime(2024, 3, 1, 3, 0)}]
    if action == "truncate-to-year":
        rows = [{"t": dt.datetime(2024, 1, 1, 3, 0, tzinfo=dt.UTC), "n": dt.datetime(2024, 1, 1, 3, 0)}]
    result = read(engine, schema, rows, decision({"t": action, "n": action}), time_zone="America/Los_Angeles")
    assert values(result, "t") == [expected]
    assert values(result, "n") == [expected.replace(tzinfo=None)]


# -- row filters: on the original values, before masks --------------------------------------------------------

PEOPLE = schema_of(("id", LongType(), True), ("email", StringType()), ("region", StringType()), ("score", DoubleType()))
PEOPLE_ROWS = [
    {"id": 1, "email": "ann@gmail.com", "region": "eu", "score": 1.0},
    {"id": 2, "email": "bob@corp.com", "region": "eu", "score": float("nan")},
    {"id": 3, "email": "cy@gmail.com", "region": "us", "score": None},
    {"id": 4, "email": None, "region": None, "score": -0.0},
]


def test_row_filter_runs_on_original_values_before_the_masks(engine: str) -> None:
    restriction = decision({"email": "mask-alphanum"}, where=["email LIKE '%@gmail.com'"])
    result = read(engine, PEOPLE, PEOPLE_ROWS, restriction)
    assert values(result, "id") == [1, 3]
    assert values(result, "email") == ["xxx@xxxxx.xxx", "xx@xxxxx.xxx"]


def test_several_row_filters_are_and_ed_and_unknown_drops_the_row(engine: str) -> None:
    restriction = decision(where=["region = 'eu' OR region = 'us'", "NOT (id = 1)"])
    assert values(read(engine, PEOPLE, PEOPLE_ROWS, restriction), "id") == [2, 3]


@pytest.mark.parametrize(
    ("where", "ids"),
    [
        ("score > 100", [2]),  # NaN sorts above every number
        ("score = 0", [4]),  # -0.0 is 0.0
        ("score IN (0, 1)", [1, 4]),
        ("score NOT BETWEEN 0 AND 0.5", [1, 2]),
        ("region IS NULL", [4]),
        ("region NOT IN ('eu')", [3]),
        ("email NOT LIKE '%gmail%'", [2]),
        ("email LIKE 'ann_gmail.com'", [1]),
        ("id >= 2 AND id < 4", [2, 3]),
        ("NOT region = 'eu'", [3]),
    ],
)
def test_row_filter_means_what_sql_means(engine: str, where: str, ids: list[int]) -> None:
    assert values(read(engine, PEOPLE, PEOPLE_ROWS, decision(where=[where])), "id") == ids


def test_row_filter_text_is_compiled_never_pasted(engine: str) -> None:
    rows = [{"id": 1, "email": "x' OR 1=1 --", "region": "eu", "score": 0.0}, *PEOPLE_ROWS[1:]]
    restriction = decision(where=["email = 'x'' OR 1=1 --'"])
    assert values(read(engine, PEOPLE, rows, restriction), "id") == [1]


def test_typed_literals_compare_timestamps_dates_and_decimals_exactly(engine: str) -> None:
    schema = schema_of(("t", TimestamptzType()), ("d", DateType()), ("m", DecimalType(10, 2)), ("f", FloatType()))
    rows = [
        {"t": dt.datetime(2024, 1, 1, 0, 0, tzinfo=dt.UTC), "d": dt.date(2024, 1, 1), "m": Decimal("0.10"), "f": 0.1},
        {"t": dt.datetime(2024, 1, 1, 1, 0, tzinfo=dt.UTC), "d": dt.date(2024, 1, 2), "m": Decimal("0.11"), "f": 0.5},
    ]
    where = "t > '2024-01-01T00:30:00+00:00' AND d = DATE '2024-01-02' AND m > 0.10 AND f = 0.5"
    result = read(engine, schema, rows, decision(where=[where]), time_zone="Asia/Tokyo")
    assert values(result, "m") == [Decimal("0.11")]
    # 0.1 as a float32 is not the double 0.1: no row, as in SQL
    assert read(engine, schema, rows, decision(where=["f = 0.1"])).num_rows == 0


def test_apply_expression_replaces_the_column_with_the_expression(engine: str) -> None:
    restriction = decision({"region": {"apply-expression": "region = 'eu'"}, "email": "replace-with-null"})
    result = read(engine, PEOPLE, PEOPLE_ROWS, restriction)
    assert values(result, "region") == [True, True, False, None]
    assert values(result, "email") == [None, None, None, None]
    assert result.schema.field("region").type == pa.bool_()


# -- failing closed ------------------------------------------------------------------------------------------


def test_a_mask_the_type_cannot_take_fails_the_read(engine: str) -> None:
    schema = schema_of(("d", DateType()))
    with pytest.raises(ReadRestrictionError) as error:
        read(engine, schema, [{"d": dt.date(2024, 1, 1)}], decision({"d": "sha-256-global"}))
    assert error.value.column == "d"
    assert error.value.address == ADDRESS
    assert error.value.restriction == "mask 'sha-256-global'"


def test_replace_with_null_on_a_required_column_fails_the_read(engine: str) -> None:
    with pytest.raises(ReadRestrictionError) as error:
        read(engine, PEOPLE, PEOPLE_ROWS, decision({"id": "replace-with-null"}))
    assert error.value.column == "id"


def test_an_unknown_action_fails_the_read(engine: str) -> None:
    restriction = decision()
    unknown = ColumnMask.model_construct(action="blur", expression=None)
    restriction = Decision(**{**restriction.__dict__, "masks": {"email": unknown}})
    with pytest.raises(ReadRestrictionError) as error:
        read(engine, PEOPLE, PEOPLE_ROWS, restriction)
    assert error.value.column == "email"


def test_a_filter_on_a_column_the_relation_lacks_fails_the_read(engine: str) -> None:
    with pytest.raises(ReadRestrictionError) as error:
        read(engine, PEOPLE, PEOPLE_ROWS, decision(where=["country = 'fr'"]))
    assert error.value.restriction == "row filter"
    assert error.value.column == "country"


def test_a_denied_decision_compiles_to_nothing(engine: str) -> None:
    denied = Decision(
        Principal.parse("user:eve"),
        ADDRESS,
        False,
        False,
        "not among the port's readers",
        "library",
        "none",
        missing_read="reading needs a grant in the port's readers (group:sales)",
    )
    with pytest.raises(AccessDeniedError) as error:
        read(engine, PEOPLE, PEOPLE_ROWS, denied)
    assert error.value.principal == "user:eve"
    assert error.value.address == ADDRESS


def test_an_unrestricted_decision_leaves_the_relation_as_it_is() -> None:
    owner = Decision(Principal.parse("user:o"), ADDRESS, True, True, "owner via user:o", "library", "owner")
    assert restricted_sql(owner, "SELECT 1 AS x", schema_of(("x", IntegerType()))) == "SELECT 1 AS x"
    frame = pl.LazyFrame({"x": [1]})
    assert restricted_frame(owner, frame, schema_of(("x", IntegerType()))) is frame


# -- older snapshots: masks and filters follow the field id ---------------------------------------------------


def test_masks_and_filters_follow_renamed_columns_by_field_id(engine: str) -> None:
    contract = schema_of(("id", LongType(), True), ("email", StringType()), ("region", StringType()))
    old = Schema(
        NestedField(1, "id", LongType(), required=True),
        NestedField(2, "mail", StringType(), required=False),
        NestedField(3, "area", StringType(), required=False),
        NestedField(9, "ssn", StringType(), required=False),  # dropped from the contract since
    )
    rows = [
        {"id": 1, "mail": "ann@x.org", "area": "eu", "ssn": "123-45-6789"},
        {"id": 2, "mail": "bob@x.org", "area": "us", "ssn": "987-65-4321"},
    ]
    restriction = decision({"email": "mask-alphanum"}, where=["region = 'eu'"])
    result = read(engine, old, rows, restriction, contract=contract)
    assert result.column_names == ["id", "mail", "area", "ssn"]
    assert values(result, "mail") == ["xxx@x.xxx"]
    assert values(result, "ssn") == ["XXXXXXXX"]  # nothing says it was not sensitive


# -- the same masks on single values (quality samples) -------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "kind", "value", "expected"),
    [
        ("mask-alphanum", StringType(), EMAIL, "xxxxxxxxnnnnnn@xxxxx.xxx"),
        ("show-first-4", StringType(), EMAIL, "prasxxxxnnnnnn@xxxxx.xxx"),
        ("show-last-4", StringType(), "4111-1111-1111-4444", "nnnn-nnnn-nnnn-4444"),
        ("truncate-to-year", DateType(), dt.date(2024, 7, 15), dt.date(2024, 1, 1)),
        ("truncate-to-month", DateType(), dt.date(2024, 7, 15), dt.date(2024, 7, 1)),
        ("mask-to-default", DecimalType(9, 2), Decimal("5.25"), Decimal("0.00")),
        ("sha-256-global", LongType(), -1, _int_digest(-1, 8)),
        ("sha-256-query-local", StringType(), "x", "XXXXXXXX"),  # no salt given: masked to the default
        ("replace-with-null", StringType(), "x", None),
        ("show-first-4", StringType(), 12, "XXXXXXXX"),  # not text: the type's default, never the value
    ],
)
def test_mask_value_masks_one_python_value(action: str, kind: IcebergType, value: Any, expected: Any) -> None:
    assert mask_value(value, ColumnMask.model_validate(action), kind) == expected
    assert mask_value(None, ColumnMask.model_validate(action), kind) is None


def test_row_filter_on_uuid_time_and_boolean_columns(engine: str) -> None:
    schema = schema_of(("id", IntegerType()), ("u", UUIDType()), ("t", TimeType()), ("ok", BooleanType()))
    rows = [
        {"id": 1, "u": uuid.UUID(int=1), "t": dt.time(8, 0), "ok": True},
        {"id": 2, "u": uuid.UUID(int=2), "t": dt.time(9, 30), "ok": False},
        {"id": 3, "u": None, "t": None, "ok": None},
    ]
    where = f"ok OR u = '{uuid.UUID(int=2)}'"
    assert values(read(engine, schema, rows, decision(where=[where])), "id") == [1, 2]
    assert values(read(engine, schema, rows, decision(where=["t > '09:00:00'"])), "id") == [2]
    assert values(read(engine, schema, rows, decision(where=[f"u IN ('{uuid.UUID(int=1)}')"])), "id") == [1]


# -- laziness: a limit is pushed below the masks, never above the row filter ----------------------------------


def test_head_of_a_masked_polars_frame_masks_only_the_rows_it_returns(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshlake.access import mask_polars

    rows = 100_000
    path = tmp_path / "people.parquet"
    pl.DataFrame(
        {
            "id": list(range(rows)),
            "region": ["eu", "us"] * (rows // 2),
            "email": [f"p{i}@example.com" for i in range(rows)],
            "note": ["private"] * rows,
        }
    ).write_parquet(path, row_group_size=10_000)
    schema = schema_of(("id", LongType()), ("region", StringType()), ("email", StringType()), ("note", StringType()))
    hashed: list[int] = []
    hasher = mask_polars._hasher

    def counting(*args: Any) -> Callable[[pl.Series], pl.Series]:
        run = hasher(*args)

        def count(series: pl.Series) -> pl.Series:
            hashed.append(len(series))
            return run(series)

        return count

    monkeypatch.setattr(mask_polars, "_hasher", counting)
    restriction = decision({"email": "sha-256-global", "note": "mask-to-default"}, where=["region = 'us'"])

    got = restricted_frame(restriction, pl.scan_parquet(path), schema).head(5).collect()

    assert got["id"].to_list() == [1, 3, 5, 7, 9]  # the filter ran first, on every row it needed
    assert got["email"].to_list() == [hashlib.sha256(f"p{i}@example.com".encode()).hexdigest() for i in (1, 3, 5, 7, 9)]
    assert got["note"].to_list() == ["XXXXXXXX"] * 5
    assert sum(hashed) == 5  # the mask ran on the five rows returned, not on every row the filter kept
