"""The gate trusts only stamps bound to their snapshot's files: another engine's snapshot is foreign.

Another engine (here pyiceberg's own `append`) can write any snapshot property, including a copy of
meshlake's `meshlake.quality` stamp with a matching row count. Such a snapshot has no valid `meshlake.digest`:
the next gated append checks the port in full (and finds the duplicates), and history, describe and slo show
the snapshot as foreign.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.io.pyarrow import schema_to_pyarrow

import meshlake as ml
from meshlake.contract.stamps import DIGEST, QUALITY
from meshlake.errors import InvalidNameError, QualityGateError
from meshlake.query import history as history_module
from meshlake.query.provenance import _CACHE, provenance
from tests.conftest import DescriptorWriter, main_snapshot_id


def _rows(ids: list[str]) -> pa.Table:
    return pa.table(
        {
            "shipment_id": ids,
            "shipped_at": pa.array([datetime(2026, 11, 1, tzinfo=UTC)] * len(ids), pa.timestamp("us", tz="UTC")),
            "weight_kg": [1.0] * len(ids),
        }
    )


@pytest.fixture
def unique_port(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    descriptor["outputs"][0]["expectations"] = [{"expect_column_values_to_be_unique": {"column": "shipment_id"}}]
    lake.deploy(write_descriptor(descriptor))
    return lake.port("logistics.shipments.daily")


def _foreign_append(port: Any, ids: list[str], properties: dict[str, str]) -> None:
    """Append rows with pyiceberg itself (no gate), with the snapshot properties another engine chose."""
    table = port.table()
    data = _rows(ids).append_column("customer_email", pa.array([None] * len(ids), pa.string()))
    table.append(data.cast(schema_to_pyarrow(table.schema(), include_field_ids=False)), snapshot_properties=properties)


def _forged_copy(port: Any) -> dict[str, str]:
    """The head's meshlake stamps, with the row count a forger would set for the table after its append."""
    head = port.table().metadata.snapshot_by_name("main")
    return {k: v for k, v in head.summary.additional_properties.items() if k.startswith("meshlake.")}


def test_a_forged_quality_stamp_does_not_let_duplicates_past_the_next_gate(unique_port: Any) -> None:
    unique_port.write(_rows([f"s{i}" for i in range(50)]))
    forged = _forged_copy(unique_port)
    stamp = forged[QUALITY].replace('"rows":50', '"rows":110')
    assert stamp != forged[QUALITY]
    _foreign_append(unique_port, [f"s{i}" for i in range(60)], forged | {QUALITY: stamp})  # 50 ids repeated
    head = main_snapshot_id(unique_port)

    with pytest.raises(QualityGateError) as raised:
        unique_port.write(_rows(["new-1"]))

    unique = raised.value.report.results[0]
    assert unique.method == "full"
    assert unique.unexpected_count == 100  # both rows of each of the 50 ids the foreign append repeated
    assert main_snapshot_id(unique_port) == head


def test_a_foreign_snapshot_is_shown_in_history_describe_and_slo(unique_port: Any, lake: ml.Lake) -> None:
    unique_port.write(_rows(["a", "b"]))
    _foreign_append(unique_port, ["c"], {})
    _CACHE.clear()  # a fresh process: nothing known about any snapshot
    history_module._INFOS.clear()

    history = unique_port.history()
    assert [e.foreign for e in history] == [False, True]
    assert history[-1].foreign_reason is not None
    info = lake.product("logistics.shipments").describe().ports[0]
    assert (info.foreign_snapshots, info.rows) == (1, 3)
    checks = {c.objective: c for c in unique_port.slo().checks}
    assert checks["provenance"].status == "violated"
    assert checks["provenance"].observed == 1


def test_a_stamp_copied_with_its_digest_does_not_match_the_new_files(unique_port: Any) -> None:
    unique_port.write(_rows(["a", "b"]))
    copied = _forged_copy(unique_port)
    assert DIGEST in copied
    _foreign_append(unique_port, ["c"], copied)
    _CACHE.clear()
    history_module._INFOS.clear()
    table = unique_port.table()
    head = table.metadata.snapshot_by_name("main")

    found = provenance(str(table.metadata.table_uuid), head, table.io)

    assert found.foreign
    assert "does not match" in (found.reason or "")


def test_meshlake_snapshots_verify_from_their_manifests_in_a_fresh_process(unique_port: Any) -> None:
    unique_port.write(_rows(["a", "b"]))
    unique_port.write(_rows(["c"]))
    unique_port.write(_rows(["d"]), mode="overwrite")
    unique_port.delete("shipment_id = 'd'")
    _CACHE.clear()
    history_module._INFOS.clear()

    assert [e.foreign for e in unique_port.history()] == [False, False, False, False]


def test_after_a_foreign_snapshot_the_next_appends_are_incremental_again(unique_port: Any) -> None:
    unique_port.write(_rows(["a", "b"]))
    _foreign_append(unique_port, ["c"], {})
    checked_in_full = unique_port.write(_rows(["d"]))
    following = unique_port.write(_rows(["e"]))

    assert checked_in_full.quality.results[0].method == "full"
    assert following.quality.results[0].method == "incremental"


@pytest.mark.parametrize("key", ["quality", "meshlake.quality", "meshlake.ticket", "digest", "run-id", ""])
def test_write_refuses_extra_stamps_in_meshlakes_namespace(unique_port: Any, key: str) -> None:
    unique_port.write(_rows(["a"]))
    head = main_snapshot_id(unique_port)

    with pytest.raises(InvalidNameError) as raised:
        unique_port.write(_rows(["b"]), stamps={key: '{"verdict":"passed"}'})

    assert raised.value.name == key
    assert main_snapshot_id(unique_port) == head


def test_write_keeps_a_callers_own_extra_stamp_under_the_prefix(unique_port: Any) -> None:
    result = unique_port.write(_rows(["a"]), stamps={"ticket": "OPS-1"})
    snapshot = unique_port.table().metadata.snapshot_by_id(result.snapshot_id)

    assert snapshot.summary.additional_properties["meshlake.ticket"] == "OPS-1"
    assert not unique_port.history()[-1].foreign


def test_snapshots_whose_manifests_were_merged_still_verify(unique_port: Any) -> None:
    table = unique_port.table()
    table.transaction().set_properties({"commit.manifest.min-count-to-merge": "2"}).commit_transaction()
    for i in range(6):
        unique_port.write(_rows([f"m{i}"]))
    _CACHE.clear()
    history_module._INFOS.clear()

    history = unique_port.history()

    assert len(history) == 6
    assert [e.foreign for e in history] == [False] * 6


def test_history_verifies_the_newest_snapshots_and_judges_older_ones_by_their_summary(
    unique_port: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(history_module, "VERIFY_DEPTH", 1)
    unique_port.write(_rows(["a"]))
    _foreign_append(unique_port, ["b"], {})
    unique_port.write(_rows(["c"]))
    _CACHE.clear()
    history_module._INFOS.clear()

    found = [e.foreign for e in unique_port.history()]

    assert found == [None, True, False]  # not verified (has a digest), foreign (has none), verified
