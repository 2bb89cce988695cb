"""Concurrent writer processes on each catalog (SQLite, PostgreSQL, REST): nothing acknowledged is lost,
nothing lands twice, and writes that cannot be published safely fail cleanly.

Kept small for the suite (2 cores); `python -m benchmarks.bench_reliability` runs N ∈ {2, 4, 8} × 25.
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from meshlake.catalog.catalogs import create_namespace_once
from tests.backends import DAY2
from tests.integration.conftest import BackendLake
from tests.writers import run_writers

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_concurrent_appends_land_every_acknowledged_batch_exactly_once(
    any_catalog: BackendLake, tmp_path: Path
) -> None:
    lake = any_catalog.deploy()
    outcomes = run_writers(
        any_catalog.settings, any_catalog.address, [(f"w{i}", "append", 6) for i in range(3)], tmp_path / "barrier"
    )

    assert [o for o in outcomes if not o["ok"]] == []  # an append never fails: it is rebased
    port = lake.port(any_catalog.address)
    found = port.to_arrow()["shipment_id"].to_pylist()
    assert len(found) == len(set(found)), "a batch landed twice"
    assert sorted(found) == sorted(i for o in outcomes for i in o["ids"])
    assert sorted(str(entry.run_id) for entry in port.history()) == sorted(o["run_id"] for o in outcomes)


def test_appenders_a_partition_replacer_and_a_failing_writer_never_lose_a_published_batch(
    any_catalog: BackendLake, tmp_path: Path
) -> None:
    lake = any_catalog.deploy()
    jobs = [("a0", "append", 5), ("a1", "append", 5), ("r0", "replace", 3), ("bad", "bad", 2)]
    outcomes = run_writers(any_catalog.settings, any_catalog.address, jobs, tmp_path / "barrier")
    by_run = {o["run_id"]: o for o in outcomes}

    appends = [o for o in outcomes if o["role"] == "append"]
    assert [(o["run_id"], o["error"]) for o in appends if not o["ok"]] == []
    assert {o["error"] for o in outcomes if o["role"] == "replace" and not o["ok"]} <= {"conflict"}
    assert [o["error"] for o in outcomes if o["role"] == "bad"] == ["gate", "gate"]

    port = lake.port(any_catalog.address)
    history = port.history()
    published = {o["run_id"] for o in outcomes if o["ok"]}
    assert {entry.run_id for entry in history} == published, "main's history is exactly the acknowledged writes"
    # Replay main's history: appends add their rows; a replace swaps every day-2 row for its own.
    expected: set[str] = set()
    for entry in history:
        outcome = by_run[str(entry.run_id)]
        if outcome["role"] == "replace":
            assert day2_ids(port.at(entry.snapshot_id).to_arrow()) == set(outcome["ids"])
            expected = {i for i in expected if not is_day2(i)} | set(outcome["ids"])
        else:
            expected |= set(outcome["ids"])
    found = port.to_arrow()["shipment_id"].to_pylist()
    assert len(found) == len(set(found)), "a batch landed twice"
    assert set(found) == expected
    assert not {i for o in outcomes if o["role"] == "bad" for i in o["ids"]} & set(found)
    assert len(port.quarantine()) == 2


def is_day2(shipment_id: str) -> bool:
    """Appenders alternate days (odd sequence numbers on day 2); the replacer writes day 2 only."""
    writer, seq, _ = shipment_id.split("-")
    return writer.startswith("r") or int(seq) % 2 == 1


def day2_ids(table: pa.Table) -> set[str]:
    return set(table.filter(pc.greater_equal(table["shipped_at"], DAY2))["shipment_id"].to_pylist())


def test_concurrent_creators_of_one_namespace_all_succeed_and_one_creates_it(any_catalog: BackendLake) -> None:
    """pyiceberg's SqlCatalog checks, then inserts: the losers of that race get a unique violation, which
    `create_namespace_once` must take for "exists" (the quality history's first writers race on it)."""
    import meshlake as ml

    namespace = ("race_" + any_catalog.tag, "records")
    catalogs = [ml.connect(**any_catalog.settings).catalog for _ in range(6)]
    start = threading.Barrier(len(catalogs))

    def create(catalog: Any) -> bool:
        start.wait()
        return create_namespace_once(catalog, namespace, {"owner": "race"})

    with ThreadPoolExecutor(len(catalogs)) as pool:
        created = list(pool.map(create, catalogs))
    if any_catalog.backend.catalog == "rest":  # SeaweedFS's REST catalog lets two creators both succeed
        assert created.count(True) >= 1
    else:
        assert created.count(True) == 1
    assert catalogs[0].load_namespace_properties(namespace)["owner"] == "race"
