"""Addresses: `domain.product.port[@ref]`, validated before any path or SQL is built.

The address is at once the Iceberg identifier, the DuckDB three-part name and the storage prefix, so
every part must match `^[a-z][a-z0-9_]{0,62}$`. A `ref` is a snapshot id, a tag or branch name, or an
ISO-8601 timestamp with a zone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import PurePosixPath

from meshlake.errors import InvalidNameError

NAME_PATTERN = re.compile(r"[a-z][a-z0-9_]{0,62}")
REF_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._\-]{0,127}")
SYSTEM_DOMAIN = "meshlake"
RELEASE_REF = "release:"
"""How a ref names a product release: `release:1.4.0`, or a range (`release:^1.4`)."""


def validate_name(name: object, what: str = "name") -> str:
    """Return `name` if it is a valid meshlake name, else raise `InvalidNameError` saying why."""
    if not isinstance(name, str):
        raise InvalidNameError(f"{what} must be a string, got {type(name).__name__}", name=str(name))
    if NAME_PATTERN.fullmatch(name):
        return name
    shown = repr(name) if len(name) <= 80 else repr(name[:77] + "...")
    if not name:
        reason = "it is empty"
    elif len(name) > 63:
        reason = f"it has {len(name)} characters (at most 63)"
    elif not name[0].isalpha() or not name[0].islower():
        reason = "it must start with a lower-case letter"
    else:
        bad = sorted({c for c in name if not re.fullmatch(r"[a-z0-9_]", c)})
        reason = f"it contains {', '.join(repr(c) for c in bad)}"
    raise InvalidNameError(
        f"invalid {what} {shown}: {reason}. Names use lower-case letters, digits and '_' "
        "(pattern ^[a-z][a-z0-9_]{0,62}$).",
        name=name,
    )


def validate_ref_name(name: str) -> str:
    """Return `name` if it can name a tag or branch (letters, digits, '.', '_', '-').

    A name that is all digits or parses as an ISO-8601 time is refused: a ref reads as a snapshot id or a
    time first, so such a tag would mean one snapshot in `port.at(...)` and another in SQL's `AT (VERSION => …)`.
    """
    if not isinstance(name, str) or not REF_NAME_PATTERN.fullmatch(name):
        raise InvalidNameError(
            f"invalid tag or branch name {name!r}: use letters, digits, '.', '_' and '-' (at most 128, "
            "starting with a letter or digit).",
            name=str(name),
        )
    if name.isdigit():
        reason = "it is all digits, like a snapshot id"
    elif _is_iso_time(name):
        reason = "it reads as an ISO-8601 time"
    else:
        return name
    raise InvalidNameError(
        f"invalid tag or branch name {name!r}: {reason}, so it would not read as a tag everywhere. "
        f"Add a letter, e.g. 'v{name}'.",
        name=name,
    )


def validate_release_range(text: str) -> str:
    """Return `text` if it is a release version or range (`1.4.0`, `^1.4`, `~1.4.2`, `1.x`), else `InvalidNameError`."""
    from meshlake.contract.semver import VersionRange

    try:
        VersionRange.parse(text)
    except ValueError as exc:
        raise InvalidNameError(str(exc), name=str(text)) from None
    return text


def _is_iso_time(text: str) -> bool:
    try:
        datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


def parse_timestamp(text: str) -> datetime | None:
    """Parse an ISO-8601 timestamp that carries a zone; None if `text` is not a timestamp."""
    if not re.match(r"\d{4}-\d{2}-\d{2}", text):
        return None
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return None
    if value.tzinfo is None:
        raise InvalidNameError(f"timestamp {text!r} has no zone: add one, e.g. '{text}Z' or '{text}+00:00'.", name=text)
    return value


@dataclass(frozen=True)
class Ref:
    """A point in a port's history: exactly one of snapshot id, tag/branch name, instant, or product release
    (`release:1.4.0`, or a range `release:^1.4` meaning the newest release that matches)."""

    snapshot_id: int | None = None
    name: str | None = None
    at: datetime | None = None
    release: str | None = None

    @classmethod
    def parse(cls, text: str | int | datetime) -> Ref:
        """Read a ref from a snapshot id, a tag or branch name, or a zoned timestamp."""
        if isinstance(text, datetime):
            if text.tzinfo is None:
                raise InvalidNameError("a naive datetime is ambiguous: give it a tzinfo (e.g. UTC).", name=str(text))
            return cls(at=text)
        if isinstance(text, int) and not isinstance(text, bool):
            return cls(snapshot_id=text)
        if not isinstance(text, str) or not text:
            raise InvalidNameError(f"invalid ref {text!r}: expected a snapshot id, tag, branch or time", name=str(text))
        if re.fullmatch(r"-?\d+", text):
            return cls(snapshot_id=int(text))
        if text.startswith(RELEASE_REF):
            return cls(release=validate_release_range(text[len(RELEASE_REF) :]))
        instant = parse_timestamp(text)
        if instant is not None:
            return cls(at=instant)
        return cls(name=validate_ref_name(text))

    def __str__(self) -> str:
        if self.snapshot_id is not None:
            return str(self.snapshot_id)
        if self.name is not None:
            return self.name
        if self.release is not None:
            return RELEASE_REF + self.release
        assert self.at is not None
        return self.at.isoformat()


@dataclass(frozen=True)
class ProductName:
    """A data product's name: `domain.product`, the Iceberg namespace."""

    domain: str
    product: str

    @classmethod
    def parse(cls, text: str) -> ProductName:
        """Parse `domain.product`."""
        parts = _split(text, 2, "product name", "domain.product")
        return cls(validate_name(parts[0], "domain"), validate_name(parts[1], "product"))

    @property
    def namespace(self) -> tuple[str, str]:
        return (self.domain, self.product)

    def port(self, name: str) -> Address:
        """The address of one of this product's ports."""
        return Address(self.domain, self.product, validate_name(name, "port"))

    def __str__(self) -> str:
        return f"{self.domain}.{self.product}"


