"""Environment switches of a stream's tuning (to measure it against Python's or the commit's defaults)."""

from __future__ import annotations

import os
from collections.abc import Sequence

from meshlake.errors import ConfigError


def switch(env: str, modes: Sequence[str], what: str) -> str:
    """The mode environment variable `env` names (`modes[0]` when unset); an unknown value, a typo included, is a
    `ConfigError` naming the variable and the modes, `what` saying what they choose."""
    mode = os.environ.get(env, modes[0])
    if mode not in modes:
        raise ConfigError(f"{env}={mode!r} is not {what}; use one of: {', '.join(modes)}.", key=env)
    return mode
