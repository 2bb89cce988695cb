"""meshlake's stamps on every snapshot summary (keys prefixed `meshlake.`)."""

from __future__ import annotations

import getpass
import json
import os
import socket
import uuid
from collections.abc import Mapping
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
PREFIX = "meshlake."


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
        for key, value in self.extra.items():
            props[key if key.startswith(PREFIX) else PREFIX + key] = str(value)
        if quality is not None:
            props[QUALITY] = quality
        return props


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
