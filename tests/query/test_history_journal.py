"""The history journal (`meshlake.query.history_journal`): history in a new process from the rows each commit
appended, identical to history read from the metadata file, and the metadata file read again whenever the journal
is torn, truncated, damaged, stale or off.

A new process is stood for by emptying the process's caches (parsed metadata, verified snapshots, history rows);
the slow path it is compared with is the same history with meshlake's cache off (`MESHLAKE_CACHE_DIR=off`: no read
view, no journal, the metadata file read).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pytest
from pyiceberg.io.pyarrow import schema_to_pyarrow
from pyiceberg.table.update import RemoveSnapshotsUpdate

import meshlake as ml
from meshlake.catalog.disk_cache import cache_folder
from meshlake.catalog.loading import is_complete
from meshlake.catalog.sql_catalog import forget_parsed_metadata
from meshlake.errors import QualityGateError
from meshlake.query import history as history_module
from meshlake.query import provenance as provenance_module
from meshlake.query.history_journal import journal_path, read_journal
from tests.conftest import DescriptorWriter
from tests.test_write import shipments

ADDRESS = "logistics.shipments.daily"


@pytest.fixture
def gated(lake: ml.Lake, descriptor: dict[str, Any], write_descriptor: DescriptorWriter) -> Any:
    """The shipments port, refusing weights over 50 kg (a refused write goes to a quarantine branch)."""
    descriptor["outputs"][0]["expectations"] = [
        {"expect_column_values_to_be_between": {"column": "weight_kg", "min_value": 0, "max_value": 50}}
    ]
    lake.deploy(write_descriptor(descriptor))
    return lake.port(ADDRESS)


def _new_process(tmp_path: Path) -> Any:
    """The port as a new process opens it: nothing parsed, verified or shown yet."""
    forget_parsed_metadata()
    provenance_module._CACHE.clear()
    history_module._INFOS.clear()
    return ml.connect(home=str(tmp_path / ".meshlake")).port(ADDRESS)


def _slow_history(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[list[dict[str, Any]], Any]:
    """History as read from the metadata file (no read view, no journal), in a new process."""
    with monkeypatch.context() as patch:
        patch.setenv("MESHLAKE_CACHE_DIR", "off")
        found = _new_process(tmp_path).history()
        return [row.to_dict() for row in found], found.moves


def _foreign_append(port: Any, ids: list[str]) -> None:
    """Another engine's append (pyiceberg's own, without meshlake's stamps)."""
    table = port.table()
    data = pa.table(
        {
            "shipment_id": ids,
            "shipped_at": pa.array([datetime(2026, 11, 1, tzinfo=UTC)] * len(ids), pa.timestamp("us", tz="UTC")),
            "weight_kg": [1.0] * len(ids),
            "customer_email": pa.array([None] * len(ids), pa.string()),
        }
    )
    table.append(data.cast(schema_to_pyarrow(table.schema(), include_field_ids=False)))


def _journal_file(port: Any) -> Path:
    table = port.table()
    folder = cache_folder("history")
    assert folder is not None
    return journal_path(folder, str(table.metadata.table_uuid), table.metadata_location)


def _written(port: Any) -> list[int]:
    """Appends, a tag, a quarantined write (a branch), a foreign append, rollbacks back and forward, an overwrite."""
    made = []
    for name in ("a", "b", "c"):
        made.append(port.write(shipments([name])).snapshot_id)
        time.sleep(0.002)
    port.tag("v1", made[0])
    with pytest.raises(QualityGateError):
        port.write(shipments(["heavy"], weight=99.0))
    _foreign_append(port, ["f"])
    port.rollback(to=made[1])
    time.sleep(0.002)
    port.rollback(to=port.table().metadata.snapshot_log[-2].snapshot_id)  # forward again, to the foreign append
    made.append(port.write(shipments(["d"]), mode="overwrite").snapshot_id)
    port.tag("v2", made[-1])
    return made


def _metadata_file_blanked(port: Any) -> None:
    """Blank the metadata file (same length): only the read view and the journal can answer."""
    path = Path(port.table().metadata_location.removeprefix("file://"))
    path.write_bytes(b" " * len(path.read_bytes()))


