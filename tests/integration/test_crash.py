"""Writers SIGKILLed at every phase of a write, on each catalog, while a reader polls the port: no read is
ever torn, no acknowledged commit is lost, the table always loads, and maintenance then finds and removes
exactly the files the dead writers left behind.

A few kills per catalog here; `python -m benchmarks.bench_reliability` makes well over a hundred.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from tests.crash import crash_run
from tests.integration.conftest import BackendLake

pytestmark = [pytest.mark.integration, pytest.mark.slow]

# One kill at each phase boundary of a port write, and two at random instants. Each write passes every
# phase twice (the port, then its quality verdict), so the 3rd time is the second write's port phase.
SCHEDULE = ["files:3", "checked:3", "commit:3", "committed:1", None, None]


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
