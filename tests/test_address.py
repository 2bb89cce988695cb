"""Addresses and names are validated before any path or SQL is built."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from meshlake.contract.address import Address, ProductName, Ref, location_under, validate_name
from meshlake.errors import InvalidNameError

BAD_NAMES = ["../x", "a;b", "a'b", 'a"b', "Upper", "", "x" * 64, "a\x00b", "1abc", "a-b", "a b", "a.b", "é"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_invalid_names_are_refused(name: str) -> None:
    with pytest.raises(InvalidNameError) as caught:
        validate_name(name, "port")
    assert caught.value.name == name


@pytest.mark.parametrize("name", ["a", "select", "order", "a_1", "x" * 63])
def test_valid_names_pass(name: str) -> None:
    assert validate_name(name) == name


def test_address_parses_parts_and_ref() -> None:
    address = Address.parse("logistics.shipments.daily@v1.2.0")
    assert (address.domain, address.product, address.port) == ("logistics", "shipments", "daily")
    assert address.ref == Ref(name="v1.2.0")
    assert str(address) == "logistics.shipments.daily@v1.2.0"
    assert address.identifier == ("logistics", "shipments", "daily")


def test_address_refs_are_snapshot_ids_or_zoned_times() -> None:
    assert Address.parse("a.b.c@1234").ref == Ref(snapshot_id=1234)
    at = Address.parse("a.b.c@2026-11-01T00:00:00Z").ref
    assert at is not None and at.at == datetime(2026, 11, 1, tzinfo=UTC)


def test_a_time_without_zone_is_refused() -> None:
    with pytest.raises(InvalidNameError, match="zone"):
        Address.parse("a.b.c@2026-11-01T00:00:00")


@pytest.mark.parametrize("text", ["a.b", "a.b.c.d", "a..c", "../x.b.c", "a.b.c;drop", "a.b.c@", "a.b.c@x y"])
def test_malformed_addresses_are_refused(text: str) -> None:
    with pytest.raises(InvalidNameError):
        Address.parse(text)


def test_product_name_parses() -> None:
    assert ProductName.parse("sales.orders").port("placed") == Address("sales", "orders", "placed")


def test_locations_stay_under_the_warehouse() -> None:
    assert location_under("file:///w/h", "a", "b", "c") == "file:///w/h/a/b/c"
    assert location_under("s3://bucket/wh/", "a") == "s3://bucket/wh/a"
    with pytest.raises(InvalidNameError):
        location_under("file:///w/h", "..", "etc")
    with pytest.raises(InvalidNameError):
        location_under("/w/h", "a/../../b")