def test_history_in_a_new_process_is_read_from_the_journal_and_is_the_metadata_files(
    tmp_path: Path, gated: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _written(gated)
    slow, slow_moves = _slow_history(tmp_path, monkeypatch)
    assert [row["foreign"] for row in slow] == [False, False, False, True, False]
    assert len(slow_moves) == 2 and any(row["tags"] for row in slow)
    assert any(branch.startswith("meshlake-quarantine-") for branch in gated.table().metadata.refs)

    _metadata_file_blanked(gated)  # history must not need it
    reader = _new_process(tmp_path)
    found = reader.history()

    assert [row.to_dict() for row in found] == slow
    assert found.moves == slow_moves
    assert found[-1].to_dict() == slow[-1] and [row.to_dict() for row in found[1:3]] == slow[1:3]
    assert found.to_arrow().to_pylist() == history_module.History(list(found), found.moves).to_arrow().to_pylist()
    assert not is_complete(reader.table().metadata)


def test_describe_and_slo_in_a_new_process_see_the_foreign_snapshot_through_the_journal(
    tmp_path: Path, gated: Any, lake: ml.Lake
) -> None:
    gated.write(shipments(["a", "b"]))
    _foreign_append(gated, ["c"])
    _metadata_file_blanked(gated)

    reader = _new_process(tmp_path)
    info = ml.connect(home=str(tmp_path / ".meshlake")).product("logistics.shipments").describe().ports[0]

    assert (info.foreign_snapshots, info.rows) == (1, 3)
    assert {c.objective: c for c in reader.slo().checks}["provenance"].observed == 1


def test_history_after_snapshots_expired_is_the_metadata_files(
    tmp_path: Path, gated: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    made = _written(gated)
    table = gated.table()
    table.catalog.commit_table(table, (), (RemoveSnapshotsUpdate(snapshot_ids=[made[1]]),))  # rewrites the journal
    slow, slow_moves = _slow_history(tmp_path, monkeypatch)

    _metadata_file_blanked(gated)
    found = _new_process(tmp_path).history()

    assert made[1] not in [row.snapshot_id for row in found]
    assert [row.to_dict() for row in found] == slow and found.moves == slow_moves


def test_a_commit_extends_the_journal_without_rewriting_it(gated: Any) -> None:
    gated.write(shipments(["a"]))
    journal = _journal_file(gated)
    before = journal.read_bytes()

    gated.write(shipments(["b"]))
    gated.tag("v1")

    after = journal.read_bytes()
    kept = before[: before.rindex(b'["@"')]  # all but the marker, which the next commit writes over
    assert after.startswith(kept) and after.count(b'["@"') == 1 and len(after) > len(before)
    table = gated.table()
    read = read_journal(str(table.metadata.table_uuid), table.metadata_location, _length(table), _updated(table))
    assert read.snapshots is not None and [row[0] for row in read.snapshots] == [
        s.snapshot_id for s in table.metadata.snapshots
    ]


def _length(table: Any) -> int:
    return len(Path(table.metadata_location.removeprefix("file://")).read_bytes())


def _updated(table: Any) -> int:
    return int(table.metadata.last_updated_ms)


def _torn(data: bytes) -> bytes:
    return data[:-7]


def _truncated(data: bytes) -> bytes:
    """Cut at a line: the last row and the marker gone."""
    return b"".join(data.splitlines(keepends=True)[:-2])


def _tampered(data: bytes) -> bytes:
    """A row's rows added changed (the CRC no longer matches)."""
    return data.replace(b',"append",1,', b',"append",7,', 1)


def _other_table(data: bytes) -> bytes:
    rest = data.split(b"\n", 1)[1]
    return b'{"journal":1,"table-uuid":"00000000-0000-0000-0000-000000000000"}\n' + rest


@pytest.mark.parametrize(
    "damage",
    [_torn, _truncated, _tampered, _other_table, lambda data: b"", lambda data: b"not json\n"],
    ids=["torn", "truncated", "tampered", "other-table", "empty", "not-json"],
)
def test_a_damaged_journal_is_ignored_history_reads_the_metadata_file_and_writes_it_again(
    tmp_path: Path, gated: Any, monkeypatch: pytest.MonkeyPatch, damage: Any
) -> None:
    _written(gated)
    slow, slow_moves = _slow_history(tmp_path, monkeypatch)
    journal = _journal_file(gated)
    journal.write_bytes(damage(journal.read_bytes()))

    found = _new_process(tmp_path).history()

    assert [row.to_dict() for row in found] == slow and found.moves == slow_moves
    table = gated.table()
    rewritten = read_journal(str(table.metadata.table_uuid), table.metadata_location, _length(table), _updated(table))
    assert rewritten.snapshots is not None, "the journal was not written again"
    _metadata_file_blanked(gated)
    assert [row.to_dict() for row in _new_process(tmp_path).history()] == slow


def test_a_stale_journal_is_ignored(tmp_path: Path, gated: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    gated.write(shipments(["a"]))
    journal = _journal_file(gated)
    stale = journal.read_bytes()
    gated.write(shipments(["b"]))
    journal.write_bytes(stale)  # the journal of the metadata file before
    slow, _ = _slow_history(tmp_path, monkeypatch)

    found = _new_process(tmp_path).history()

    assert [row.to_dict() for row in found] == slow and len(found) == 2


def test_a_row_whose_writer_is_not_known_is_verified_from_its_files(
    tmp_path: Path, gated: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A journal written by a process that did not know who wrote the newest snapshots makes history verify them
    from their manifests, as without the journal (and the journal is written again with what it found)."""
    gated.write(shipments(["a"]))
    gated.write(shipments(["b"]))
    _journal_file(gated).unlink()
    provenance_module._CACHE.clear()
    gated.tag("v1")  # the journal is written whole, by a process that knows no verdict now
    table = gated.table()
    written = read_journal(str(table.metadata.table_uuid), table.metadata_location, _length(table), _updated(table))
    assert written.snapshots is not None and [row[15] for row in written.snapshots] == [None, None]
    slow, _ = _slow_history(tmp_path, monkeypatch)

    found = _new_process(tmp_path).history()

    assert [row.foreign for row in found] == [False, False]
    assert [row.to_dict() for row in found] == slow
    again = read_journal(str(table.metadata.table_uuid), table.metadata_location, _length(table), _updated(table))
    assert again.snapshots is not None and [row[15] for row in again.snapshots] == [True, True]


def test_with_the_cache_off_no_journal_is_kept(tmp_path: Path, gated: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = cache_folder("history")
    monkeypatch.setenv("MESHLAKE_CACHE_DIR", "off")
    gated.write(shipments(["a"]))
    gated.write(shipments(["b"]))

    found = _new_process(tmp_path).history()

    assert [row.rows_total for row in found] == [1, 2]
    assert folder is not None and not folder.exists()
