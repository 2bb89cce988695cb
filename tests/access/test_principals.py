"""The principal grammar: `KIND:NAME`, the wildcard only where a list grants reading, every malformed form refused."""

from __future__ import annotations

import pytest

from meshlake.contract.principals import EVERYONE, Principal, matches, parse_principals
from meshlake.errors import InvalidPrincipalError, MeshlakeError


@pytest.mark.parametrize(
    ("text", "kind", "name"),
    [
        ("user:alice", "user", "alice"),
        ("user:alice@example.com", "user", "alice@example.com"),
        ("user:0b7c9e2a-51d4-4a63-9a1e-7f0c2b9d1e44", "user", "0b7c9e2a-51d4-4a63-9a1e-7f0c2b9d1e44"),
        ("group:analytics", "group", "analytics"),
        ("group:Data_Engineers", "group", "Data_Engineers"),
        ("service:airflow", "service", "airflow"),
        ("product:logistics.shipping", "product", "logistics.shipping"),
    ],
)
def test_principal_parses_and_prints_back(text: str, kind: str, name: str) -> None:
    principal = Principal.parse(text)
    assert (principal.kind, principal.name) == (kind, name)
    assert str(principal) == text


def test_product_principal_is_built_from_a_product_name() -> None:
    assert str(Principal.product("sales.orders")) == "product:sales.orders"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "empty"),
        ("alice", "no kind"),
        ("team:alice", "unknown kind 'team'"),
        ("User:alice", "unknown kind 'User'"),
        (":alice", "unknown kind ''"),
        ("user:", "empty"),
        ("user:al ice", "white space"),
        (" user:alice", "white space"),
        ("user:alice\n", "white space"),
        ("user:ali\x07ce", "control character U+0007"),
        ("user:ali\u200bce", "control character U+200B"),
        ("user:al/ice", "'/'"),
        ("user:al,ice", "','"),
        ("user:-alice", "must start with"),
        ("user:" + "a" * 129, "at most 128"),
        ("product:shipping", "DOMAIN.PRODUCT"),
        ("product:logistics.shipping.daily", "DOMAIN.PRODUCT"),
        ("product:Logistics.shipping", "not a meshlake name"),
        ("product:logistics.ship-ping", "not a meshlake name"),
        ("user:*", "'*' stands alone"),
        ("*:alice", "'*' stands alone"),
        ("group:data*", "'*' stands alone"),
        ("**", "'*' stands alone"),
    ],
)
def test_malformed_principal_is_refused_saying_why(text: str, reason: str) -> None:
    with pytest.raises(InvalidPrincipalError) as caught:
        Principal.parse(text, wildcard=True)
    assert caught.value.text == text
    assert reason in caught.value.reason
    assert isinstance(caught.value, MeshlakeError | ValueError)


@pytest.mark.parametrize("value", [None, 42, ["user:alice"]])
def test_principal_that_is_not_text_is_refused(value: object) -> None:
    with pytest.raises(InvalidPrincipalError, match="is a string"):
        Principal.parse(value)


def test_wildcard_is_refused_unless_the_list_grants_reading() -> None:
    with pytest.raises(InvalidPrincipalError, match="may only grant reading"):
        Principal.parse("*")
    with pytest.raises(InvalidPrincipalError, match="may only grant reading"):
        Principal.parse(EVERYONE)
    assert Principal.parse("*", wildcard=True) is EVERYONE
    assert str(EVERYONE) == "*" and EVERYONE.is_everyone


def test_constructing_a_principal_validates_it_too() -> None:
    with pytest.raises(InvalidPrincipalError, match="unknown kind"):
        Principal("team", "x")  # type: ignore[arg-type]
    with pytest.raises(InvalidPrincipalError, match=r"DOMAIN\.PRODUCT"):
        Principal("product", "shipping")


def test_parse_principals_keeps_order_and_drops_repeats() -> None:
    parsed = parse_principals(["group:b", "user:a", "group:b"])
    assert [str(p) for p in parsed] == ["group:b", "user:a"]


def test_matches_finds_the_caller_its_groups_or_everyone() -> None:
    alice, analytics = Principal.parse("user:alice"), Principal.parse("group:analytics")
    assert matches([Principal.parse("group:finance"), analytics], {alice, analytics}) == analytics
    assert matches([EVERYONE], {alice}) is EVERYONE
    assert matches([Principal.parse("user:bob")], {alice, analytics}) is None
    assert matches([], {alice}) is None
