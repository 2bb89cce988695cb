"""History, snapshots by id / tag / branch / time, tags and rollback."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pyarrow as pa
import pytest

import meshlake as ml
from meshlake.errors import InvalidNameError, QualityGateError, SnapshotNotFoundError
from tests.conftest import DescriptorWriter, main_snapshot_id
from tests.test_write import shipments


def ids_of(snapshot: Any) -> list[str]:
    return sorted(snapshot.to_arrow()["shipment_id"].to_pylist())


@pytest.fixture
def three_writes(port: Any) -> list[int]:
    """Three published snapshots: append a, append b, overwrite with c."""
    made = []
    for data, mode in (
        (shipments(["a"]), "append"),
        (shipments(["b"]), "append"),
        (shipments(["c"]), "overwrite"),
    ):
        made.append(port.write(data, mode=mode).snapshot_id)
        time.sleep(0.01)
    return made


def test_history_has_one_row_per_snapshot_with_stamps(port: Any, three_writes: list[int]) -> None:
    history = port.history()
    assert [h.snapshot_id for h in history] == three_writes
    assert [h.parent_id for h in history] == [None, three_writes[0], three_writes[1]]
    assert [h.operation for h in history] == ["append", "append", "overwrite"]
    assert [(h.rows_added, h.rows_removed, h.rows_total) for h in history] == [
        (1, 0, 1),
        (1, 0, 2),
        (1, 2, 1),
    ]
    assert all(h.committed_at.tzinfo is not None for h in history)
    assert history[0].product_version == "1.4.0"
    assert history[2].mode == "overwrite"
    assert history[0].inputs == {}
    table = history.to_arrow()
    assert table.num_rows == 3 and table["snapshot_id"].to_pylist() == three_writes


def test_at_snapshot_id_reads_that_snapshot(port: Any, three_writes: list[int]) -> None:
    assert ids_of(port.at(three_writes[0])) == ["a"]
    assert ids_of(port.at(three_writes[1])) == ["a", "b"]
    assert ids_of(port.at(str(three_writes[2]))) == ["c"]
    assert ids_of(port.latest()) == ["c"]


def test_snapshot_handles_are_immutable_and_pinned(port: Any, three_writes: list[int]) -> None:
    old = port.at(three_writes[0])
    port.write(shipments(["z"]))
    assert ids_of(old) == ["a"]
    with pytest.raises(AttributeError):
        old.snapshot = None  # type: ignore[misc]
    assert old.snapshot_id == three_writes[0]
    assert old.committed_at is not None and old.committed_at.tzinfo is not None


def test_as_of_reads_what_was_published_at_that_instant(port: Any, three_writes: list[int]) -> None:
    history = port.history()
    middle = history[1].committed_at + timedelta(milliseconds=1)
    assert port.as_of(middle).snapshot_id == three_writes[1]
    assert port.at(middle.isoformat()).snapshot_id == three_writes[1]
    assert port.as_of(datetime.now(UTC) + timedelta(days=1)).snapshot_id == three_writes[2]


def test_a_naive_datetime_is_refused(port: Any, three_writes: list[int]) -> None:
    with pytest.raises(InvalidNameError):
        port.as_of(datetime(2026, 11, 1))


def test_a_time_before_the_first_write_names_what_exists(port: Any, three_writes: list[int]) -> None:
    with pytest.raises(SnapshotNotFoundError) as caught:
        port.as_of(datetime(2000, 1, 1, tzinfo=UTC))
    assert "3 published snapshot" in str(caught.value)
    assert caught.value.address == "logistics.shipments.daily"


def test_unknown_tag_names_the_tags_that_exist(port: Any, three_writes: list[int]) -> None:
    port.tag("v1.0.0", snapshot=three_writes[0])
    with pytest.raises(SnapshotNotFoundError) as caught:
        port.at("v9.9.9")
    assert "v1.0.0" in caught.value.exists
    assert caught.value.ref == "v9.9.9"


def test_tags_pin_a_snapshot(port: Any, three_writes: list[int]) -> None:
    port.tag("v1.0.0", snapshot=three_writes[1])
    port.tag("latest-release")
    assert ids_of(port.at("v1.0.0")) == ["a", "b"]
    assert port.at("latest-release").snapshot_id == three_writes[2]
    assert port.history()[1].tags == ("v1.0.0",)
    port.tag("v1.0.0", snapshot=three_writes[1])  # same tag, same snapshot: fine
    with pytest.raises(InvalidNameError):
        port.tag("v1.0.0", snapshot=three_writes[0])  # tags do not move
    with pytest.raises(InvalidNameError):
        port.tag("meshlake-quarantine-x")


def test_rollback_moves_main_back(port: Any, three_writes: list[int]) -> None:
    port.tag("v1.1.0", snapshot=three_writes[1])
    port.rollback(to="v1.1.0")
    assert main_snapshot_id(port) == three_writes[1]
    assert ids_of(port.latest()) == ["a", "b"]
    assert [h.snapshot_id for h in port.history()] == three_writes[:2]
    assert ids_of(port.at(three_writes[2])) == ["c"], "rolled-back snapshots stay readable by id"


def test_a_rollback_can_be_undone_by_rolling_forward_to_a_later_tag(port: Any, three_writes: list[int]) -> None:
    port.tag("v1", snapshot=three_writes[2])
    port.rollback(to=three_writes[0])
    assert not port.is_on_main("v1")

    port.rollback(to="v1")

    assert main_snapshot_id(port) == three_writes[2]
    assert ids_of(port.latest()) == ["c"]
    assert [h.snapshot_id for h in port.history()] == three_writes
    moves = port.history().moves
    assert [(m.from_snapshot_id, m.to_snapshot_id, m.direction) for m in moves] == [
        (three_writes[2], three_writes[0], "back"),
        (three_writes[0], three_writes[2], "forward"),
    ]
    assert moves[0].moved_at <= moves[1].moved_at
    assert port.lake.sql("SELECT shipment_id FROM logistics.shipments.daily").fetchall() == [("c",)]


def test_main_never_moves_to_a_snapshot_that_was_not_published(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    descriptor["outputs"][0]["expectations"] = [
        {"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 50}}
    ]
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    published = port.write(shipments(["a"])).snapshot_id
    with pytest.raises(QualityGateError):
        port.write(shipments(["b"], weight=99.0))
    quarantined = port.quarantine()[0].snapshot_id

    with pytest.raises(SnapshotNotFoundError):
        port.rollback(to=quarantined)
    with pytest.raises(SnapshotNotFoundError):
        port.rollback(to=port.quarantine()[0].branch)

    assert main_snapshot_id(port) == published and port.history().moves == ()


def test_a_snapshot_reads_with_the_schema_of_its_time(
    lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter
) -> None:
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    first = port.write(shipments(["a"])).snapshot_id
    descriptor["version"] = "1.5.0"
    descriptor["outputs"][0]["columns"].append({"name": "channel", "type": "string"})
    lake.deploy(write_descriptor(descriptor))
    port = lake.port("logistics.shipments.daily")
    port.write(shipments(["b"]).append_column("channel", pa.array(["web"])))
    old = port.at(first)
    assert "channel" not in old.to_arrow().column_names
    assert "channel" not in [f.name for f in old.schema.fields]
    latest = port.latest().to_arrow().sort_by("shipment_id")
    assert latest["channel"].to_pylist() == [None, "web"]


def test_polars_and_pandas_read_the_same_rows(port: Any, three_writes: list[int]) -> None:
    snapshot = port.at(three_writes[1])
    assert sorted(snapshot.to_polars().collect()["shipment_id"].to_list()) == ["a", "b"]
    assert sorted(snapshot.to_pandas()["shipment_id"].tolist()) == ["a", "b"]


def test_lake_read_takes_an_address_with_a_ref(shipments: ml.Lake, port: Any, three_writes: list[int]) -> None:
    port.tag("v1", snapshot=three_writes[0])
    assert ids_of(shipments.read("logistics.shipments.daily@v1")) == ["a"]
    assert ids_of(shipments.read(f"logistics.shipments.daily@{three_writes[1]}")) == ["a", "b"]
    assert ids_of(shipments.read("logistics.shipments.daily")) == ["c"]


def test_history_shows_tags_made_after_it_was_last_read(port: Any, three_writes: list[int]) -> None:
    assert [h.tags for h in port.history()] == [(), (), ()]
    port.tag("v1", snapshot=three_writes[0])
    port.tag("v0", snapshot=three_writes[0])
    assert [h.tags for h in port.history()] == [("v0", "v1"), (), ()]


@pytest.mark.parametrize(
    ("stamp", "verdict"),
    [
        ('{"verdict":"passed","engine":"native","expectations":2,"failed":[]}', "passed"),
        ('{"verdict":"failed","engine":"native","expectations":2,"failed":["x"]}', "failed"),
        ('{"engine":"gx","verdict":"passed"}', "passed"),
        ('{"verdict":"passed",', '{"verdict":"passed",'),
        ("not json", "not json"),
        ('{"no":"verdict"}', None),
    ],
)
def test_history_reads_the_verdict_of_any_quality_stamp(stamp: str, verdict: str | None) -> None:
    from pyiceberg.table.snapshots import Operation, Snapshot, Summary

    from meshlake.contract.stamps import read_stamps
    from meshlake.query.history import snapshot_info

    snapshot = Snapshot(
        snapshot_id=1,
        manifest_list="file:///nowhere/snap-1.avro",
        summary=Summary(Operation.APPEND, **{"meshlake.quality": stamp}),
    )
    decoded = read_stamps({"meshlake.quality": stamp})["quality"]
    expected = decoded.get("verdict") if isinstance(decoded, dict) else decoded
    assert snapshot_info(snapshot).quality == verdict == expected
