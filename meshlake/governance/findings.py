"""A finding: one rule that one product (port, column) does not meet, where, and how bad it is."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any, Literal

Severity = Literal["error", "warn", "off"]
SEVERITIES: tuple[Severity, ...] = ("off", "warn", "error")
"""Weakest first: `max(..., key=SEVERITIES.index)` is the strictest."""


def stricter(a: Severity, b: Severity) -> Severity:
    """The stricter of two severities."""
    return a if SEVERITIES.index(a) >= SEVERITIES.index(b) else b


@dataclass(frozen=True)
class Waived:
    """The waiver that excuses a finding: who owns it, why, until when."""

    owner: str
    reason: str
    expires: date


@dataclass(frozen=True)
class Finding:
    """A rule (`code`, `name`) that `product` — or its `port`, or that port's `column` — does not meet.

    `severity` is what the policy makes of it (`error` refuses a deploy); `waived` is set when a waiver in the
    product's descriptor excuses it (then it refuses nothing). `file`, `line` and `field` point into the
    descriptor when it was read from a file.
    """

    code: str
    name: str
    severity: Literal["error", "warn"]
    product: str
    message: str
    port: str | None = None
    column: str | None = None
    file: str | None = None
    line: int | None = None
    field: str | None = None
    waived: Waived | None = None

    @property
    def address(self) -> str:
        """The port's address (`domain.product.port`), or the product's (`domain.product`) for product findings."""
        return f"{self.product}.{self.port}" if self.port else self.product

    @property
    def blocking(self) -> bool:
        """An error nobody waived: it refuses a deploy, run or write."""
        return self.severity == "error" and self.waived is None

    @property
    def target(self) -> str:
        """What a waiver's `target` names to cover exactly this finding: `port` or `port.column` ('': the product)."""
        if self.port and self.column:
            return f"{self.port}.{self.column}"
        return self.port or ""

    def waive(self, waived: Waived) -> Finding:
        return replace(self, waived=waived)

    def where(self) -> str:
        if self.file is None:
            return self.address + (f".{self.column}" if self.column else "")
        return f"{self.file}:{self.line}" if self.line else self.file

    def __str__(self) -> str:
        column = f" column {self.column}" if self.column else ""
        waived = f" (waived by {self.waived.owner} until {self.waived.expires})" if self.waived else ""
        return (
            f"{self.where()}: {self.severity} {self.code} {self.name}: {self.address}{column}: {self.message}{waived}"
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "severity": self.severity,
            "product": self.product,
            "address": self.address,
            "port": self.port,
            "column": self.column,
            "message": self.message,
            "file": self.file,
            "line": self.line,
            "field": self.field,
            "waived": None
            if self.waived is None
            else {"owner": self.waived.owner, "reason": self.waived.reason, "expires": self.waived.expires.isoformat()},
        }
