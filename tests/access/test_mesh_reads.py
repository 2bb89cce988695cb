"""`lake.duckdb()` / `lake.sql` for a principal: rights applied per port, the private database, the lock."""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.errors import AccessDeniedError, ConfigError
from meshlake.query.types import quote_literal
from meshlake.query.views import SOURCE_PREFIX
from tests.access.conftest import as_caller, run_cli
from tests.conftest import SHIPMENTS, DescriptorWriter

ADDRESS = "logistics.shipments.daily"
PUBLIC = "logistics.depots.sites"
DAY = datetime(2026, 11, 1, tzinfo=UTC)
Rows = list[tuple[str, float, str | None]]
ROWS: Rows = [
    ("a", 10.0, "ann1@example.com"),
    ("b", 30.0, "bob@example.org"),
    ("c", 5.0, None),
    ("d", 19.5, "dee@x.io"),
]
MORE: Rows = [("e", 1.0, "eve7@example.com"), ("f", 40.0, "fay@example.com")]


def policed() -> dict[str, Any]:
    """Shipments owned by group:logistics: analysts see light parcels only, emails masked; support unmasked."""
    data = copy.deepcopy(SHIPMENTS)
    data.pop("inputs")
    data["owner"]["principals"] = ["group:logistics"]
    port = data["outputs"][0]
    port["access"] = {
        "readers": ["group:analytics", "group:support"],
        "unmasked": ["group:support"],
        "row_filters": [{"principals": ["group:analytics"], "where": "weight_kg < 20"}],
    }
    port["columns"][3]["mask"] = "mask-alphanum"
    port["expectations"] = [{"expect_column_values_to_not_be_null": {"column": "shipment_id"}}]
    return data


def depots() -> dict[str, Any]:
    """A port the whole mesh reads unrestricted (no classification, no access section)."""
    return {
        "apiVersion": "meshlake/v1",
        "domain": "logistics",
        "name": "depots",
        "version": "1.0.0",
        "owner": {"team": "depots", "principals": ["group:depots"]},
        "outputs": [
            {
                "name": "sites",
                "columns": [
                    {"name": "shipment_id", "type": "string", "required": True},
                    {"name": "depot", "type": "string"},
                ],
                "expectations": [{"expect_column_values_to_not_be_null": {"column": "shipment_id"}}],
            }
        ],
    }


def shipment_rows(rows: list[tuple[str, float, str | None]]) -> pa.Table:
    return pa.table(
        {
            "shipment_id": [r[0] for r in rows],
            "shipped_at": pa.array([DAY] * len(rows), pa.timestamp("us", tz="UTC")),
            "weight_kg": [r[1] for r in rows],
            "customer_email": [r[2] for r in rows],
        }
    )


def masked(email: str | None) -> str | None:
    """mask-alphanum of the spec: digits to 'n', ( ) , . - @ kept, everything else 'x'."""
    if email is None:
        return None
    return "".join("n" if c.isdigit() else c if c in "(),.-@" else "x" for c in email)


@pytest.fixture
def mesh(lake: ml.Lake, write_descriptor: DescriptorWriter) -> dict[str, Any]:
    """Shipments written twice (tag v1 after the first write) and depots, then the lake gets a mesh policy."""
    lake.deploy(write_descriptor(policed()))
    lake.deploy(write_descriptor(depots()))
    shipments = lake.port(ADDRESS)
    first = shipments.write(shipment_rows(ROWS))
    shipments.tag("v1", first.snapshot_id)
    second = shipments.write(shipment_rows(MORE))
    lake.port(PUBLIC).write(pa.table({"shipment_id": ["a", "b", "e"], "depot": ["north", "south", "east"]}))
    before = {
        "all": lake.sql(f"SELECT * FROM {ADDRESS} ORDER BY shipment_id").fetchall(),
        "join": lake.sql(JOIN).fetchall(),
    }
    lake.init_access(["group:platform"])
    return {"first": first.snapshot_id, "second": second.snapshot_id, "before": before}


JOIN = (
    f"SELECT s.shipment_id, s.customer_email, d.depot FROM {ADDRESS} s JOIN {PUBLIC} d USING (shipment_id) ORDER BY 1"
)


