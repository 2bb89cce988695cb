"""Writers SIGKILLed at every phase of a write, on each catalog, while a reader polls the port: no read is
ever torn, no acknowledged commit is lost, the table always loads, and maintenance then finds and removes
exactly the files the dead writers left behind. Appenders, and merge-on-read and copy-on-write upserters and
deleters (writers × modes × kills): after every kill the port holds exactly the rows its committed writes say,
read alike by DuckDB and Polars, and every pending delete file exists and references a live data file.

A few kills per catalog here; `python -m benchmarks.bench_reliability` makes well over a hundred.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.crash import crash_run
from tests.integration.conftest import BackendLake, backend_lake

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# One kill at each phase boundary of a port write, and two at random instants. Each write passes every
# phase twice (the port, then its quality verdict), so the 3rd time is the second write's port phase.
SCHEDULE = ["files:3", "checked:3", "commit:3", "committed:1", None, None]
# A merge-on-read upserter and deleter killed at each phase, then copy-on-write ones and an appender at random.
ROW_CHANGERS = ("upsert:merge-on-read", "delete:merge-on-read")
ROW_CHANGE_SCHEDULE = ["files:3", "checked:3", "commit:3", "committed:1", "commit:1", "committed:3", None, None]
ROW_CHANGE_ROLES = [*ROW_CHANGERS, *ROW_CHANGERS, *ROW_CHANGERS, "upsert:copy-on-write", "append"]


def test_killed_writers_never_tear_a_read_lose_a_commit_or_leave_unlisted_files(
    any_catalog: BackendLake, tmp_path: Path
) -> None:
    any_catalog.deploy()
    run = crash_run(
        any_catalog.settings,
        any_catalog.address,
        tmp_path / "crash",
        kills=len(SCHEDULE),
        rng=random.Random(6),
        schedule=SCHEDULE,
        product=f"{any_catalog.domain}.shipments",
    )
    print(any_catalog.name, run.summary())

    assert [kill["how"] for kill in run.kills] == ["exact"] * 4 + ["random"] * 2
    assert [(kill["last_phase"], kill["last_table"]) for kill in run.kills[:4]] == [
        ("files", any_catalog.address),  # the 2nd write's files, before its gate
        ("checked", any_catalog.address),
        ("commit", any_catalog.address),
        ("committed", any_catalog.address),  # committed, not acknowledged
    ]
    assert run.reads > 0
    assert run.snapshots_seen >= 2, "the reader should have seen the port change"
    assert run.acknowledged, "writers should have committed between the kills"
    assert run.torn_reads == []
    assert run.lost_commits == []
    assert run.duplicates == []
    assert run.unknown_rows == []
    assert run.load_failures == []
    assert run.read_errors == []
    assert run.maintain_errors == []
    assert run.orphans_found > 0, "writers killed after writing files leave orphans to find"
    assert run.orphans_removed == run.orphans_found
    assert run.orphans_left == 0
    assert run.rows_after_cleanup == run.final_rows  # no live file was removed


@pytest.fixture(params=["sqlite-local", "rest-s3"])
def row_change_lake(request: pytest.FixtureRequest, tmp_path: Path) -> BackendLake:
    """The embedded lake, and the REST catalog on S3 (delete files on object storage): merge-on-read's commit
    checks are the same on every catalog, and the append test above covers the catalogs' commit paths."""
    return backend_lake(request, request.param, tmp_path)


def test_killed_merge_on_read_writers_never_lose_resurrect_or_dangle_rows(
    row_change_lake: BackendLake, tmp_path: Path
) -> None:
    row_change_lake.deploy()
    run = crash_run(
        row_change_lake.settings,
        row_change_lake.address,
        tmp_path / "crash",
        kills=len(ROW_CHANGE_SCHEDULE),
        rng=random.Random(18),
        schedule=ROW_CHANGE_SCHEDULE,
        product=f"{row_change_lake.domain}.shipments",
        roles=ROW_CHANGE_ROLES,
        random_delay=(0.3, 1.0),
    )
    print(row_change_lake.name, run.summary())

    assert [kill["role"] for kill in run.kills] == ROW_CHANGE_ROLES
    assert [kill["how"] for kill in run.kills] == ["exact"] * 6 + ["random"] * 2
    assert [kill["last_phase"] for kill in run.kills[:6]] == [p.partition(":")[0] for p in ROW_CHANGE_SCHEDULE[:6]]
    assert {kill["last_table"] for kill in run.kills[:6]} == {row_change_lake.address}
    assert run.acknowledged, "writers should have committed between the kills"
    # The seed, every acknowledged write, and the two writes killed after their commit (not acknowledged).
    assert run.committed_snapshots >= 1 + len(run.acknowledged) + 2
    assert run.delete_files > 0, "merge-on-read writes should leave pending delete files"
    assert run.lost_commits == []
    assert run.lost_rows == []
    assert run.resurrected_rows == []
    assert run.unknown_rows == []
    assert run.unknown_commits == []
    assert run.duplicates == []
    assert run.dangling_deletes == []
    assert run.engine_mismatches == []
    assert run.torn_reads == []
    assert run.load_failures == []
    assert run.read_errors == []
    assert run.maintain_errors == []
    assert run.orphans_removed == run.orphans_found
    assert run.orphans_left == 0
    assert run.rows_after_cleanup == run.final_rows
