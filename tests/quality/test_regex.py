"""Python `re.search` semantics on DuckDB: RE2 where it agrees, Python where it cannot."""

from __future__ import annotations

import re

import duckdb
import pyarrow as pa
import pytest

from meshlake.quality.regex import _WS, plan_regex, quote, register_udf

VALUES = [
    "123", "١٢٣", "abc", "ABC", "é", "e\u0301", "😀", " \x0b ", "\x1c", "\u00a0", "", "\n", "a\n", "a\nb\n",
    "foo bar", "föo", "éfoo", "a", "]", "[", ":", "b", "xxy", "y", "x{,2}y", "colour", "aaa", "ab", "a b",
    "a1", "ä٣", "Straße", "x_y", "tab\there",
]  # fmt: skip
PATTERNS = [
    r"^\d{3}$", r"\w+", r"^\w+$", r"^\s*$", r"\s", r"\S", r"\D+", r"\W", r"\bfoo\b", r"\Bo", r"a$", r"^$",
    r"[]a]", r"[^]a]", r"[\d\s]", r"[\W]", r"[^\w]", r"(?<=a)b", r"(?<!a)b", r"a(?=b)", r"(a)\1", r"x{,2}y",
    r"\u00e9", r"\N{LATIN SMALL LETTER E WITH ACUTE}", r"(?i)É", r"(?i)straSSe", r"\Z", r"a\Z", r"^a.c$",
    r"(?m)^b$", r"(?s)a.b", r"colou?r", r"[\S]", r"a++", r"(?>a+)b", r"(?x) a b", r"(?#note)ab", r"^.$",
    r"^.{1,2}$", r"e\u0301", r"\t", r"[a-z]+\d*", r"(?P<x>a)b", r"^(?:ab|cd)$", r"\x41", r"[a[]",
]  # fmt: skip


@pytest.fixture(scope="module")
def con() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    register_udf(con)
    con.register("v", pa.table({"s": VALUES}))
    return con


@pytest.mark.parametrize("pattern", PATTERNS)
def test_search_matches_python_re_search(con: duckdb.DuckDBPyConnection, pattern: str) -> None:
    plan = plan_regex(pattern)
    got = [row[0] for row in con.sql(f"SELECT {plan.search_sql('s')} FROM v").fetchall()]
    expected = [re.search(pattern, value) is not None for value in VALUES]
    mismatched = [(v, g) for v, g, e in zip(VALUES, got, expected, strict=True) if g != e]
    assert not mismatched, plan


def test_null_values_stay_null(con: duckdb.DuckDBPyConnection) -> None:
    for pattern in (r"a", r"(?<=a)b", r"\bab"):
        sql = plan_regex(pattern).search_sql("CAST(NULL AS VARCHAR)")
        assert con.sql(f"SELECT {sql}").fetchall() == [(None,)]


@pytest.mark.parametrize(
    ("pattern", "re2", "non_ascii"),
    [
        (r"^\d{3}$", r"^\p{Nd}{3}(?:\n?\z)", False),
        (r"^[A-Z]+$", r"^[A-Z]+(?:\n?\z)", False),
        (r"(?m)^a$", r"(?m)^a$", False),
        (r"\bfoo", r"\bfoo", True),
        (r"(?<=a)b", None, False),
        (r"(a)\1", None, False),
        (r"a{2000}", None, False),
    ],
)
def test_plan_uses_re2_whenever_it_agrees(pattern: str, re2: str | None, non_ascii: bool) -> None:
    plan = plan_regex(pattern)
    assert plan.re2 == re2
    assert plan.python_for_non_ascii == non_ascii
    assert plan.needs_udf == (re2 is None or non_ascii)


def test_whitespace_class_is_pythons() -> None:
    """`\\s` is rewritten to exactly the characters str.isspace() accepts (checked on every code point)."""
    chars = [chr(c) for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]
    con = duckdb.connect()
    con.register("c", pa.table({"c": chars}))
    found = {row[0] for row in con.sql(f"SELECT c FROM c WHERE regexp_matches(c, {quote('[' + _WS + ']')})").fetchall()}
    assert found == {c for c in chars if c.isspace()}


def test_udf_registration_is_idempotent() -> None:
    con = duckdb.connect()
    register_udf(con)
    register_udf(con)
    assert con.sql("SELECT meshlake_re_search('ab', '(?<=a)b', NULL)").fetchall() == [(True,)]


@pytest.mark.parametrize(
    ("pattern", "value"),
    [(r"^[\d]{3}-[\d]{4}$", "555-1234"), (r"^[\-]?[0-9]+$", "-12"), (r"^[^\s]+$", "ab"), (r"^[\w]$", "x")],
)
def test_class_opening_with_an_escape_closes_at_its_bracket(
    con: duckdb.DuckDBPyConnection, pattern: str, value: str
) -> None:
    """An escape as the first member of a class is a member: the next `]` closes the class (issue 16)."""
    assert re.search(pattern, value) is not None
    assert con.sql(f"SELECT {plan_regex(pattern).search_sql(quote(value))}").fetchall() == [(True,)]


def test_a_translation_re2_refuses_runs_in_python(con: duckdb.DuckDBPyConnection) -> None:
    """RE2 refuses patterns past its program size (`(a{999}){999}`); Python runs them, so meshlake does."""
    pattern = r"^(?:a{1,1000}){1,1000}b$"
    plan = plan_regex(pattern)
    assert plan.re2 is None
    assert con.sql(f"SELECT {plan.search_sql(quote('aab'))}").fetchall() == [(True,)]