def analyst(lake: ml.Lake) -> ml.Lake:
    return as_caller(lake, "user:ann", "analytics")


def owner(lake: ml.Lake) -> ml.Lake:
    return as_caller(lake, "user:olga", "logistics")


def visible(rows: list[tuple[str, float, str | None]]) -> list[tuple[str, str | None]]:
    """What an analyst may see of `rows`: light parcels, masked emails."""
    return sorted((r[0], masked(r[2])) for r in rows if r[1] < 20)


# -- what a restricted reader gets ----------------------------------------------------------------------


def test_restricted_reader_gets_masked_values_and_filtered_rows(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    rows = analyst(lake).sql(f"SELECT shipment_id, customer_email FROM {ADDRESS} ORDER BY 1").fetchall()
    assert rows == visible(ROWS + MORE)
    assert analyst(lake).sql(f"SELECT count(*), max(weight_kg) FROM {ADDRESS}").fetchall() == [(4, 19.5)]


def test_filters_on_masked_columns_compare_the_masked_values(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    ann = analyst(lake)
    assert ann.sql(f"SELECT shipment_id FROM {ADDRESS} WHERE customer_email = 'ann1@example.com'").fetchall() == []
    hit = ann.sql(f"SELECT shipment_id FROM {ADDRESS} WHERE customer_email = '{masked('ann1@example.com')}' ORDER BY 1")
    assert hit.fetchall() == [("a",), ("e",)]  # ann1@… and eve7@… mask alike
    heavy = ann.sql(f"SELECT count(*) FROM {ADDRESS} WHERE weight_kg > 20 OR shipment_id IN ('b', 'f')")
    assert heavy.fetchall() == [(0,)]


def test_time_travel_on_a_restricted_port_is_restricted_at_that_snapshot(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    ann = analyst(lake)
    by_id = ann.sql(f"SELECT shipment_id, customer_email FROM {ADDRESS} AT (VERSION => {mesh['first']}) ORDER BY 1")
    assert by_id.fetchall() == visible(ROWS)
    by_tag = ann.sql(f"SELECT shipment_id, customer_email FROM {ADDRESS} AT (VERSION => 'v1') ORDER BY 1")
    assert by_tag.fetchall() == visible(ROWS)
    committed = owner(lake).port(ADDRESS).at(mesh["first"]).committed_at
    assert committed is not None
    by_time = ann.sql(
        f"SELECT count(*) FROM {ADDRESS} AT (TIMESTAMP => TIMESTAMPTZ '{committed.isoformat()}')"
    ).fetchall()
    assert by_time == [(len(visible(ROWS)),)]
    both = ann.sql(
        f"SELECT (SELECT count(*) FROM {ADDRESS} AT (VERSION => 'v1')), (SELECT count(*) FROM {ADDRESS})"
    ).fetchall()
    assert both == [(len(visible(ROWS)), len(visible(ROWS + MORE)))]


def test_as_of_connection_serves_restricted_ports_at_that_instant(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    committed = owner(lake).port(ADDRESS).at(mesh["first"]).committed_at
    assert committed is not None
    con = analyst(lake).duckdb(as_of=committed)
    assert con.sql(f"SELECT shipment_id, customer_email FROM {ADDRESS} ORDER BY 1").fetchall() == visible(ROWS)


def test_owner_and_unmasked_reader_queries_are_unchanged(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    assert owner(lake).sql(f"SELECT * FROM {ADDRESS} ORDER BY shipment_id").fetchall() == mesh["before"]["all"]
    assert owner(lake).sql(JOIN).fetchall() == mesh["before"]["join"]
    support = as_caller(lake, "user:sam", "support")
    assert support.sql(f"SELECT * FROM {ADDRESS} ORDER BY shipment_id").fetchall() == mesh["before"]["all"]


def test_owner_reads_in_place_and_the_restricted_reader_through_its_source(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    own = owner(lake).duckdb()
    assert "read_parquet" in own.sql(f"SELECT ml_scan('{ADDRESS}')").fetchall()[0][0]
    ann = analyst(lake).duckdb()
    assert ann.sql(f"SELECT ml_scan('{ADDRESS}')").fetchall()[0][0] == f'SELECT * FROM "{SOURCE_PREFIX}{ADDRESS}"'
    assert "read_parquet" in ann.sql(f"SELECT ml_scan('{PUBLIC}')").fetchall()[0][0]


def test_denied_port_raises_access_denied_naming_the_grant(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    eve = as_caller(lake, "user:eve")
    with pytest.raises(AccessDeniedError) as caught:
        eve.sql(f"SELECT count(*) FROM {ADDRESS}")
    assert caught.value.principal == "user:eve" and caught.value.address == ADDRESS
    assert "group:analytics, group:support" in caught.value.missing and caught.value.action == "read"
    with pytest.raises(AccessDeniedError):
        eve.sql(f"SELECT count(*) FROM {ADDRESS} AT (VERSION => 'v1')")
    with pytest.raises(duckdb.Error, match=r"user:eve may not read logistics\.shipments\.daily"):
        eve.duckdb().sql(f"SELECT count(*) FROM {ADDRESS}").fetchall()
    with pytest.raises(duckdb.Error, match="may not read"):
        eve.duckdb().sql(f"SELECT ml_scan('{ADDRESS}')").fetchall()
    assert eve.sql(f"SELECT count(*) FROM {PUBLIC}").fetchall() == [(3,)]  # the rest of the mesh still reads


def test_join_of_a_restricted_and_an_unrestricted_port(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    rows = analyst(lake).sql(JOIN).fetchall()
    assert rows == [("a", masked("ann1@example.com"), "north"), ("e", masked("eve7@example.com"), "east")]


def test_show_all_tables_lists_every_port_with_its_columns(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    for caller in (analyst(lake), as_caller(lake, "user:eve")):
        tables = {
            f"{r[0]}.{r[1]}.{r[2]}": r[3] for r in caller.sql("SHOW ALL TABLES").fetchall() if not r[5]
        }  # not temporary
        assert tables[ADDRESS] == ["shipment_id", "shipped_at", "weight_kg", "customer_email"]
        assert tables[PUBLIC] == ["shipment_id", "depot"]


def test_listing_the_catalog_plans_no_restricted_port(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    ann = analyst(lake)
    ann.sql("SELECT * FROM duckdb_columns() WHERE column_name = 'customer_email'").fetchall()
    assert ann._default_session is not None
    views = ann._default_session.views
    assert views._ports[ADDRESS].plan is None  # listed from table metadata only
    assert ann.sql(f"SELECT count(*) FROM {ADDRESS}").fetchall() == [(4,)]
    assert views._ports[ADDRESS].plan is not None


# -- what the lock stops --------------------------------------------------------------------------------


def data_file(lake: ml.Lake, address: str) -> str:
    admin = as_caller(lake, "user:pat", "platform")
    return str(admin.port(address).latest().plan.files[0]).removeprefix("file://")


BYPASSES = [
    "SELECT * FROM read_parquet('{file}')",
    "SELECT * FROM read_parquet('{table}/data/**/*.parquet')",
    "SELECT * FROM glob('{warehouse}/*')",
    "SELECT * FROM glob('{table}/**')",
    "SELECT * FROM read_text('/etc/hostname')",
    "SELECT * FROM read_csv('/etc/passwd')",
    "SELECT * FROM read_blob('{file}')",
    "SELECT * FROM read_parquet('{public}/../../shipments/daily/data/**/*.parquet')",
    "SELECT * FROM read_parquet('file://{file}')",
    "ATTACH '{warehouse}/stolen.db' AS stolen",
    "COPY (SELECT * FROM {address}) TO '{warehouse}/stolen.csv'",
    "EXPORT DATABASE '{warehouse}/stolen'",
    "SET enable_external_access = true",
    "SET allowed_directories = ['/']",
    "SET allowed_paths = ['{file}']",
    "RESET lock_configuration",
    "SET lock_configuration = false",
    "SET temp_directory = '{table}'",
    "INSTALL httpfs",
    "LOAD httpfs",
]


REFUSED = r"disabled by configuration|configuration has been locked|disabled through"


@pytest.mark.parametrize("attempt", BYPASSES)
def test_a_restricted_reader_cannot_read_around_the_restrictions(
    lake: ml.Lake, mesh: dict[str, Any], attempt: str
) -> None:
    file = data_file(lake, ADDRESS)
    table = file[: file.index("/data/")]
    public = data_file(lake, PUBLIC)
    statement = attempt.format(
        file=file,
        table=table,
        warehouse=lake.warehouse.removeprefix("file://"),
        public=public[: public.index("/data/")] + "/data",
        address=ADDRESS,
    )
    with pytest.raises(duckdb.Error, match=REFUSED):
        analyst(lake).sql(statement).fetchall()
    with pytest.raises(duckdb.Error, match=REFUSED):
        analyst(lake).duckdb().sql(statement).fetchall()


def test_reading_what_ml_scan_returns_gives_only_the_restricted_rows(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    con = analyst(lake).duckdb()
    relation = con.sql(f"SELECT ml_scan('{ADDRESS}')").fetchall()[0][0]
    rows = con.sql(f"SELECT shipment_id, customer_email FROM query({quote_literal(relation)}) ORDER BY 1")
    assert rows.fetchall() == visible(ROWS + MORE)
    direct = con.sql(f'SELECT shipment_id, customer_email FROM "{SOURCE_PREFIX}{ADDRESS}" ORDER BY 1').fetchall()
    assert direct == visible(ROWS + MORE)


def test_settings_name_only_directories_the_caller_reads_unrestricted(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    con = analyst(lake).duckdb()
    allowed = con.sql("SELECT value FROM duckdb_settings() WHERE name = 'allowed_directories'").fetchall()[0][0]
    public = data_file(lake, PUBLIC)
    assert public[: public.index("/data/") + len("/data/")] in allowed
    restricted = data_file(lake, ADDRESS)
    assert restricted[: restricted.index("/data/")] not in allowed
    for directory in allowed.strip("[]").split(", "):  # everything readable there is the caller's anyway
        names = [row[0] for row in con.sql(f"SELECT file FROM glob('{directory}**')").fetchall()]
        assert not any("/shipments/daily/" in name for name in names)
    unrestricted = con.sql(f"SELECT count(*) FROM read_parquet('{public}')").fetchall()
    assert unrestricted == [(3,)]


def test_lake_without_policy_locks_nothing(lake: ml.Lake, write_descriptor: DescriptorWriter) -> None:
    lake.deploy(write_descriptor(policed()))
    lake.port(ADDRESS).write(shipment_rows(ROWS))
    con = as_caller(lake, "user:eve").duckdb()
    assert con.sql(f"SELECT count(*) FROM {ADDRESS}").fetchall() == [(4,)]
    assert con.sql("SELECT current_setting('lock_configuration')").fetchall() == [(False,)]
    assert con.sql(f"SELECT count(*) FROM read_parquet('{data_file(lake, ADDRESS)}')").fetchall() == [(4,)]
    assert "read_parquet" in con.sql(f"SELECT ml_scan('{ADDRESS}')").fetchall()[0][0]


def test_a_passed_connection_is_locked_and_a_locked_one_refused(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    mine = duckdb.connect()
    analyst(lake).duckdb(mine)
    assert mine.sql(f"SELECT count(*) FROM {ADDRESS}").fetchall() == [(4,)]
    with pytest.raises(duckdb.Error, match="disabled by configuration"):
        mine.sql("SELECT * FROM read_text('/etc/hostname')").fetchall()
    locked = duckdb.connect()
    locked.execute("SET lock_configuration = true")
    with pytest.raises(ConfigError, match="configuration is locked"):
        analyst(lake).duckdb(locked)
    closed = duckdb.connect(config={"enable_external_access": False})
    with pytest.raises(ConfigError, match="external access is disabled already"):
        analyst(lake).duckdb(closed)


def test_harmless_settings_stay_changeable_on_a_locked_connection(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    con = analyst(lake).duckdb()
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET threads = 1")
    con.execute("USE logistics.shipments")
    assert con.sql("SELECT count(*) FROM daily").fetchall() == [(4,)]


def test_a_port_that_appears_after_the_lock_is_served_privately(
    lake: ml.Lake, mesh: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    ann = analyst(lake)
    con = ann.duckdb()
    late = depots()
    late["name"] = "hubs"
    admin = as_caller(lake, "user:pat", "platform")
    admin.deploy(write_descriptor(late))
    admin.port("logistics.hubs.sites").write(pa.table({"shipment_id": ["x"], "depot": ["west"]}))
    assert "logistics.hubs.sites" in ann.refresh(con)
    assert con.sql("SELECT depot FROM logistics.hubs.sites").fetchall() == [("west",)]
    assert con.sql("SELECT ml_scan('logistics.hubs.sites')").fetchall()[0][0].startswith('SELECT * FROM "__meshlake_')
    with pytest.raises(duckdb.Error, match="disabled by configuration"):
        con.sql(f"SELECT * FROM read_parquet('{data_file(lake, 'logistics.hubs.sites')}')").fetchall()


def test_require_verified_refuses_an_unverified_reader(lake: ml.Lake, mesh: dict[str, Any], tmp_path: Path) -> None:
    policy = tmp_path / "policy.yaml"
    policy.write_text("admins: [group:platform]\nrequire_verified: true\n")
    as_caller(lake, "user:pat", "platform", verified=True).publish_access_policy(policy)
    with pytest.raises(ml.AuthenticationError):
        analyst(lake).duckdb()


# -- meshlake's own tables ------------------------------------------------------------------------------

QUALITY = "SELECT DISTINCT address FROM meshlake.system.quality_results ORDER BY 1"


def test_quality_results_are_read_whole_by_admins_and_by_owners_for_their_ports(
    lake: ml.Lake, mesh: dict[str, Any]
) -> None:
    assert lake.sql(QUALITY).fetchall() == []  # the lake's own caller (the OS user) owns nothing
    assert as_caller(lake, "user:pat", "platform").sql(QUALITY).fetchall() == [(PUBLIC,), (ADDRESS,)]
    assert owner(lake).sql(QUALITY).fetchall() == [(ADDRESS,)]
    assert as_caller(lake, "user:dan", "depots").sql(QUALITY).fetchall() == [(PUBLIC,)]
    assert analyst(lake).sql(QUALITY).fetchall() == []
    assert analyst(lake).sql("SELECT count(*) FROM meshlake.system.quality_results").fetchall() == [(0,)]


def test_system_decision_filters_by_owned_ports(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    from meshlake.access.identity import claimed
    from meshlake.access.system import system_decision

    policy = lake.mesh_policy
    olga = claimed("user:olga", ["logistics"], source="argument")
    decision = system_decision(olga, "meshlake.system.quality_results", policy, owned=[ADDRESS])
    assert decision.read and decision.row_filter is not None
    assert decision.row_filter.clauses == (f"address IN ('{ADDRESS}')",)
    nothing = system_decision(olga, "meshlake.system.other", policy, owned=[ADDRESS], columns=["id"])
    assert not nothing.read and "only mesh admins (group:platform)" in (nothing.missing_read or "")
    pat = claimed("user:pat", ["platform"], source="argument")
    assert system_decision(pat, "meshlake.system.quality_results", policy, owned=[]).unrestricted


# -- the CLI ---------------------------------------------------------------------------------------------


def test_cli_sql_applies_the_principals_rights(
    lake: ml.Lake, mesh: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MESHLAKE_PRINCIPAL", "user:ann")
    monkeypatch.setenv("MESHLAKE_GROUPS", "analytics")
    result = run_cli("sql", "--json", f"SELECT shipment_id, customer_email FROM {ADDRESS} ORDER BY 1")
    assert result.exit_code == 0, result.output
    assert [(r["shipment_id"], r["customer_email"]) for r in json.loads(result.output)] == visible(ROWS + MORE)
    bypass = run_cli("sql", "SELECT * FROM read_text('/etc/hostname')")
    assert bypass.exit_code == 1 and "disabled by configuration" in bypass.output
    monkeypatch.setenv("MESHLAKE_PRINCIPAL", "user:eve")
    monkeypatch.delenv("MESHLAKE_GROUPS")
    denied = run_cli("sql", f"SELECT count(*) FROM {ADDRESS}")
    assert denied.exit_code == 1 and "user:eve may not read logistics.shipments.daily" in denied.output


def test_time_travel_to_a_snapshot_before_a_masked_column_existed(
    lake: ml.Lake, mesh: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    evolved = policed()
    evolved["version"] = "1.5.0"
    evolved["outputs"][0]["columns"].append({"name": "phone", "type": "string", "mask": "show-last-4"})
    olga = owner(lake)
    olga.deploy(write_descriptor(evolved))
    olga.port(ADDRESS).write(
        shipment_rows([("g", 2.0, "gil@example.com")]).append_column("phone", pa.array(["555-0101"]))
    )
    ann = analyst(lake)
    old = ann.sql(f"SELECT shipment_id, customer_email FROM {ADDRESS} AT (VERSION => 'v1') ORDER BY 1").fetchall()
    assert old == visible(ROWS)
    assert "phone" not in ann.sql(f"SELECT * FROM {ADDRESS} AT (VERSION => 'v1')").columns
    now = ann.sql(f"SELECT shipment_id, phone FROM {ADDRESS} WHERE phone IS NOT NULL").fetchall()
    assert now == [("g", "nnn-0101")]


# -- sha-256-query-local: one salt per `lake.sql` statement ------------------------------------------------


@pytest.fixture
def hashed(lake: ml.Lake, write_descriptor: DescriptorWriter) -> None:
    """Shipments whose emails analysts read hashed with a query-local salt; two rows share an email."""
    data = policed()
    data["outputs"][0]["columns"][3]["mask"] = "sha-256-query-local"
    lake.deploy(write_descriptor(data))
    rows: Rows = [("a", 1.0, "same@example.com"), ("b", 2.0, "same@example.com"), ("c", 3.0, "other@example.com")]
    first = lake.port(ADDRESS).write(shipment_rows(rows))
    lake.port(ADDRESS).tag("v1", first.snapshot_id)
    lake.init_access(["group:platform"])


SELF_JOIN = (
    f"SELECT a.shipment_id AS left_id, b.shipment_id AS right_id, a.customer_email AS left_hash, "
    f"b.customer_email AS right_hash FROM {ADDRESS} a JOIN {ADDRESS} b{{at}} ON a.customer_email = b.customer_email "
    "ORDER BY 1, 2"
)


@pytest.mark.parametrize("at", ["", " AT (VERSION => 'v1')"])
def test_query_local_hashes_are_one_salt_per_lake_sql_statement(lake: ml.Lake, hashed: None, at: str) -> None:
    reader = analyst(lake)
    pairs = reader.sql(SELF_JOIN.format(at=at)).fetchall()

    # every row's hash equals itself and its duplicate's across the two scans: one salt for the statement
    assert [(left, right) for left, right, _, _ in pairs] == [
        ("a", "a"), ("a", "b"), ("b", "a"), ("b", "b"), ("c", "c"),
    ]  # fmt: skip
    assert all(left == right for _, _, left, right in pairs)
    hashes = {left for _, _, left, _ in pairs}
    assert len(hashes) == 2 and not hashes & {"same@example.com", "other@example.com"}
    again = {row[0] for row in reader.sql(f"SELECT customer_email FROM {ADDRESS}").fetchall()}
    assert again.isdisjoint(hashes)  # the next statement draws another salt


def test_a_statement_hashes_with_its_salt_each_time_it_runs(lake: ml.Lake, hashed: None) -> None:
    relation = analyst(lake).sql(f"SELECT customer_email FROM {ADDRESS} ORDER BY shipment_id")
    assert relation.fetchall() == relation.fetchall()


def test_a_lake_and_its_duckdb_session_are_freed_when_dropped(lake: ml.Lake, mesh: dict[str, Any]) -> None:
    """A session's `ml_scan` UDF and Arrow sources held the views (and so the lake) from inside DuckDB, where
    Python's collector cannot see: every dropped lake kept its connection, about 10 MB each."""
    import gc
    import weakref

    dropped = []
    for _ in range(3):
        ann = analyst(lake)
        assert ann.sql(f"SELECT count(*) FROM {ADDRESS}").fetchall() == [(4,)]
        dropped.append((weakref.ref(ann), weakref.ref(ann._default_session.views)))  # type: ignore[union-attr]
        del ann
    gc.collect()
    assert [(lake_ref(), views_ref()) for lake_ref, views_ref in dropped] == [(None, None)] * 3
