"""meshlake's stamps on every snapshot summary (keys prefixed `meshlake.`).

A write's stamps are bound to the snapshot's contents by `meshlake.digest` (`content_digest`): a hash of the
data and delete files the snapshot added (path, size, record count) and removed (path), and of every other
`meshlake.` stamp. Stamps copied onto a snapshot meshlake did not write, or edited after the commit, do not
match it (`meshlake.query.provenance` verifies it); such a snapshot is foreign and its stamps are not trusted.
"""

from __future__ import annotations

import getpass
import hashlib
import json
import os
import socket
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

WRITER = "meshlake.writer"
RUN_ID = "meshlake.run-id"
PRODUCT_VERSION = "meshlake.product-version"
INPUTS = "meshlake.inputs"
MODE = "meshlake.mode"
QUALITY = "meshlake.quality"
LIBRARY_VERSION = "meshlake.library-version"
INPUT_RELEASES = "meshlake.input-releases"
"""Input address → the producer's release version a run read (inputs pinned by `release:`, a version or range)."""
DIGEST = "meshlake.digest"
PREFIX = "meshlake."
DIGEST_VERSION = "v1"
RESERVED = frozenset({WRITER, RUN_ID, PRODUCT_VERSION, INPUTS, MODE, QUALITY, LIBRARY_VERSION, DIGEST})
"""Stamps only meshlake writes: a caller's extra stamps never name them."""


def new_run_id() -> str:
    return uuid.uuid4().hex


def default_writer() -> str:
    """Who writes: `MESHLAKE_WRITER`, else `user@host`."""
    configured = os.environ.get("MESHLAKE_WRITER")
    if configured:
        return configured
    try:
        user = getpass.getuser()
    except (KeyError, OSError):
        user = "unknown"
    return f"{user}@{socket.gethostname()}"


@dataclass(frozen=True)
class Stamps:
    """The provenance a write carries."""

    writer: str
    run_id: str
    product_version: str
    mode: str
    inputs: Mapping[str, int] = field(default_factory=dict)
    extra: Mapping[str, str] = field(default_factory=dict)

    def properties(self, quality: str | None = None) -> dict[str, str]:
        from meshlake import __version__

        props = {
            WRITER: self.writer,
            RUN_ID: self.run_id,
            PRODUCT_VERSION: self.product_version,
            INPUTS: json.dumps(dict(sorted(self.inputs.items())), separators=(",", ":")),
            MODE: self.mode,
            LIBRARY_VERSION: __version__,
        }
        extras = {key if key.startswith(PREFIX) else PREFIX + key: str(value) for key, value in self.extra.items()}
        props = {k: v for k, v in extras.items() if k not in RESERVED} | props  # meshlake's own stamps win
        if quality is not None:
            props[QUALITY] = quality
        return props


def user_stamps(extra: Mapping[str, object] | None, *, address: str) -> dict[str, str]:
    """A caller's extra stamps, checked: names without the `meshlake.` prefix (it is added), none of meshlake's own.

    Raises `InvalidNameError` naming the key: a caller's stamp must never pass for one meshlake wrote (a
    forged `meshlake.quality` would make the gate trust what it did not check).
    """
    from meshlake.errors import InvalidNameError

    checked: dict[str, str] = {}
    for key, value in (extra or {}).items():
        if not isinstance(key, str) or not key or key.startswith(PREFIX) or PREFIX + key in RESERVED:
            raise InvalidNameError(
                f"{address}: extra stamp {key!r} is refused: stamps are named without the '{PREFIX}' prefix "
                f"(meshlake adds it) and never name one of meshlake's own ({', '.join(sorted(RESERVED))}). "
                "Rename the stamp; nothing was written.",
                name=str(key),
            )
        checked[key] = str(value)
    return checked


def content_digest(added: Iterable[tuple[str, int, int]], deleted: Iterable[str], properties: Mapping[str, str]) -> str:
    """The `meshlake.digest` of a snapshot: its added files (path, size in bytes, record count), the paths of the
    files it removed, and its `meshlake.` stamps other than the digest."""
    payload = {
        "added": sorted([str(p), int(s), int(r)] for p, s, r in added),
        "deleted": sorted(str(p) for p in deleted),
        "stamps": {k: str(v) for k, v in sorted(properties.items()) if k.startswith(PREFIX) and k != DIGEST},
    }
    text = json.dumps(payload, separators=(",", ":"), sort_keys=True)
    return f"{DIGEST_VERSION}:{hashlib.sha256(text.encode()).hexdigest()}"


def read_stamps(summary: Mapping[str, Any]) -> dict[str, Any]:
    """The meshlake stamps of a snapshot summary, with `inputs` and `quality` decoded."""
    stamps: dict[str, Any] = {}
    for key, value in summary.items():
        if not key.startswith(PREFIX):
            continue
        name = key[len(PREFIX) :]
        if key in (INPUTS, QUALITY, INPUT_RELEASES, "meshlake.run-params"):
            try:
                stamps[name] = json.loads(value)
            except (TypeError, ValueError):
                stamps[name] = value
        else:
            stamps[name] = value
    return stamps
