"""The time budget of a quality check: one deadline for everything the check runs, and what happens at it.

A check gets `quality_time_budget` (a lake setting, default `DEFAULT_SECONDS`). While it runs, its queries go
through `guarded`. Python regexes, which run in worker processes (`meshlake.quality.regex_worker`), are killed at
the deadline and say which pattern was running; `GRACE` later (time for that error to come through) a watchdog
interrupts the DuckDB connection the check is using, and again every 50 ms until the check gives up, so a query
started at that moment stops too. The check then reports every expectation it had not finished as `errored`
with the reason: a check that ran out of time never passes, and a gated write that ran out of time publishes
nothing.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from contextvars import ContextVar
from typing import TYPE_CHECKING, TypeVar

if TYPE_CHECKING:
    import duckdb

DEFAULT_SECONDS = 300.0
"""Five minutes: a full check of 6,000,000 rows takes about a second (benchmarks/results/quality.md)."""
GRACE = 1.0
"""Seconds between the deadline and the watchdog's first interrupt."""
SETTING = "quality_time_budget"
DEADLINE_VARIABLE = "meshlake_quality_deadline"
"""The DuckDB variable holding a check's deadline (`time.monotonic()`), read by the regex function."""

T = TypeVar("T")
_current: ContextVar[Budget | None] = ContextVar("meshlake_quality_budget", default=None)


class BudgetExceededError(Exception):
    """A check ran out of its time budget (internal: `evaluate_native` turns it into errored results)."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


class Budget:
    """A deadline `seconds` from now, and a watchdog that interrupts DuckDB once it has passed."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.deadline = time.monotonic() + seconds
        self._running: duckdb.DuckDBPyConnection | None = None
        self._lock = threading.Lock()
        self._done = threading.Event()

    @property
    def expired(self) -> bool:
        return time.monotonic() >= self.deadline

    def reason(self, detail: str = "") -> str:
        """Why the check stopped, and what to do."""
        during = f" while {detail}" if detail else ""
        return (
            f"not evaluated: the quality check ran out of its time budget of {self.seconds:g} s{during}; "
            f"simplify the expectation, or raise the {SETTING} setting"
        )

    @contextmanager
    def active(self) -> Iterator[Budget]:
        """Make this the budget of the current check (for `guarded`) and start its watchdog."""
        token = _current.set(self)
        watchdog = threading.Thread(target=self._watch, name="meshlake-quality-budget", daemon=True)
        watchdog.start()
        try:
            yield self
        finally:
            self._done.set()
            _current.reset(token)

    def _watch(self) -> None:
        if self._done.wait(max(0.0, self.deadline + GRACE - time.monotonic())):
            return
        while True:
            with self._lock:
                if self._running is not None:
                    with suppress(Exception):  # the connection closed meanwhile
                        self._running.interrupt()
            if self._done.wait(0.05):
                return

    @contextmanager
    def running(self, con: duckdb.DuckDBPyConnection) -> Iterator[None]:
        with self._lock:
            previous, self._running = self._running, con
        try:
            yield
        finally:
            with self._lock:
                self._running = previous


def budget_seconds(value: str | float) -> float:
    """The `quality_time_budget` setting in seconds: a duration (`90s`, `5m`, `1h`) or a number of seconds."""
    from meshlake.contract.durations import parse_duration
    from meshlake.errors import ConfigError

    text = str(value).strip()
    try:
        seconds = float(text) if _NUMBER.match(text) else parse_duration(text).total_seconds()
    except ValueError:
        seconds = 0.0
    if not 0 < seconds < float("inf"):
        raise ConfigError(
            f"{SETTING} must be a positive duration such as 90s, 5m or 1h (or a number of seconds), not {value!r}.",
            key=SETTING,
        )
    return seconds


_NUMBER = re.compile(r"^\d+(\.\d*)?$")


def current() -> Budget | None:
    """The budget of the check running in this context, if any."""
    return _current.get()


def guarded(con: duckdb.DuckDBPyConnection, run: Callable[[], T]) -> T:
    """Run one query of a check on `con` within the check's budget; raise `BudgetExceededError` once it is spent."""
    budget = _current.get()
    if budget is None:
        return run()
    if budget.expired:
        raise BudgetExceededError(budget.reason())
    with budget.running(con):
        try:
            return run()
        except Exception as exc:
            if budget.expired:
                raise BudgetExceededError(budget.reason(_detail(exc))) from exc
            raise


def _detail(exc: BaseException) -> str:
    """What was running, when the error says (the regex function names its pattern)."""
    text = str(exc)
    marker = "RegexTimeoutError: "
    return text.split(marker, 1)[1].strip().splitlines()[0] if marker in text else ""
