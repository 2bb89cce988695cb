"""A SQL expectation is one read-only SELECT over `{batch}`: refused at deploy, refused again at every check,
and run in a sandbox that can read nothing but the batch's files."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import meshlake as ml
from meshlake.contract.expectation_sql import BATCH, check_query
from meshlake.contract.expectations import Expectation
from meshlake.errors import DescriptorError, QualityGateError
from meshlake.quality import sandbox
from meshlake.quality.native import run_native
from meshlake.quality.records import read_results
from tests.conftest import DescriptorWriter, main_snapshot_id
from tests.test_write import shipments

SECRET = "the-writers-private-key"
ADDRESS = "logistics.shipments.daily"


@pytest.fixture
def secret(tmp_path: Path) -> Path:
    """A file of the writer's machine that no descriptor may read."""
    path = tmp_path / "secret.txt"
    path.write_text(SECRET, encoding="utf-8")
    return path


@pytest.fixture
def target(tmp_path: Path) -> Path:
    """Where a breakout would write (must never exist)."""
    return tmp_path / "pwned.csv"


def attacks(secret: Path, target: Path) -> dict[str, tuple[str, str]]:
    """name → (query, the forbidden part the refusal names)."""
    return {
        "copy_breakout": (
            f"SELECT * FROM {{batch}}) AS q; COPY (SELECT 'pwned') TO '{target}'; SELECT * FROM ({{batch}}",
            "not valid SQL",
        ),
        "copy_as_second_statement": (f"SELECT * FROM {{batch}}; COPY (SELECT 1) TO '{target}'", "2 statements"),
        "second_statement": ("SELECT * FROM {batch} WHERE weight_kg > 5; SELECT 1", "2 statements"),
        "read_text_exfiltration": (f"SELECT content AS shipment_id FROM read_text('{secret}'), {{batch}}", "read_text"),
        "another_port": (
            f"SELECT * FROM {{batch}} WHERE shipment_id IN (SELECT shipment_id FROM {ADDRESS})",
            f"table '{ADDRESS}'",
        ),
        "quality_history": (
            "SELECT * FROM {batch}, meshlake.system.quality_results",
            "meshlake.system.quality_results",
        ),
        "system_table_function": (
            "SELECT * FROM {batch} WHERE shipment_id IN (SELECT value FROM duckdb_settings())",
            "duckdb_settings",
        ),
        "information_schema": ("SELECT * FROM {batch}, information_schema.tables", "information_schema.tables"),
        "cte_named_like_the_batch": (
            f"WITH {BATCH} AS (SELECT content AS shipment_id FROM read_text('{secret}')) SELECT * FROM {{batch}}",
            "read_text",
        ),
        "cte_hiding_a_reader": (
            f"WITH b AS (SELECT * FROM read_csv_auto('{secret}')) SELECT {{batch}}.* FROM {{batch}}, b",
            "read_csv_auto",
        ),
        "cte_out_of_scope": (
            "SELECT * FROM {batch}, (WITH sqlite_master AS (SELECT 1) SELECT 1) AS x, sqlite_master",
            "table 'sqlite_master'",
        ),
        "comment_hides_nothing": (
            f"SELECT * FROM {{batch}} /* harmless */; COPY {{batch}} TO '{target}'",
            "2 statements",
        ),
        "string_literal_hides_nothing": (
            f"SELECT '; SELECT 1' AS s FROM {{batch}}, read_text('{secret}') -- '",
            "read_text",
        ),
        "case_variation": (f"sElEcT * FrOm {{batch}}, ReAd_TeXt('{secret}')", "read_text"),
        "file_as_table_name": (f"SELECT * FROM {{batch}}, '{secret}'", f"table '{secret}'"),
        "url_reader": ("SELECT * FROM {batch}, read_parquet('https://example.com/x.parquet')", "read_parquet"),
        "glob": ("SELECT * FROM {batch}, glob('/*')", "glob"),
        "batch_with_conversion": ("SELECT * FROM {batch!r}", "without a conversion"),
        "batch_glued_to_a_name": ("SELECT * FROM {batch}_x", f"table '{BATCH}_x'"),
        "batch_time_travel": ("SELECT * FROM {batch} AT (VERSION => 1)", "time travel"),
        "settings_function": ("SELECT current_setting('allowed_paths') AS s FROM {batch}", "current_setting"),
        "attach": (f"ATTACH '{target}' AS x; SELECT * FROM {{batch}}", "2 statements"),
        "pragma": ("PRAGMA table_info('{batch}')", "PRAGMA"),
        "explain": ("EXPLAIN SELECT * FROM {batch}", "EXPLAIN"),
        "summarize": ("SUMMARIZE {batch}", "DESCRIBE, SHOW or SUMMARIZE"),
        "qualified_function": ("SELECT main.lower(shipment_id) FROM {batch}", "main.lower"),
        "catalog_macro": ("SELECT pg_get_viewdef(0) AS v FROM {batch}", "pg_get_viewdef"),
    }


ATTACK_NAMES = list(attacks(Path("/s"), Path("/t")))


