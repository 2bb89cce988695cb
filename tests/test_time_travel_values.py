"""Absurd time-travel values (out of range, unparsable, infinite) are clear errors naming the value."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from click.testing import CliRunner

import meshlake as ml
from meshlake.errors import MeshlakeError, SnapshotNotFoundError
from meshlake.query.timetravel import TimeTravelError
from tests.test_write import shipments

TABLE = "logistics.shipments.daily"


@pytest.fixture
def written(port: Any) -> Any:
    port.write(shipments(["a", "b"]))
    return port


@pytest.fixture
def shipments_lake(written: Any) -> ml.Lake:
    lake: ml.Lake = written.lake
    return lake


@pytest.mark.parametrize(
    ("at", "says"),
    [
        ("TIMESTAMP => TIMESTAMPTZ '294246-01-01 00:00:00+00'", "outside the instants"),
        ("TIMESTAMP => TIMESTAMPTZ '-100-01-01 00:00:00+00'", "outside the instants"),
        ("TIMESTAMP => TIMESTAMPTZ 'infinity'", "not a finite instant"),
        ("TIMESTAMP => TIMESTAMPTZ 'garbage'", "cannot be evaluated"),
        ("TIMESTAMP => 5", "cannot be evaluated"),
        ("VERSION => no_such_column", "cannot be evaluated"),
    ],
)
def test_an_at_value_out_of_range_or_unparsable_is_a_clear_error_naming_it(
    shipments_lake: ml.Lake, written: Any, at: str, says: str
) -> None:
    with pytest.raises(TimeTravelError) as raised:
        shipments_lake.sql(f"SELECT count(*) FROM {TABLE} AT ({at})").fetchall()

    assert isinstance(raised.value, MeshlakeError) and isinstance(raised.value, ValueError)
    assert f"AT ({at})" in str(raised.value) and says in str(raised.value)


def test_the_last_instant_python_holds_reads_the_published_snapshot(shipments_lake: ml.Lake, written: Any) -> None:
    rows = shipments_lake.sql(f"SELECT count(*) FROM {TABLE} AT (TIMESTAMP => TIMESTAMPTZ '9999-12-31 23:59:59+00')")
    assert rows.fetchall() == [(2,)]


def test_the_cli_prints_an_out_of_range_at_value_as_one_clear_line(shipments_lake: ml.Lake, written: Any) -> None:
    from meshlake.cli import commands  # noqa: F401 - registers commands
    from meshlake.cli.main import cli

    query = f"SELECT count(*) FROM {TABLE} AT (TIMESTAMP => TIMESTAMPTZ '294246-01-01 00:00:00+00')"
    result = CliRunner().invoke(cli, ["sql", query])

    assert result.exit_code == 1
    assert result.stderr.startswith("error: AT (TIMESTAMP => TIMESTAMPTZ '294246-01-01 00:00:00+00') is outside")
    assert len(result.stderr.strip().splitlines()) == 1 and "bug" not in result.stderr


@pytest.mark.parametrize(
    "when",
    [
        datetime.min.replace(tzinfo=UTC),
        datetime.min.replace(tzinfo=timezone(timedelta(hours=23, minutes=59))),
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=-23))),
    ],
)
def test_as_of_the_earliest_datetimes_names_what_exists(written: Any, when: datetime) -> None:
    with pytest.raises(SnapshotNotFoundError) as missing:
        written.as_of(when)
    assert when.isoformat() in str(missing.value)


@pytest.mark.parametrize(
    "when", [datetime.max.replace(tzinfo=UTC), datetime.max.replace(tzinfo=timezone(timedelta(hours=-23)))]
)
def test_as_of_the_latest_datetimes_reads_the_published_snapshot(written: Any, when: datetime) -> None:
    assert written.as_of(when).snapshot_id == written.latest().snapshot_id
    assert written.at(when.isoformat()).snapshot_id == written.latest().snapshot_id