@dataclass(frozen=True)
class Address:
    """`domain.product.port`, optionally pinned with `@ref`."""

    domain: str
    product: str
    port: str
    ref: Ref | None = None

    def __post_init__(self) -> None:
        validate_name(self.domain, "domain")
        validate_name(self.product, "product")
        validate_name(self.port, "port")

    @classmethod
    def parse(cls, text: str) -> Address:
        """Parse `domain.product.port[@ref]`, refusing anything that is not a valid address."""
        if not isinstance(text, str):
            raise InvalidNameError(f"an address must be a string, got {type(text).__name__}", name=str(text))
        base, sep, ref_text = text.partition("@")
        parts = _split(base, 3, "address", "domain.product.port[@ref]")
        ref = Ref.parse(ref_text) if sep else None
        return cls(parts[0], parts[1], parts[2], ref)

    @property
    def product_name(self) -> ProductName:
        return ProductName(self.domain, self.product)

    @property
    def identifier(self) -> tuple[str, str, str]:
        """The Iceberg table identifier."""
        return (self.domain, self.product, self.port)

    @property
    def unpinned(self) -> Address:
        return Address(self.domain, self.product, self.port)

    def with_ref(self, ref: Ref | None) -> Address:
        return Address(self.domain, self.product, self.port, ref)

    def __str__(self) -> str:
        base = f"{self.domain}.{self.product}.{self.port}"
        return base if self.ref is None else f"{base}@{self.ref}"


def _split(text: str, count: int, what: str, shape: str) -> list[str]:
    parts = text.split(".")
    if len(parts) != count:
        raise InvalidNameError(f"invalid {what} {text!r}: expected {shape}", name=text)
    return parts


def location_under(root: str, *parts: str) -> str:
    """Join validated name parts under a warehouse root, refusing anything that would escape it."""
    for part in parts:
        validate_name(part, "path part")
    root_clean = root.rstrip("/")
    joined = "/".join([root_clean, *parts])
    scheme, sep, rest = root_clean.partition("://")
    base = PurePosixPath(rest if sep else root_clean)
    target = PurePosixPath(joined.partition("://")[2] if sep else joined)
    if ".." in target.parts or not target.is_relative_to(base) or target == base:
        raise InvalidNameError(f"location {joined!r} would leave the warehouse root {root!r}", name=joined)
    del scheme
    return joined
