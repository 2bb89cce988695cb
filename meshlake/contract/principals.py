"""Principals: who may read or write a port, as `KIND:NAME` strings validated before anything uses them.

    user:alice                 a person (a token's subject, or a name given to `connect`)
    group:analytics            a group a user belongs to (from a token's groups claim, or `connect(groups=…)`)
    service:airflow            a machine identity
    product:logistics.shipping a data product's pipeline identity (`DOMAIN.PRODUCT`, each a meshlake name)
    *                          everyone in the mesh: only where a list grants reading (`readers`, row filters)

User, group and service names are letters, digits and `_ . @ + -` (at most 128, starting with a letter,
digit or `_`), so an e-mail address or an IdP subject fits and nothing that could split a list, a path or a
policy does. This module is the grammar only; what a principal may do is `meshlake.access.rights`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Final, Literal, get_args

from meshlake.contract.address import ProductName
from meshlake.errors import InvalidNameError, InvalidPrincipalError

PrincipalKind = Literal["user", "group", "product", "service"]
KINDS: Final[tuple[PrincipalKind, ...]] = get_args(PrincipalKind)
WILDCARD: Final = "*"
NAME: Final = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.@+\-]{0,127}")


@dataclass(frozen=True, order=True)
class Principal:
    """One principal, `kind:name`; `Principal.parse` reads the text form, `str()` writes it back.

    `EVERYONE` (`*`) is the one principal with kind `*`: it matches every caller and is accepted only
    where the caller of `parse` says so (`wildcard=True`).
    """

    kind: PrincipalKind | Literal["*"]
    name: str

    def __post_init__(self) -> None:
        if self.kind == WILDCARD and self.name == WILDCARD:
            return
        text = f"{self.kind}:{self.name}"
        if self.kind not in KINDS:
            raise InvalidPrincipalError(text, f"unknown kind {self.kind!r} (kinds: {', '.join(KINDS)})")
        _check_name(text, self.kind, self.name)

    @classmethod
    def parse(cls, text: object, *, wildcard: bool = False) -> Principal:
        """Read `kind:name` (or `*` when `wildcard`); anything else raises `InvalidPrincipalError` saying why."""
        if isinstance(text, Principal):
            if text.is_everyone and not wildcard:
                raise InvalidPrincipalError(WILDCARD, _WILDCARD_HERE)
            return text
        if not isinstance(text, str):
            raise InvalidPrincipalError(str(text), f"a principal is a string, got {type(text).__name__}")
        if not text:
            raise InvalidPrincipalError(text, "it is empty")
        if text == WILDCARD:
            if not wildcard:
                raise InvalidPrincipalError(text, _WILDCARD_HERE)
            return EVERYONE
        _check_characters(text)
        if WILDCARD in text:
            raise InvalidPrincipalError(text, "'*' stands alone for everyone; patterns such as 'group:*' do not exist")
        kind, colon, name = text.partition(":")
        if not colon:
            raise InvalidPrincipalError(text, "it has no kind")
        if kind not in KINDS:
            raise InvalidPrincipalError(text, f"unknown kind {kind!r} (kinds: {', '.join(KINDS)})")
        return cls(kind, name)

    @classmethod
    def product(cls, name: ProductName | str) -> Principal:
        """The pipeline identity of a data product, `product:DOMAIN.PRODUCT`."""
        return cls("product", str(name))

    @property
    def is_everyone(self) -> bool:
        return self.kind == WILDCARD

    def __str__(self) -> str:
        return WILDCARD if self.is_everyone else f"{self.kind}:{self.name}"


EVERYONE: Final = Principal(WILDCARD, WILDCARD)
_WILDCARD_HERE = "'*' (everyone) may only grant reading (readers, row filters), never ownership, admin or unmasking"


def parse_principals(items: Iterable[object], *, wildcard: bool = False) -> tuple[Principal, ...]:
    """Parse a list of principals, keeping its order and dropping exact repeats."""
    return tuple(dict.fromkeys(Principal.parse(item, wildcard=wildcard) for item in items))


def matches(grantees: Iterable[Principal], principals: Iterable[Principal]) -> Principal | None:
    """The first grantee that is one of `principals` (a caller and its groups), or `EVERYONE`; else None."""
    caller = set(principals)
    for grantee in grantees:
        if grantee.is_everyone or grantee in caller:
            return grantee
    return None


def _check_characters(text: str) -> None:
    for char in text:
        if char.isspace():
            raise InvalidPrincipalError(text, "it contains white space")
        if unicodedata.category(char).startswith("C"):
            raise InvalidPrincipalError(text, f"it contains the control character U+{ord(char):04X}")


def _check_name(text: str, kind: str, name: str) -> None:
    if not name:
        raise InvalidPrincipalError(text, f"the name after '{kind}:' is empty")
    _check_characters(text)
    if kind == "product":
        _, dot, product = name.partition(".")
        if not dot or "." in product:
            raise InvalidPrincipalError(text, "a product principal is named DOMAIN.PRODUCT, e.g. product:sales.orders")
        try:
            ProductName.parse(name)
        except InvalidNameError as exc:
            raise InvalidPrincipalError(
                text, f"{exc.name!r} is not a meshlake name (lower-case letters, digits, '_'; ^[a-z][a-z0-9_]{{0,62}}$)"
            ) from exc
        return
    if NAME.fullmatch(name):
        return
    if len(name) > 128:
        raise InvalidPrincipalError(text, f"the name has {len(name)} characters (at most 128)")
    bad = sorted({c for c in name if not re.fullmatch(r"[A-Za-z0-9_.@+\-]", c)})
    if bad:
        raise InvalidPrincipalError(text, f"the name contains {', '.join(repr(c) for c in bad)}")
    raise InvalidPrincipalError(text, "the name must start with a letter, a digit or '_'")
