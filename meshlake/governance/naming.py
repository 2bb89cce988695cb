"""Naming conventions checked with RE2 (DuckDB's `regexp_full_match`): a pattern from a policy file is data.

Python's `re` backtracks, so a pattern such as `(a+)+$` can take exponential time; RE2 matches in linear time
and has no lookaround or backreferences, so no pattern can hang a lint. Patterns are at most
`MAX_PATTERN` characters and are compiled when the policy is read (an invalid one is a `GovernanceError`).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cache
from typing import TYPE_CHECKING

from meshlake.governance.policy import MAX_PATTERN

if TYPE_CHECKING:
    import duckdb


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` cannot be a naming convention (None when it can)."""
    if not isinstance(pattern, str) or not pattern:
        return "the pattern is empty"
    if len(pattern) > MAX_PATTERN:
        return f"the pattern has {len(pattern)} characters (at most {MAX_PATTERN})"
    import duckdb

    try:
        _connection().execute("SELECT regexp_full_match('', ?)", [pattern]).fetchall()
    except duckdb.Error as exc:
        first = str(exc).strip().splitlines()[0]
        return f"{pattern!r} is not a valid RE2 pattern ({first})"
    return None


def full_matches(pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], bool]:
    """For each (pattern, name): does the whole name match the pattern (RE2)? One query per distinct pattern."""
    by_pattern: dict[str, set[str]] = {}
    for pattern, name in pairs:
        by_pattern.setdefault(pattern, set()).add(name)
    found: dict[tuple[str, str], bool] = {}
    con = _connection()
    for pattern, names in by_pattern.items():
        ordered = sorted(names)
        rows = con.execute(
            "SELECT name, regexp_full_match(name, $pattern) FROM unnest($names) AS t(name)",
            {"pattern": pattern, "names": ordered},
        ).fetchall()
        found.update({(pattern, name): bool(ok) for name, ok in rows})
    return found


def _connection() -> duckdb.DuckDBPyConnection:
    """A cursor of this process's DuckDB database for names (cursors are safe to use from several threads)."""
    return _database().cursor()


@cache
def _database() -> duckdb.DuckDBPyConnection:
    import duckdb

    return duckdb.connect()
