"""Read enforcement on every Python read path: masked and filtered for readers, refused for the rest, whole for
owners, and unchanged in a lake without a mesh policy.

The port `sales.crm.customers` (owned by group:sales) is read by
- group:analytics: masked, and only the rows with region = 'eu';
- group:partners: masked, every row;
- group:support: unmasked (`unmasked`), every row;
- product:marketing.campaigns (a pipeline): masked, only region = 'eu';
and by nobody else.
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.access.policy import MeshPolicy
from meshlake.contract.principals import Principal
from meshlake.errors import AccessDeniedError, AuthenticationError, QualityGateError
from meshlake.port import Port
from meshlake.quality.records import read_results
from tests.access.conftest import as_caller, run_cli
from tests.conftest import DescriptorWriter
from tests.test_pipelines import make_product

ADDRESS = "sales.crm.customers"
CUSTOMERS: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "sales",
    "name": "crm",
    "version": "1.0.0",
    "owner": {"team": "sales_data", "principals": ["group:sales"]},
    "outputs": [
        {
            "name": "customers",
            "access": {
                "readers": ["group:analytics", "group:partners", "group:support", "product:marketing.campaigns"],
                "unmasked": ["group:support"],
                "row_filters": [
                    {"principals": ["group:analytics", "product:marketing.campaigns"], "where": "region = 'eu'"}
                ],
            },
            "columns": [
                {"name": "customer_id", "type": "long", "required": True},
                {"name": "region", "type": "string"},
                {"name": "email", "type": "string", "classification": "pii", "mask": "mask-alphanum"},
                {"name": "card", "type": "string", "classification": "confidential", "mask": "show-last-4"},
                {"name": "born_on", "type": "date", "classification": "pii", "mask": "truncate-to-year"},
                {"name": "phone", "type": "string", "classification": "pii"},
            ],
            "primary_key": ["customer_id"],
            "expectations": [
                {"expect_column_values_to_be_in_set": {"column": "region", "value_set": ["eu", "us"]}},
                {"expect_column_max_to_be_between": {"column": "born_on", "max_value": "2010-01-01"}},
            ],
        }
    ],
}
ROWS = [
    {"customer_id": 1, "region": "eu", "email": "ann@gmail.com", "card": "4111-1111-1111-4444",
     "born_on": date(1990, 7, 15), "phone": "+44 20 7946 0000"},
    {"customer_id": 2, "region": "us", "email": "bob@corp.com", "card": "5500-0000-0000-0004",
     "born_on": date(1985, 3, 2), "phone": "+1 555 0100"},
    {"customer_id": 3, "region": "eu", "email": None, "card": None, "born_on": None, "phone": None},
]  # fmt: skip
PII = {"ann@gmail.com", "bob@corp.com", "4111-1111-1111-4444", "5500-0000-0000-0004", "+44 20 7946 0000", "+1 555 0100"}
MASKED_EU = [
    {"customer_id": 1, "region": "eu", "email": "xxx@xxxxx.xxx", "card": "nnnn-nnnn-nnnn-4444",
     "born_on": date(1990, 1, 1), "phone": "XXXXXXXX"},
    {"customer_id": 3, "region": "eu", "email": None, "card": None, "born_on": None, "phone": None},
]  # fmt: skip
MASKED_ALL = [
    MASKED_EU[0],
    {"customer_id": 2, "region": "us", "email": "xxx@xxxx.xxx", "card": "nnnn-nnnn-nnnn-0004",
     "born_on": date(1985, 1, 1), "phone": "XXXXXXXX"},
    MASKED_EU[1],
]  # fmt: skip
ARROW_SCHEMA = pa.schema(
    [
        pa.field("customer_id", pa.int64(), nullable=False),
        ("region", pa.string()),
        ("email", pa.string()),
        ("card", pa.string()),
        ("born_on", pa.date32()),
        ("phone", pa.string()),
    ]
)


def customers(rows: list[dict[str, Any]] = ROWS) -> pa.Table:
    return pa.Table.from_pylist(rows, schema=ARROW_SCHEMA)


def sorted_rows(table: pa.Table) -> list[dict[str, Any]]:
    return sorted(table.to_pylist(), key=lambda row: row["customer_id"])


@pytest.fixture
def governed(lake: ml.Lake, write_descriptor: DescriptorWriter) -> ml.Lake:
    """A lake with a mesh policy; sales.crm.customers written by its owner and tagged v1."""
    lake.init_access(["group:platform"])
    owner = as_caller(lake, "user:olga", "sales")
    owner.deploy(write_descriptor(copy.deepcopy(CUSTOMERS)))
    owner.port(ADDRESS).write(customers())
    owner.port(ADDRESS).tag("v1")
    return lake


def analyst(lake: ml.Lake) -> ml.Lake:
    return as_caller(lake, "user:ann", "analytics")


def partner(lake: ml.Lake) -> ml.Lake:
    return as_caller(lake, "user:pat", "partners")


READS = {
    "latest.to_arrow": lambda lake: lake.port(ADDRESS).latest().to_arrow(),
    "port.to_arrow": lambda lake: lake.port(ADDRESS).to_arrow(),
    "at(tag).to_arrow": lambda lake: lake.port(ADDRESS).at("v1").to_arrow(),
    "at(id).to_polars": lambda lake: (
        lake.port(ADDRESS).at(lake.port(ADDRESS).history()[-1].snapshot_id).to_polars().collect().to_arrow()
    ),
    "as_of.to_polars": lambda lake: (
        lake.port(ADDRESS).as_of(datetime.now(UTC) + timedelta(seconds=1)).to_polars().collect().to_arrow()
    ),
    "to_pandas": lambda lake: pa.Table.from_pandas(lake.port(ADDRESS).latest().to_pandas(), preserve_index=False),
    "read@tag": lambda lake: lake.read(f"{ADDRESS}@v1").to_arrow(),
    "sql": lambda lake: duckdb.connect().sql(lake.read(ADDRESS).sql()).to_arrow_table(),
}


@pytest.mark.parametrize("path", READS)
def test_a_reader_with_masks_and_a_row_filter_gets_masked_values_of_its_rows_only(governed: ml.Lake, path: str) -> None:
    got = READS[path](analyst(governed))
    assert sorted_rows(got) == MASKED_EU
    assert not PII & {str(v) for row in got.to_pylist() for v in row.values()}


@pytest.mark.parametrize("shape", ["position masks", "anti joins"])
@pytest.mark.parametrize("path", [*READS, "lake.sql"])
def test_masks_and_row_filters_apply_on_top_of_pending_position_deletes(
    governed: ml.Lake, path: str, shape: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from meshlake.query import sql

    monkeypatch.setattr(sql, "MASK_MIN_DELETES", 0 if shape == "position masks" else 1 << 62)
    owner = as_caller(governed, "user:olga", "sales").port(ADDRESS)
    moved = {**ROWS[2], "region": "us"}  # customer 3 leaves the analyst's row filter
    owner.write(customers([moved]), mode="upsert", write_mode="merge-on-read")
    assert owner.latest().plan.has_deletes
    reads = {**READS, "lake.sql": lambda lake: lake.sql(f"SELECT * FROM {ADDRESS}").to_arrow_table()}
    if path in ("at(tag).to_arrow", "read@tag"):  # the tag names the snapshot before the upsert
        assert sorted_rows(reads[path](analyst(governed))) == MASKED_EU
        return
    assert sorted_rows(reads[path](analyst(governed))) == MASKED_EU[:1]
    assert [row["region"] for row in sorted_rows(reads[path](partner(governed)))] == ["eu", "us", "us"]


@pytest.mark.parametrize("path", READS)
def test_a_reader_with_masks_only_gets_every_row_masked(governed: ml.Lake, path: str) -> None:
    assert sorted_rows(READS[path](partner(governed))) == MASKED_ALL


@pytest.mark.parametrize("path", READS)
@pytest.mark.parametrize("who", [("user:olga", "sales"), ("user:root", "platform"), ("user:sam", "support")])
def test_owners_admins_and_unmasked_readers_get_everything(governed: ml.Lake, path: str, who: tuple[str, str]) -> None:
    assert sorted_rows(READS[path](as_caller(governed, *who))) == sorted_rows(customers())


def test_masked_reads_keep_the_ports_arrow_schema(governed: ml.Lake) -> None:
    owner = as_caller(governed, "user:olga", "sales").port(ADDRESS).latest()
    masked = analyst(governed).port(ADDRESS).latest()
    assert masked.to_arrow().schema == owner.to_arrow().schema
    assert masked.to_polars().collect_schema() == owner.to_polars().collect_schema()


DENIED_CALLS = {
    **READS,
    "latest": lambda lake: lake.port(ADDRESS).latest(),
    "history": lambda lake: lake.port(ADDRESS).history(),
    "check": lambda lake: lake.port(ADDRESS).check(),
    "quarantine": lambda lake: lake.port(ADDRESS).quarantine(),
}


@pytest.mark.parametrize("path", DENIED_CALLS)
def test_a_principal_without_a_grant_gets_access_denied_before_anything_is_loaded(
    governed: ml.Lake, path: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    eve = as_caller(governed, "user:eve", "marketing")
    monkeypatch.setattr(Port, "table", _no_table_loads)
    with pytest.raises(AccessDeniedError) as denied:
        DENIED_CALLS[path](eve)
    assert (denied.value.principal, denied.value.address) == ("user:eve", ADDRESS)
    assert "readers" in denied.value.missing


def _no_table_loads(self: Any) -> Any:
    raise AssertionError("the table was loaded for a principal that may not read it")


def test_a_lake_without_a_policy_reads_everything_for_anyone_as_before(
    lake: ml.Lake, write_descriptor: DescriptorWriter
) -> None:
    eve = as_caller(lake, "user:eve")
    eve.deploy(write_descriptor(copy.deepcopy(CUSTOMERS)))
    eve.port(ADDRESS).write(customers())
    eve.port(ADDRESS).tag("v1")
    for path, read in READS.items():
        assert sorted_rows(read(eve)) == sorted_rows(customers()), path
    assert eve.port(ADDRESS).latest().policy is None


def test_an_unverified_reader_is_refused_where_the_mesh_requires_verified_callers(governed: ml.Lake) -> None:
    admin = as_caller(governed, "user:root", "platform")
    admin.publish_access_policy(MeshPolicy(admins=[Principal.parse("group:platform")], require_verified=True))
    with pytest.raises(AuthenticationError):
        analyst(governed).port(ADDRESS).latest()


def test_query_local_hashes_differ_between_reads_and_match_within_one(
    lake: ml.Lake, write_descriptor: DescriptorWriter
) -> None:
    lake.init_access(["group:platform"])
    descriptor = copy.deepcopy(CUSTOMERS)
    descriptor["outputs"][0]["columns"][2]["mask"] = "sha-256-query-local"
    owner = as_caller(lake, "user:olga", "sales")
    owner.deploy(write_descriptor(descriptor))
    same = [{**ROWS[0], "customer_id": 9}, ROWS[0]]
    owner.port(ADDRESS).write(customers(same))
    snapshot = partner(lake).port(ADDRESS).latest()
    first, second = snapshot.to_arrow().column("email").to_pylist(), snapshot.to_arrow().column("email").to_pylist()
    assert first[0] == first[1] and second[0] == second[1] and first[0] != second[0]
    assert "ann@gmail.com" not in first


# -- pipelines read their inputs as their product ---------------------------------------------------------

CAMPAIGNS: dict[str, Any] = {
    "apiVersion": "meshlake/v1",
    "domain": "marketing",
    "name": "campaigns",
    "version": "1.0.0",
    "owner": {"team": "marketing", "principals": ["group:marketing"]},
    "inputs": [{"name": "customers", "port": ADDRESS}],
    "outputs": [
        {
            "name": "audience",
            "columns": [
                {"name": "customer_id", "type": "long", "required": True},
                {"name": "email", "type": "string"},
                {"name": "seen_by", "type": "string"},
            ],
        }
    ],
}
CAMPAIGNS_PIPELINE = """
import polars as pl

