"""Durations as descriptors write them: `30m`, `24h`, `7d`, `2w`."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = timedelta(days=36_525)
"""The longest duration a descriptor or option may give (100 years); longer ones overflow date arithmetic."""
_PATTERN = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")


def parse_duration(text: str) -> timedelta:
    """`24h` → timedelta(hours=24); raises ValueError on anything else."""
    match = _PATTERN.match(text) if isinstance(text, str) else None
    if not match:
        raise ValueError(f"duration {text!r} must look like 30m, 24h, 7d or 2w")
    amount, unit = match.group(1).lstrip("0") or "0", match.group(2)
    seconds_per_unit = _SECONDS[unit]
    if len(amount) > 12 or int(amount) * seconds_per_unit > MAX_DURATION.total_seconds():
        raise ValueError(f"duration {text!r} is longer than {MAX_DURATION.days:,} days (100 years)")
    return timedelta(**{_UNITS[unit]: int(amount)})


def format_duration(value: timedelta) -> str:
    """A short human form: `3d 4h`, `25m`, `12s`."""
    seconds = int(value.total_seconds())
    if seconds < 0:
        return "-" + format_duration(-value)
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    parts = [f"{days}d" if days else "", f"{hours}h" if hours else "", f"{minutes}m" if minutes and not days else ""]
    text = " ".join(p for p in parts if p)
    return text or f"{seconds}s"
