"""Semantic versions (`1.4.0`, `2.0.0-rc.1`) and the release ranges input ports pin (`^1.4`, `~1.4.2`, `1.x`).

A range is one of: an exact version (`1.4.0`); `^1.4` / `^1.4.2` (the same major version, at least that one;
for 0.x the same minor); `~1.4` / `~1.4.2` (the same minor version, at least that one); `1`, `1.x`, `1.4.x`,
`1.*` (any version with those leading numbers). Pre-releases (`1.5.0-rc.1`) match only an exact range.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$")
_PARTIAL = re.compile(r"^([\^~]?)(0|[1-9]\d*)(?:\.(0|[1-9]\d*|[xX*]))?(?:\.(0|[1-9]\d*|[xX*]))?$")


def is_semver(text: object) -> bool:
    return isinstance(text, str) and SEMVER.match(text) is not None


def sort_key(version: str) -> tuple[int, int, int, int, str]:
    """Orders versions as semver does (a pre-release before its release; build metadata ignored)."""
    match = SEMVER.match(version)
    if match is None:
        raise ValueError(f"{version!r} is not a semantic version like 1.4.0")
    major, minor, patch, pre = match.groups()
    return int(major), int(minor), int(patch), 0 if pre else 1, pre or ""


@dataclass(frozen=True)
class VersionRange:
    """The versions a pin accepts: `low <= version < high`, or exactly `exact`."""

    text: str
    low: tuple[int, int, int] = (0, 0, 0)
    high: tuple[int, int, int] | None = None
    exact: str | None = None

    @classmethod
    def parse(cls, text: str) -> VersionRange:
        """Read an exact version or a `^`, `~` or `x` range; `ValueError` saying the accepted forms otherwise."""
        if not isinstance(text, str):
            raise ValueError(f"a release range must be text, got {type(text).__name__}")
        if SEMVER.match(text):
            return cls(text, exact=text)
        match = _PARTIAL.match(text.strip())
        if match is None:
            raise ValueError(f"{text!r} is not a version or release range: use 1.4.0, ^1.4, ~1.4.2, 1.x or 1.4.x")
        op, major_text, minor_text, patch_text = match.groups()
        wild = {"x", "X", "*", None}
        major = int(major_text)
        minor = None if minor_text in wild else int(minor_text)
        patch = None if patch_text in wild else int(patch_text)
        if minor is None and patch is not None:
            raise ValueError(f"{text!r} is not a release range: a wildcard minor cannot have a patch number")
        low = (major, minor or 0, patch or 0)
        if op == "^":
            high = (major + 1, 0, 0) if major > 0 or minor is None else (0, (minor or 0) + 1, 0)
        elif op == "~" or (minor is not None and patch is None):
            high = (major, (minor or 0) + 1, 0) if minor is not None else (major + 1, 0, 0)
        elif minor is None:
            high = (major + 1, 0, 0)
        else:  # a full version with an operator: ~1.4.2 handled above; 1.4.2 is exact (matched SEMVER)
            high = (major, minor, (patch or 0) + 1)
        return cls(text, low, high)

    def matches(self, version: str) -> bool:
        if self.exact is not None:
            return version == self.exact
        key = sort_key(version)
        if key[3] == 0:  # a pre-release matches only an exact pin
            return False
        return self.low <= key[:3] and (self.high is None or key[:3] < self.high)

    def newest(self, versions: list[str]) -> str | None:
        """The newest of `versions` this range accepts, or None."""
        matching = [v for v in versions if self.matches(v)]
        return max(matching, key=sort_key) if matching else None

    def __str__(self) -> str:
        return self.text
