"""Python `re.search` semantics, which GE uses on pandas, evaluated on DuckDB's RE2 wherever RE2 agrees.

GE's pandas engine runs `series.astype(str).str.contains(regex)`: a *search* with Python's `re` (pandas 3
hands simple patterns to pyarrow's RE2 and falls back to `re` wherever the two disagree). DuckDB's
`regexp_matches` is an RE2 partial match, which differs from `re` in these ways, each handled here:

* `\\d`, `\\w`, `\\s` (and negations) are Unicode-aware in Python, ASCII-only in RE2. Rewritten to Unicode
  classes: `\\d` → `\\p{Nd}`, `\\w` → `[\\p{L}\\p{N}_]`, `\\s` → Python's whitespace set (which also has
  `\\x0b`, `\\x1c` to `\\x1f`, `\\x85`, NBSP …). Code points unassigned in Python's Unicode tables
  but assigned in RE2's newer ones may still differ.
* `$` also matches before a trailing newline in Python: rewritten to `(?:\\n?\\z)` outside multiline mode.
  `\\Z` is spelled `\\z`; `{,n}` is `{0,n}`; `\\uXXXX`, `\\UXXXXXXXX` and `\\N{NAME}` become `\\x{…}`.
* `\\b`, `\\B` (and `\\W` inside a class) cannot be rewritten: RE2 handles ASCII values and non-ASCII values
  go to Python.
* Lookaround, backreferences, atomic groups, possessive quantifiers, verbose/ASCII flags, comments, and
  repeat counts over 1000 do not exist in RE2 (and a translation RE2 refuses, past its size limits say, is
  treated alike): such patterns run entirely in Python through a DuckDB scalar function
  (`meshlake_re_search`), which is correct but 10 to 50 times slower. So every pattern Python compiles runs
  with Python's verdict; one Python refuses is refused at deploy, as GE would fail on it.

Python's `re` backtracks, and some patterns (`^(?=a)(a+)+$`) take exponential time; a search cannot be
interrupted inside the process. So `meshlake_re_search` searches in worker processes
(`meshlake.quality.regex_worker`) that are killed at the check's deadline, which it reads from the DuckDB
variable `meshlake_quality_deadline` (`meshlake.quality.budget`; `DEFAULT_SECONDS` from now when unset).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from meshlake.quality.budget import DEADLINE_VARIABLE, DEFAULT_SECONDS
from meshlake.quality.regex_worker import RegexTimeoutError, search

if TYPE_CHECKING:
    import duckdb

UDF_NAME = "meshlake_re_search"

# str.isspace() characters, i.e. what Python's `\s` matches (checked by the tests).
_WS = r"\t-\r\x{1c}-\x{20}\x{85}\x{a0}\x{1680}\x{2000}-\x{200a}\x{2028}\x{2029}\x{202f}\x{205f}\x{3000}"
_WORD = r"\p{L}\p{N}_"
_OUTSIDE = {
    "d": r"\p{Nd}",
    "D": r"\P{Nd}",
    "w": f"[{_WORD}]",
    "W": f"[^{_WORD}]",
    "s": f"[{_WS}]",
    "S": f"[^{_WS}]",
    "Z": r"\z",
}
_INSIDE = {"d": r"\p{Nd}", "D": r"\P{Nd}", "w": _WORD, "s": _WS, "b": r"\x08"}


@dataclass(frozen=True)
class RegexPlan:
    """How to evaluate one Python pattern in DuckDB."""

    pattern: str
    re2: str | None
    """Equivalent RE2 pattern, or None when only Python's `re` can evaluate it."""
    python_for_non_ascii: bool = False
    """RE2 is exact on ASCII values only; non-ASCII values go to Python."""

    @property
    def needs_udf(self) -> bool:
        return self.re2 is None or self.python_for_non_ascii

    def search_sql(self, value_sql: str) -> str:
        """A SQL boolean: does `re.search(pattern, value)` find a match (NULL for a NULL value)."""
        python = f"{UDF_NAME}({value_sql}, {quote(self.pattern)}, getvariable('{DEADLINE_VARIABLE}'))"
        if self.re2 is None:
            return python
        fast = f"regexp_matches({value_sql}, {quote(self.re2)})"
        if not self.python_for_non_ascii:
            return fast
        return f"CASE WHEN strlen({value_sql}) = length({value_sql}) THEN {fast} ELSE {python} END"


def quote(text: str) -> str:
    """A SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


@functools.lru_cache(maxsize=256)
def plan_regex(pattern: str) -> RegexPlan:
    """Decide how to evaluate `pattern` with Python `re.search` semantics (the pattern must compile)."""
    from re import _parser  # type: ignore[attr-defined]

    parsed = _parser.parse(pattern)
    flags = parsed.state.flags
    if flags & (re.VERBOSE | re.ASCII) or "(?#" in pattern or _needs_python(parsed, _parser):
        return RegexPlan(pattern, None)
    translated = _translate(pattern, multiline=bool(flags & re.MULTILINE))
    if translated is None or not _re2_accepts(translated[0]):
        return RegexPlan(pattern, None)
    return RegexPlan(pattern, translated[0], translated[1])


def _re2_accepts(re2: str) -> bool:
    """Whether DuckDB's RE2 compiles the translation (one it refuses, e.g. past its size limits, runs in Python)."""
    import duckdb

    try:
        duckdb.execute("SELECT regexp_matches('', ?)", [re2]).fetchall()
    except duckdb.Error:
        return False
    return True


