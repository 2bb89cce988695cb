"""What every fuzz case shares: the seed, a per-case time limit, and a report of every failing case."""

from __future__ import annotations

import faulthandler
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import meshlake as ml

SEED = int(os.environ.get("MESHLAKE_FUZZ_SEED", "20261110"))
"""The fuzz seed: fixed, so every run throws the same cases; set MESHLAKE_FUZZ_SEED to try others."""
CASE_SECONDS = 10.0
"""No case may take longer (the slowest normal case takes well under a second)."""
HARD_SECONDS = 60.0
"""If a case is stuck where a signal cannot reach it (C code holding the GIL), the process dumps every
thread's stack and exits: the run fails loudly instead of hanging."""
MAX_MESSAGE = 4_000
"""An error message longer than this is not one a user can read in a terminal."""


class CaseTimeout(BaseException):
    """A case ran past `CASE_SECONDS` (a BaseException, so no `except Exception` in the library hides it)."""


@contextmanager
def time_limit(seconds: float = CASE_SECONDS) -> Iterator[None]:
    """Raise `CaseTimeout` in the case after `seconds` (SIGALRM), and exit after `HARD_SECONDS` whatever happens."""
    if threading.current_thread() is not threading.main_thread():
        raise RuntimeError("the fuzz time limit uses SIGALRM: run the fuzz tests in the main thread")

    def expired(signum: int, frame: Any) -> None:
        raise CaseTimeout(f"the case ran longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    faulthandler.dump_traceback_later(HARD_SECONDS, exit=True, file=sys.__stderr__ or sys.stderr)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        faulthandler.cancel_dump_traceback_later()


@dataclass
class Outcome:
    """How one call ended: its result, or the exception it raised; and how long it took."""

    result: Any = None
    error: BaseException | None = None
    seconds: float = 0.0

    @property
    def failed(self) -> bool:
        return self.error is not None


def run_case(call: Callable[[], Any], seconds: float = CASE_SECONDS) -> Outcome:
    """Run `call` under the time limit; any exception (RecursionError included) is returned, not raised.

    A `CaseTimeout` is returned too, so the caller reports the case that hung.
    """
    started = time.perf_counter()
    try:
        with time_limit(seconds):
            result = call()
    except (Exception, CaseTimeout) as exc:
        return Outcome(error=exc, seconds=time.perf_counter() - started)
    return Outcome(result=result, seconds=time.perf_counter() - started)


def error_problem(error: BaseException) -> str | None:
    """What is wrong with how a case failed (None when it is a clear `MeshlakeError`)."""
    if isinstance(error, CaseTimeout):
        return f"hung: {error}"
    if not isinstance(error, ml.MeshlakeError):
        return f"raised {type(error).__module__}.{type(error).__name__}, not a MeshlakeError: {_short(error)}"
    text = str(error)
    if len(text) > MAX_MESSAGE:
        return f"{type(error).__name__} message is {len(text):,} characters long: {text[:200]!r}…"
    if "looks like a bug" in text:
        return f"{type(error).__name__} calls a user error a bug: {_short(error)}"
    return None


def _short(error: BaseException) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 300 else text[:297] + "..."


@dataclass
class Report:
    """Every failing case of one fuzz test, with the seed that replays it."""

    name: str
    failures: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    slowest: tuple[float, str] = (0.0, "")

    def count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1

    def timed(self, seconds: float, case: str) -> None:
        if seconds > self.slowest[0]:
            self.slowest = (seconds, case)

    def fail(self, case: str, problem: str, error: BaseException | None = None) -> None:
        text = f"{case}\n    {problem}"
        if error is not None and not isinstance(error, ml.MeshlakeError):
            trace = "".join(traceback.format_exception(error)[-6:])
            text += "\n    " + trace.replace("\n", "\n    ")
        self.failures.append(text)

    def summary(self) -> str:
        counts = ", ".join(f"{key} {value}" for key, value in sorted(self.counts.items()))
        return f"{self.name}: {counts}; slowest case {self.slowest[0]:.2f} s ({self.slowest[1]})"

    def check(self) -> None:
        """Print the summary; fail with the seed and every failing case if there is one."""
        print(self.summary(), file=sys.stderr)
        if self.failures:
            shown = "\n\n".join(self.failures[:60])
            more = f"\n\n… and {len(self.failures) - 60} more" if len(self.failures) > 60 else ""
            raise AssertionError(
                f"{len(self.failures)} fuzz case(s) failed; replay with MESHLAKE_FUZZ_SEED={SEED} (this run's seed)\n"
                f"{self.summary()}\n\n{shown}{more}"
            )