def build(inputs, context):
    frame = inputs.customers.to_polars().select("customer_id", "email").with_columns(seen_by=pl.lit("polars"))
    sql = inputs.duckdb().sql("SELECT customer_id, email, 'duckdb' AS seen_by FROM customers").to_arrow_table()
    return {"audience": pl.concat([frame.collect(), pl.from_arrow(sql)]).to_arrow()}
"""


def test_a_pipeline_reads_its_inputs_masked_and_filtered_as_its_product(governed: ml.Lake, tmp_path: Path) -> None:
    marketing = as_caller(governed, "user:mo", "marketing")
    path = make_product(tmp_path / "products" / "campaigns", copy.deepcopy(CAMPAIGNS), CAMPAIGNS_PIPELINE)
    marketing.deploy(path)

    marketing.run(path)

    audience = marketing.port("marketing.campaigns.audience").latest().to_arrow().to_pylist()
    for engine in ("polars", "duckdb"):
        seen = sorted((r["customer_id"], r["email"]) for r in audience if r["seen_by"] == engine)
        assert seen == [(1, "xxx@xxxxx.xxx"), (3, None)], engine


def test_a_pipeline_whose_product_is_not_granted_stops_before_it_runs(governed: ml.Lake, tmp_path: Path) -> None:
    descriptor = copy.deepcopy(CAMPAIGNS) | {"domain": "finance", "name": "audit"}
    descriptor["owner"]["principals"] = ["group:finance"]
    source = CAMPAIGNS_PIPELINE.replace(
        "def build(inputs, context):", "def build(inputs, context):\n    raise SystemExit"
    )
    finance = as_caller(governed, "user:fi", "finance")
    path = make_product(tmp_path / "products" / "audit", descriptor, source)
    finance.deploy(path)
    with pytest.raises(AccessDeniedError) as denied:
        finance.run(path)
    assert (denied.value.principal, denied.value.address) == ("product:finance.audit", ADDRESS)


# -- quality: samples in the history, checks, quarantine reviews -------------------------------------------

BAD = [
    {"customer_id": 7, "region": "mars", "email": "zed@mars.io", "card": "6011-0000-0000-0007",
     "born_on": date(2015, 5, 5), "phone": "+33 1 00 00 00 00"},
]  # fmt: skip


@pytest.fixture
def quarantined(governed: ml.Lake) -> str:
    """A write of BAD stopped by the gate (region not in the set, born_on too late); its branch."""
    with pytest.raises(QualityGateError) as stopped:
        as_caller(governed, "user:olga", "sales").port(ADDRESS).write(customers(BAD), run_id="badrun")
    assert stopped.value.quarantine_branch is not None
    return stopped.value.quarantine_branch


def _samples(results: Any) -> list[dict[str, Any]]:
    return [row for result in results for row in result.sample]


def test_the_quality_history_keeps_samples_of_masked_columns_masked(governed: ml.Lake, quarantined: str) -> None:
    history = read_results(governed.catalog, address=ADDRESS)
    text = json.dumps(history, default=str)
    assert "zed@mars.io" not in text and "6011-0000-0000-0007" not in text and "+33 1" not in text
    assert "2015-05-05" not in text  # neither in the sample nor as the observed maximum
    samples = [json.loads(row["sample"]) for row in history if row["sample"]]
    assert {"customer_id": 7, "region": "mars", "email": "xxx@xxxx.xx", "card": "nnnn-nnnn-nnnn-0007",
            "born_on": "2015-01-01", "phone": "XXXXXXXX"} in [row for sample in samples for row in sample]  # fmt: skip


def test_the_owner_reviews_a_quarantined_write_unmasked(governed: ml.Lake, quarantined: str) -> None:
    review = as_caller(governed, "user:olga", "sales").port(ADDRESS).quarantine().show(quarantined)
    assert {row["email"] for row in _samples(review.failed)} == {"zed@mars.io"}


def test_a_masked_reader_reviews_a_quarantined_write_masked(governed: ml.Lake, quarantined: str) -> None:
    review = partner(governed).port(ADDRESS).quarantine().show(quarantined)
    samples = _samples(review.failed)
    assert samples and {row["email"] for row in samples} == {"xxx@xxxx.xx"}
    assert {row["born_on"] for row in samples} == {date(2015, 1, 1)}
    assert all(r.observed_value is None for r in review.results if r.kwargs.get("column") == "born_on")


@pytest.mark.parametrize("call", ["show", "list", "check"])
def test_a_row_filtered_reader_may_not_review_quality_over_rows_it_cannot_see(
    governed: ml.Lake, quarantined: str, call: str
) -> None:
    port = analyst(governed).port(ADDRESS)
    with pytest.raises(AccessDeniedError, match="filtered"):
        if call == "show":
            port.quarantine().show(quarantined)
        elif call == "list":
            port.quarantine()
        else:
            port.check()


def test_checks_return_samples_as_the_caller_may_see_them_and_record_them_masked(
    governed: ml.Lake, quarantined: str
) -> None:
    owner = as_caller(governed, "user:olga", "sales").port(ADDRESS)
    owner.quarantine().release(quarantined, force=True, reason="reviewed")  # the bad row is on main now

    by_partner = partner(governed).port(ADDRESS).check(run_id="partnercheck")
    by_owner = owner.check(run_id="ownercheck")

    assert {row["email"] for row in _samples(by_partner.failed)} == {"xxx@xxxx.xx"}
    assert {row["email"] for row in _samples(by_owner.failed)} == {"zed@mars.io"}
    recorded = [row for row in read_results(governed.catalog, address=ADDRESS) if row["sample"]]
    assert {row["run_id"] for row in recorded} >= {"partnercheck", "ownercheck"}
    assert "zed@mars.io" not in json.dumps(recorded, default=str)


def test_cli_quarantine_show_masks_failing_rows_for_the_caller(
    governed: ml.Lake, quarantined: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "meshlake.yaml"
    config.write_text(f"home: {governed.settings.home}\n")
    monkeypatch.setenv("MESHLAKE_PRINCIPAL", "user:pat")
    monkeypatch.setenv("MESHLAKE_GROUPS", "partners")
    shown = run_cli(f"--config={config}", "quarantine", "show", ADDRESS, quarantined)
    assert shown.exit_code == 0, shown.output
    assert "xxx@xxxx.xx" in shown.output and "zed@mars.io" not in shown.output

    monkeypatch.setenv("MESHLAKE_PRINCIPAL", "user:eve")
    monkeypatch.delenv("MESHLAKE_GROUPS")
    refused = run_cli(f"--config={config}", "quarantine", "show", ADDRESS, quarantined)
    assert refused.exit_code == 1 and "user:eve may not" in refused.output and "zed@mars.io" not in refused.output


def test_a_lake_without_a_policy_records_samples_as_before(lake: ml.Lake, write_descriptor: DescriptorWriter) -> None:
    lake.deploy(write_descriptor(copy.deepcopy(CUSTOMERS)))
    with pytest.raises(QualityGateError):
        lake.port(ADDRESS).write(customers(BAD))
    assert "zed@mars.io" in json.dumps(read_results(lake.catalog, address=ADDRESS), default=str)