def _needs_python(parsed: Any, p: Any) -> bool:
    python_only = {p.ASSERT, p.ASSERT_NOT, p.GROUPREF, p.GROUPREF_EXISTS, p.ATOMIC_GROUP, p.POSSESSIVE_REPEAT}
    stack = [parsed]
    while stack:
        for op, av in stack.pop():
            if op in python_only:
                return True
            if op in (p.MAX_REPEAT, p.MIN_REPEAT) and av[1] != p.MAXREPEAT and av[1] > 1000:
                return True
            if op is p.SUBPATTERN and (av[1] | av[2]) & (re.MULTILINE | re.ASCII | re.VERBOSE):
                return True  # scoped flags that change `$` or classes
            stack.extend(_children(av, p))
    return False


def _children(av: Any, p: Any) -> list[Any]:
    if isinstance(av, p.SubPattern):
        return [av]
    if isinstance(av, list | tuple):
        return [child for item in av for child in _children(item, p)]
    return []


def _translate(pattern: str, *, multiline: bool) -> tuple[str, bool] | None:
    """Rewrite Python syntax to RE2 syntax; returns (re2, python_for_non_ascii) or None."""
    out: list[str] = []
    ascii_only = False
    in_class = class_start = False
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "\\" and i + 1 < n:
            e = pattern[i + 1]
            i += 2
            class_start = False  # an escape is a member: a `]` after it closes the class
            if e in "uUN":
                code, i = _unicode_escape(pattern, e, i)
                out.append(f"\\x{{{code:x}}}")
            elif in_class and e in _INSIDE:
                out.append(_INSIDE[e])
            elif in_class and e == "S":
                return None
            elif in_class and e == "W":
                out.append("\\W")
                ascii_only = True
            elif not in_class and e in _OUTSIDE:
                out.append(_OUTSIDE[e])
            else:
                ascii_only = ascii_only or (not in_class and e in "bB")
                out.append(c + e)
            continue
        i += 1
        if in_class:
            if c == "]" and not class_start:
                in_class = False
            out.append("\\[" if c == "[" else c)
            class_start = False
            continue
        if c == "[":
            in_class, class_start = True, True
            out.append(c)
            if pattern.startswith("^", i):
                out.append("^")
                i += 1
        elif c == "$" and not multiline:
            out.append(r"(?:\n?\z)")
        elif c == "{" and pattern.startswith(",", i) and re.match(r",\d+\}", pattern[i:]):
            out.append("{0")
        else:
            out.append(c)
    return "".join(out), ascii_only


def _unicode_escape(pattern: str, kind: str, i: int) -> tuple[int, int]:
    if kind == "N":
        end = pattern.index("}", i)
        return ord(unicodedata.lookup(pattern[i + 1 : end])), end + 1
    width = 4 if kind == "u" else 8
    return int(pattern[i : i + width], 16), i + width


def register_udf(con: duckdb.DuckDBPyConnection) -> None:
    """Register `meshlake_re_search(value, pattern, deadline)` on `con` (idempotent).

    `deadline` is a `time.monotonic()` value; NULL means `DEFAULT_SECONDS` from each call.
    """
    import duckdb
    from duckdb.func import ARROW, SPECIAL

    rows = con.execute("SELECT 1 FROM duckdb_functions() WHERE function_name = ?", [UDF_NAME]).fetchall()
    if rows:
        return
    con.create_function(
        UDF_NAME,
        _search_arrow,
        [duckdb.sqltype("VARCHAR"), duckdb.sqltype("VARCHAR"), duckdb.sqltype("DOUBLE")],
        duckdb.sqltype("BOOLEAN"),
        type=ARROW,
        null_handling=SPECIAL,
        side_effects=False,
    )


def _search_arrow(values: Any, patterns: Any, deadlines: Any) -> Any:
    # Annotations stay `Any`: DuckDB evaluates them at registration, when pyarrow is not imported here.
    import time

    import pyarrow as pa

    texts, regexes = values.to_pylist(), patterns.to_pylist()
    given = [d for d in deadlines.to_pylist() if d is not None]
    deadline = min(given) if given else time.monotonic() + DEFAULT_SECONDS
    unique = sorted({r for r in regexes if r is not None})
    position = {r: i for i, r in enumerate(unique)}
    index = [position.get(r, 0) if r is not None else 0 for r in regexes]
    kept = [None if r is None else t for t, r in zip(texts, regexes, strict=True)]
    try:
        found = search(unique, index, kept, deadline) if unique else [None] * len(texts)
    except RegexTimeoutError:
        shown = ", ".join(quote(r) for r in unique)
        raise RegexTimeoutError(f"Python regex {shown} was still matching") from None
    return pa.array(found, type=pa.bool_())
