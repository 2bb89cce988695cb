"""Tag and branch names never look like a snapshot id or a time, so Python and SQL resolve a ref the same way."""

from __future__ import annotations

from typing import Any

import pytest

from meshlake.contract.address import validate_ref_name
from meshlake.errors import InvalidNameError
from tests.test_write import shipments


@pytest.mark.parametrize(
    "name", ["12345", "2026-11-01", "2026-11-01T00:00:00Z", "2026-11-01T00:00+01:00", "20261101T000000"]
)
def test_a_tag_that_looks_like_a_snapshot_id_or_a_time_is_refused(name: str, port: Any) -> None:
    port.write(shipments(["a"]))
    refs_before = dict(port.table().metadata.refs)
    with pytest.raises(InvalidNameError) as caught:
        port.tag(name)
    assert caught.value.name == name
    assert dict(port.table().metadata.refs) == refs_before


@pytest.mark.parametrize("name", ["v12345", "2026-11-01-rc1", "release_2026.11", "1.2.0"])
def test_a_tag_with_a_letter_or_a_version_shape_is_accepted(name: str, port: Any) -> None:
    snapshot = port.write(shipments(["a"])).snapshot_id
    port.tag(name)
    assert port.at(name).snapshot_id == snapshot
    assert port.table().metadata.refs[name].snapshot_id == snapshot


@pytest.mark.parametrize("name", ["42", "2026-11-01"])
def test_validate_ref_name_refuses_digit_and_time_names_for_branches_too(name: str) -> None:
    with pytest.raises(InvalidNameError):
        validate_ref_name(name)
