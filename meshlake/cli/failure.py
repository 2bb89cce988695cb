"""How an exception becomes what a CLI user reads: one `error: …` line, or a bug report.

A `MeshlakeError` says what failed and what to do next; so do an error of the user's own SQL (DuckDB), an
operating-system error (it names the file) and a `ValueError`, `LookupError` or `TypeError` that meshlake's
own code raised on purpose. Anything else escaped meshlake's checks: that is a bug, and the line says so.
Errors whose message speaks of the Python API are rendered in CLI terms here (`QualityGateError`: one failed
expectation per line and the `meshlake quarantine` command). `--debug` adds the full traceback.
"""

from __future__ import annotations

import traceback
from pathlib import Path

import meshlake
from meshlake.errors import MeshlakeError, QualityGateError

_PACKAGE = Path(meshlake.__file__).resolve().parent
_DELIBERATE = (ValueError, LookupError, TypeError)
"""Kinds meshlake raises with a message for users (the same built-ins its own errors mix in)."""
GATE_LINES = 50
"""Failed expectations listed one per line, at most."""


def is_bug(exc: BaseException) -> bool:
    """True when `exc` is not an error meshlake meant for the user (it escaped every check)."""
    if isinstance(exc, MeshlakeError | OSError):
        return False
    if type(exc).__module__.split(".")[0] in ("duckdb", "_duckdb"):  # the user's SQL was wrong
        return False
    return not (isinstance(exc, _DELIBERATE) and _raised_by_meshlake(exc))


def message(exc: BaseException) -> str:
    """What the CLI prints after `error: ` (one line, except the list of a quality gate's failures)."""
    if isinstance(exc, QualityGateError):
        return _gate_message(exc)
    text = one_line(str(exc)) or type(exc).__name__
    if is_bug(exc):
        return f"{type(exc).__name__}: {text} (this looks like a bug; please report it with the output of --debug)"
    return text


def details(exc: BaseException) -> str:
    """The full traceback, for `--debug`."""
    return "".join(traceback.format_exception(exc)).rstrip()


def one_line(text: str) -> str:
    parts = [part.strip() for part in text.strip().splitlines() if part.strip()]
    return " ".join(parts)


def _raised_by_meshlake(exc: BaseException) -> bool:
    """Whether the innermost frame that raised `exc` is meshlake's own code (not a library under it)."""
    frames = traceback.extract_tb(exc.__traceback__)
    if not frames:
        return False
    return Path(frames[-1].filename).resolve().is_relative_to(_PACKAGE)


def _gate_message(exc: QualityGateError) -> str:
    failed = exc.report.failed
    lines = [
        f"quality gate failed for {exc.address}: {len(failed)} of {len(exc.report.results)} expectations failed; "
        "nothing was published.",
        *(f"  - {result.summary()}" for result in failed[:GATE_LINES]),
    ]
    if len(failed) > GATE_LINES:
        lines.append(f"  … and {len(failed) - GATE_LINES} more")
    if exc.quarantine_branch:
        lines.append(
            f"The staged write is kept on branch '{exc.quarantine_branch}': "
            f"`meshlake quarantine {exc.address}` lists it with its report."
        )
    return "\n".join(lines)
