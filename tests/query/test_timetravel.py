"""Rewriting DuckDB's AT clauses on mesh ports, with DuckDB's own parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from meshlake.query.timetravel import AtSpec, TimeTravelError, referenced_names, rewrite


class Recorder:
    """A resolver that claims three-part names and renders the AT clause into a tiny relation."""

    def __init__(self) -> None:
        self.calls: list[tuple[tuple[str, ...], AtSpec | None]] = []

    def __call__(self, parts: tuple[str, ...], at: AtSpec | None) -> str | None:
        self.calls.append((parts, at))
        if len(parts) != 3 or at is None:
            return None
        return f"SELECT {at.version if isinstance(at.version, int) else 0} AS v"


def test_version_clause_becomes_a_subquery_named_after_the_port() -> None:
    resolve = Recorder()
    sql = rewrite("SELECT * FROM logistics.shipments.daily AT (VERSION => 1234)", resolve)
    assert sql == 'SELECT * FROM (SELECT 1234 AS v) AS "daily" '
    assert resolve.calls == [(("logistics", "shipments", "daily"), AtSpec(version=1234))]


def test_alias_column_aliases_and_sample_are_kept() -> None:
    sql = rewrite("SELECT x.a FROM l.s.d AS x(a) AT (VERSION => 7) TABLESAMPLE 50%", Recorder())
    assert sql == "SELECT x.a FROM (SELECT 7 AS v) AS x(a)  TABLESAMPLE 50%"


def test_two_versions_of_one_port_in_a_join(duck: Any) -> None:
    sql = rewrite(
        "SELECT a.v AS old, b.v AS new FROM l.s.d AS a AT (VERSION => 1) JOIN l.s.d b AT (VERSION => 2) ON true",
        Recorder(),
    )
    assert duck.sql(sql).fetchall() == [(1, 2)]


def test_ctes_subqueries_unions_and_several_statements(duck: Any) -> None:
    resolve = Recorder()
    text = (
        "WITH q AS (SELECT v FROM a.b.c AT (VERSION => 1)) "
        "SELECT v FROM q UNION ALL SELECT (SELECT max(v) FROM a.b.c AT (VERSION => 2)) "
        "UNION ALL SELECT v FROM a.b.c AT (VERSION => 3) "
        "WHERE v IN (SELECT v FROM a.b.c AT (VERSION => 3));\n"
        "SELECT 'héllo', v FROM a.b.c AT (VERSION => 4)"
    )
    sql = rewrite(text, resolve)
    first, second = sql.split(";\n")
    assert sorted(v for (v,) in duck.sql(first).fetchall()) == [1, 2, 3]
    assert duck.sql(second).fetchall() == [("héllo", 4)]
    assert sorted(at.version for _, at in resolve.calls if at) == [1, 2, 3, 3, 4]


def test_select_inside_insert_create_and_copy_is_rewritten(duck: Any) -> None:
    duck.execute("CREATE TABLE t (v INTEGER)")
    duck.execute(rewrite("INSERT INTO t SELECT v FROM a.b.c AT (VERSION => 5)", Recorder()))
    duck.execute(rewrite("CREATE TABLE u AS SELECT v FROM a.b.c AT (VERSION => 6)", Recorder()))
    assert duck.sql("SELECT * FROM t UNION ALL SELECT * FROM u ORDER BY 1").fetchall() == [(5,), (6,)]
    copy = rewrite("COPY (SELECT v FROM a.b.c AT (VERSION => 8)) TO 'x.csv'", Recorder())
    assert copy == "COPY (SELECT v FROM (SELECT 8 AS v) AS \"c\" ) TO 'x.csv'"


def test_references_the_resolver_leaves_alone_are_untouched_byte_for_byte() -> None:
    text = "SELECT * /* a.b.c AT (VERSION => 1) */ FROM t JOIN x.y ON true -- a.b.c\n WHERE 'a.b.c' <> ''"
    assert rewrite(text, Recorder()) == text
    broken = "SELEC * FROM a.b.c AT (VERSION => 1)"
    assert rewrite(broken, Recorder()) == broken


def test_quoted_and_commented_names_resolve_to_their_parts() -> None:
    resolve = Recorder()
    sql = rewrite('SELECT * FROM "select" /* c */ . "order"."we""ird" AT ( VERSION => 9 )', resolve)
    assert resolve.calls[0][0] == ("select", "order", 'we"ird')
    assert sql == 'SELECT * FROM (SELECT 9 AS v) AS "we""ird" '


@pytest.mark.parametrize(
    ("clause", "expected"),
    [
        ("TIMESTAMPTZ '2026-11-01 00:00:00+00'", datetime(2026, 11, 1, tzinfo=UTC)),
        ("'2026-11-01 02:00:00+02'::TIMESTAMPTZ", datetime(2026, 11, 1, tzinfo=UTC)),
        ("TIMESTAMPTZ '2026-11-02 00:00:00+00' - INTERVAL 1 DAY", datetime(2026, 11, 1, tzinfo=UTC)),
    ],
)
def test_timestamp_clauses_evaluate_to_aware_instants(clause: str, expected: datetime) -> None:
    resolve = Recorder()
    rewrite(f"SELECT * FROM a.b.c AT (TIMESTAMP => {clause})", resolve)
    assert resolve.calls[0][1] == AtSpec(timestamp=expected)


def test_naive_timestamps_use_the_session_time_zone(duck: Any) -> None:
    duck.execute("SET TimeZone = 'Europe/Paris'")
    resolve = Recorder()
    rewrite("SELECT * FROM a.b.c AT (TIMESTAMP => TIMESTAMP '2026-07-01 12:00:00')", resolve, con=duck)
    assert resolve.calls[0][1] == AtSpec(timestamp=datetime(2026, 7, 1, 10, tzinfo=UTC))


def test_now_is_evaluated_and_tags_are_strings() -> None:
    resolve = Recorder()
    rewrite(
        "SELECT * FROM a.b.c AT (TIMESTAMP => now() - INTERVAL 1 HOUR), a.b.c AT (VERSION => 'v1.2.0')",
        resolve,
    )
    (_, at_time), (_, at_tag) = resolve.calls
    assert at_time is not None and at_time.timestamp is not None
    assert abs(datetime.now(UTC) - timedelta(hours=1) - at_time.timestamp) < timedelta(minutes=1)
    assert at_tag == AtSpec(version="v1.2.0")


def test_parameters_in_an_at_clause_are_refused() -> None:
    with pytest.raises(TimeTravelError):
        rewrite("SELECT * FROM a.b.c AT (VERSION => $1)", Recorder())


def test_referenced_names_lists_every_table_of_every_statement_or_says_it_cannot() -> None:
    query = """
        WITH recent AS (SELECT * FROM sales.orders.placed AT (VERSION => 'v1'))
        SELECT * FROM recent JOIN "kw"."select"."order" o USING (id)
        WHERE id IN (SELECT id FROM logistics.shipments.daily);
        SELECT 1 FROM two.parts
    """
    assert referenced_names(query) == {
        ("sales", "orders", "placed"),
        ("recent",),
        ("kw", "select", "order"),
        ("logistics", "shipments", "daily"),
        ("two", "parts"),
    }
    assert referenced_names("SELECT 42") == set()
    assert referenced_names("CREATE TABLE t AS SELECT * FROM a.b.c") is None
    assert referenced_names("SELEC broken") is None