def _with_query(descriptor: dict[str, Any], query: str) -> dict[str, Any]:
    descriptor["outputs"][0]["expectations"] = [{"unexpected_rows_expectation": {"unexpected_rows_query": query}}]
    return descriptor


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_deploy_refuses_a_sql_expectation_that_leaves_its_box(
    name: str,
    lake: ml.Lake,
    descriptor: dict[str, Any],
    write_descriptor: DescriptorWriter,
    secret: Path,
    target: Path,
) -> None:
    query, forbidden = attacks(secret, target)[name]
    path = write_descriptor(_with_query(descriptor, query))
    with pytest.raises(DescriptorError) as caught:
        lake.deploy(path)
    error = caught.value
    assert error.file == str(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert error.line == next(i for i, line in enumerate(lines, 1) if "unexpected_rows_query" in line)
    assert error.field is not None and error.field.endswith("unexpected_rows_query")
    assert forbidden in error.problem
    assert not target.exists()
    assert lake.products() == []


@pytest.mark.parametrize("name", ATTACK_NAMES)
def test_a_write_refuses_a_sql_expectation_that_bypassed_deploy(
    name: str, shipments_port: Any, secret: Path, target: Path
) -> None:
    """Defence in depth: a contract that never went through deploy's validation is refused by the gate."""
    query, forbidden = attacks(secret, target)[name]
    shipments_port.contract.expectations.append({"unexpected_rows_expectation": {"unexpected_rows_query": query}})
    with pytest.raises(QualityGateError) as caught:
        shipments_port.write(shipments(["a"]))
    result = caught.value.report.results[-1]
    assert result.status == "errored"
    assert "one read-only SELECT over {batch}" in (result.error or "")
    assert forbidden in (result.error or "")
    assert main_snapshot_id(shipments_port) is None
    assert not target.exists()
    history = read_results(shipments_port.lake.catalog, address=ADDRESS)
    assert history and SECRET not in str(history)


def test_a_check_refuses_a_sql_expectation_that_bypassed_deploy(shipments_port: Any, secret: Path) -> None:
    shipments_port.write(shipments(["a"]))
    query = f"SELECT content AS shipment_id FROM read_text('{secret}'), {{batch}}"
    shipments_port.contract.expectations.append({"unexpected_rows_expectation": {"unexpected_rows_query": query}})
    report = shipments_port.check()
    assert not report.passed
    assert report.results[-1].status == "errored"
    assert "read_text" in (report.results[-1].error or "")
    assert SECRET not in str(read_results(shipments_port.lake.catalog, address=ADDRESS))


@pytest.fixture
def shipments_port(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    descriptor["outputs"][0]["expectations"] = [{"expect_column_values_to_not_be_null": {"column": "shipment_id"}}]
    lake.deploy(write_descriptor(descriptor))
    return lake.port(ADDRESS)


# -- legitimate SQL keeps its verdicts -----------------------------------------------------------------------------

LEGITIMATE = {
    "heavy_rows": ("SELECT * FROM {batch} WHERE weight_kg > 5", 2),
    "self_join_duplicates": (
        "SELECT a.* FROM {batch} a JOIN {batch} b ON a.shipment_id = b.shipment_id AND a.weight_kg < b.weight_kg",
        1,
    ),
    "cte": (
        "WITH heavy AS (SELECT shipment_id FROM {batch} WHERE weight_kg > 5) "
        "SELECT * FROM {batch} WHERE shipment_id IN (SELECT shipment_id FROM heavy)",
        2,
    ),
    "recursive_cte": (
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3) "
        "SELECT * FROM {batch} JOIN n ON n.i = length(shipment_id) WHERE weight_kg < 9",
        4,
    ),
    "window_function": (
        "SELECT * FROM (SELECT *, lag(weight_kg) OVER (ORDER BY shipment_id, weight_kg) AS before FROM {batch}) "
        "WHERE weight_kg < before",
        1,
    ),
    "group_by_having": ("SELECT shipment_id, count(*) AS n FROM {batch} GROUP BY shipment_id HAVING count(*) > 1", 1),
    "comments_and_strings_that_look_like_sql": (
        "-- COPY x TO 'y'; DROP TABLE z\n"
        "SELECT * FROM {batch} /* ; read_text('/etc/passwd') */\n"
        "WHERE shipment_id = '; COPY (SELECT 1) TO ''/tmp/x''; --' OR shipment_id = 'cc'",
        2,
    ),
    "quoted_batch": ('SELECT * FROM "{batch}" WHERE weight_kg > 5', 2),
    "literal_braces": ("SELECT * FROM {batch} WHERE shipment_id = '{{cc}}'", 0),
    "table_functions_that_read_nothing": (
        "SELECT b.* FROM {batch} b, range(2) r, unnest([1]) u WHERE r.range = 0 AND weight_kg > 5",
        2,
    ),
    "trailing_semicolon_and_comment": ("SELECT * FROM {batch} WHERE weight_kg > 5; -- done", 2),
}
ROWS = {"shipment_id": ["a", "bb", "cc", "cc", "ddd"], "weight_kg": [1.0, 2.0, 7.0, 9.0, 1.5]}


@pytest.mark.parametrize("name", list(LEGITIMATE))
def test_legitimate_sql_expectations_keep_their_verdicts(name: str) -> None:
    query, expected = LEGITIMATE[name]
    table = pa.table(ROWS)
    plain = duckdb.connect()  # the verdict of the query run as written, with no sandbox
    plain.register(BATCH, table)
    unsandboxed = plain.sql(check_query(query)).fetchall()
    con = duckdb.connect()
    con.register("t", table)
    (result,) = run_native(
        con,
        relation_sql="t",
        new_rows_sql=None,
        expectations=[Expectation("unexpected_rows_expectation", {"unexpected_rows_query": query})],
    )
    assert result.observed_value == len(unsandboxed) == expected
    assert result.status == ("passed" if expected == 0 else "failed")
    assert len(result.sample) == min(expected, 5)


def test_a_gated_write_runs_sql_expectations_on_the_staged_files(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    """Joins of {batch} with itself, CTEs and window functions over several data files, read in place."""
    queries = [
        "SELECT * FROM {batch} WHERE weight_kg > 40",
        "WITH w AS (SELECT *, row_number() OVER (PARTITION BY weight_kg ORDER BY shipment_id) AS n FROM {batch}) "
        "SELECT * FROM w JOIN {batch} b USING (shipment_id) WHERE w.n > 2",
    ]
    descriptor["outputs"][0]["expectations"] = [
        {"unexpected_rows_expectation": {"unexpected_rows_query": q}} for q in queries
    ]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port(ADDRESS)
    port.write(shipments(["a", "b"], weight=1.0))
    published = port.write(shipments(["c"], weight=2.0))
    assert [r.status for r in published.quality.results] == ["passed", "passed"]
    with pytest.raises(QualityGateError) as caught:
        port.write(shipments(["d"], weight=1.0))  # a third row of weight 1.0
    heavy, third = caught.value.report.results
    assert (heavy.status, heavy.observed_value) == ("passed", 0)
    assert (third.status, third.observed_value) == ("failed", 1)
    assert third.sample[0]["shipment_id"] == "d"
    assert main_snapshot_id(port) == published.snapshot_id


# -- the sandbox holds even if the parser check were bypassed ----------------------------------------------------


def test_the_sandbox_reads_the_batch_files_and_nothing_else(tmp_path: Path, secret: Path, target: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    batch_file = data / "part[1].parquet"  # glob characters in the name: escaped for DuckDB
    pq.write_table(pa.table(ROWS), batch_file)
    neighbour = data / "other.parquet"
    pq.write_table(pa.table({"x": [1]}), neighbour)
    relation = f"(SELECT * FROM read_parquet(['{str(batch_file).replace('[', '[[]')}']))"
    with sandbox.on_files(relation, [str(batch_file)]) as con:
        assert con.sql(f"SELECT count(*) FROM {BATCH}").fetchall() == [(5,)]
        for statement in (
            f"SELECT * FROM read_text('{secret}')",
            f"SELECT * FROM read_parquet('{neighbour}')",
            f"SELECT * FROM '{secret}'",
            f"SELECT * FROM glob('{tmp_path}/*')",
            f"COPY (SELECT 1) TO '{target}'",
            f"ATTACH '{target}' AS x",
            "SELECT * FROM read_csv('https://example.com/x.csv')",
            "INSTALL httpfs",
            "SET enable_external_access = true",
            "SET allowed_paths = ['/']",
        ):
            with pytest.raises(duckdb.Error):
                con.sql(statement).fetchall()
    assert not target.exists()


def test_an_in_memory_sandbox_reads_no_file(secret: Path) -> None:
    with sandbox.in_memory(pa.table(ROWS)) as con:
        assert con.sql(f"SELECT count(*) FROM {BATCH}").fetchall() == [(5,)]
        with pytest.raises(duckdb.PermissionException):
            con.sql(f"SELECT * FROM read_text('{secret}')").fetchall()


def test_a_gate_whose_parser_check_was_bypassed_still_cannot_read_a_file(
    monkeypatch: pytest.MonkeyPatch, shipments_port: Any, secret: Path
) -> None:
    """Fault injection: the query check lets everything through; the sandbox alone must stop the read."""
    from meshlake.contract import expectations
    from meshlake.quality import compile as compile_module

    monkeypatch.setattr(expectations, "_check_query", lambda query: None)
    monkeypatch.setattr(compile_module, "render_query", lambda query: query.format(batch=BATCH))
    query = f"SELECT content AS shipment_id FROM read_text('{secret}'), {{batch}}"
    shipments_port.contract.expectations.append({"unexpected_rows_expectation": {"unexpected_rows_query": query}})
    with pytest.raises(QualityGateError) as caught:
        shipments_port.write(shipments(["a"]))
    result = caught.value.report.results[-1]
    assert result.status == "errored"
    assert "Permission Error" in (result.error or "")
    assert SECRET not in str(caught.value.report.to_dict())
    assert SECRET not in str(read_results(shipments_port.lake.catalog, address=ADDRESS))
    assert main_snapshot_id(shipments_port) is None
