"""Column map expectations as SQL conditions: what a non-missing value must satisfy, with GE's pandas semantics.

* ranges, sets and lengths compare the value (lengths count characters, as Python's `len`); a length range with
  `min_value > max_value` holds for no value, as in GE;
* regexes are Python `re.search` (`meshlake.quality.regex`); a regex list matches `any` or `all` of its patterns;
  `not_match_regex_list` fails a value any pattern matches;
* LIKE patterns have SQL's semantics (GE has no pandas implementation; on SQL backends `%` is any run of
  characters, `_` one, case-sensitive as in PostgreSQL; `escape` names the escape character);
* JSON, JSON schema, dateutil and strftime checks run GE's own Python code on each distinct value
  (`meshlake.quality.python_checks`): `json.loads`, `jsonschema.validate`, `dateutil.parser.parse` and
  `datetime.strptime`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from meshlake.contract.expectations import ExpectationConfigError
from meshlake.quality.regex import plan_regex, quote

if TYPE_CHECKING:
    from meshlake.quality.compile import Column, Plan


def map_condition(plan: Plan, name: str, col: Column) -> str:
    """The SQL condition a non-missing value of `col` must meet (NULL for a missing value)."""
    from meshlake.quality.compile import between, literal

    kw = plan.exp.kwargs
    v = col.value
    if name == "column_values_to_be_between":
        return between(v, kw, col.family)
    if name == "column_value_lengths_to_be_between":
        return between(f"length({v})", kw, "integer")
    if name == "column_value_lengths_to_equal":
        return f"length({v}) = {int(kw['value'])}"
    if name in ("column_values_to_be_in_set", "column_values_to_not_be_in_set"):
        values = [
            literal(x, col.family)
            for x in kw["value_set"]
            if x is not None and not (isinstance(x, float) and math.isnan(x))
        ]
        member = f"{v} IN ({', '.join(values)})" if values else f"(CASE WHEN {v} IS NOT NULL THEN false END)"
        return member if "not" not in name else f"NOT ({member})"
    if name in ("column_values_to_match_regex", "column_values_to_not_match_regex"):
        found = _search(plan, kw.get("regex", "(?s).*"), v)
        return found if "not" not in name else f"NOT ({found})"
    if name == "column_values_to_match_regex_list":
        joiner = " AND " if kw.get("match_on") == "all" else " OR "
        return "(" + joiner.join(_search(plan, p, v) for p in kw["regex_list"]) + ")"
    if name == "column_values_to_not_match_regex_list":
        return "NOT (" + " OR ".join(_search(plan, p, v) for p in kw["regex_list"]) + ")"
    if name in ("column_values_to_match_like_pattern", "column_values_to_not_match_like_pattern"):
        found = _like(v, kw["like_pattern"], kw.get("escape"))
        return found if "not" not in name else f"NOT ({found})"
    if name == "column_values_to_match_like_pattern_list":
        joiner = " AND " if kw.get("match_on") == "all" else " OR "
        return "(" + joiner.join(_like(v, p, kw.get("escape")) for p in kw["like_pattern_list"]) + ")"
    if name == "column_values_to_not_match_like_pattern_list":
        return "NOT (" + " OR ".join(_like(v, p, kw.get("escape")) for p in kw["like_pattern_list"]) + ")"
    return _python(plan, name, v, kw)


def _search(plan: Plan, pattern: str, v: str) -> str:
    regex = plan_regex(pattern)
    if regex.needs_udf:
        plan.python |= {"regex"}
    if plan.regex is None or not plan.regex.needs_udf:
        plan.regex = regex
    return regex.search_sql(v)


def _like(v: str, pattern: str, escape: Any) -> str:
    if escape is not None:
        return f"({v} LIKE {quote(pattern)} ESCAPE {quote(str(escape))})"
    return f"({v} LIKE {quote(pattern)})"


_PYTHON = {
    "column_values_to_be_json_parseable": "json",
    "column_values_to_match_json_schema": "json_schema",
    "column_values_to_be_dateutil_parseable": "dateutil",
    "column_values_to_match_strftime_format": "strftime",
}


def _argument(kind: str, kw: Mapping[str, Any]) -> str:
    if kind == "json_schema":
        return json.dumps(kw["json_schema"], sort_keys=True)
    return str(kw["strftime_format"]) if kind == "strftime" else ""


def _python(plan: Plan, name: str, v: str, kw: Mapping[str, Any]) -> str:
    from meshlake.quality.python_checks import check_sql

    if name not in _PYTHON:
        raise ExpectationConfigError(f"no SQL compilation for {plan.spec.name}")  # pragma: no cover
    kind = _PYTHON[name]
    plan.python |= {kind}
    return check_sql(kind, _argument(kind, kw), v)
