"""One output abstraction for every command: human text by default, JSON with `--json`.

Every line a command prints goes through `Output` (a test keeps it so). Human text is made safe for a
terminal: control characters (C0 but newline and tab, DEL, C1) and bidirectional overrides are shown
escaped (`\\x1b`, `\\u202e`), so a product description cannot clear the screen, retitle the window or hide
text. JSON and CSV are machine output and stay exact, except that ids are JSON strings (see `to_jsonable`).
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pyarrow as pa

_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
"""What a terminal would act on instead of showing: C0 controls but tab and newline, DEL, C1 controls, and the
Unicode direction marks, embeddings, overrides and isolates (plus the line and paragraph separators)."""

JSON_SAFE_INTEGER = 2**53 - 1
"""The largest integer every JSON reader (JavaScript, jq) holds exactly."""

_ID_KEY = re.compile(r"(^|_)ids?$|^snapshots_expired$|^inputs$")
"""Keys whose integers are ids: `snapshot_id`, `parent_id`, `latest_snapshot_id`, `snapshots_expired`, and
`inputs` (input address → the snapshot id a run read)."""


def safe_text(text: str) -> str:
    """`text` with every character a terminal would act on shown escaped (`\\x1b[2J` stays visible text)."""
    return _UNSAFE.sub(_escape, text)


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def to_jsonable(value: Any, *, key: str = "") -> Any:
    """Make results JSON-friendly: datetimes as ISO text, sets and tuples as lists, ids as strings.

    Snapshot ids are random 64-bit integers, beyond what a JSON number holds exactly in JavaScript or jq, so
    every integer under an id key (`snapshot_id`, `parent_id`, `…_id`, `…_ids`, `snapshots_expired`, the
    snapshot ids in `inputs`) is written as a string, and so is any other integer beyond ±(2**53 - 1).
    """
    if isinstance(value, bool) or value is None or isinstance(value, str | float):
        return value
    if isinstance(value, int):
        return str(value) if _ID_KEY.search(key) or abs(value) > JSON_SAFE_INTEGER else value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v, key=key if _ID_KEY.search(key) else str(k)) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v, key=key) for v in value]
    if hasattr(value, "to_dict"):
        return to_jsonable(value.to_dict(), key=key)
    if isinstance(value, bytes):
        return value.hex()
    return value


def json_text(data: Any, *, indent: int | None = 2) -> str:
    """`data` as JSON text, after `to_jsonable`."""
    return json.dumps(to_jsonable(data), indent=indent, default=str)


@dataclass
class Output:
    """Where a command prints: `json_mode` switches every method to machine output."""

    json_mode: bool = False

    def emit(self, data: Any, human: str | None = None) -> None:
        """Print `data` as JSON, or `human` text (falling back to a readable rendering of `data`)."""
        if self.json_mode:
            sys.stdout.write(json_text(data) + "\n")
        else:
            self.text(human if human is not None else _render(data))

    def json_line(self, data: Any) -> None:
        """One JSON document on one line (for a stream of results)."""
        sys.stdout.write(json_text(data, indent=None) + "\n")

    def machine(self, text: str) -> None:
        """Machine output (SARIF, JUnit XML, workflow commands) on standard output, exactly as given."""
        sys.stdout.write(text + "\n")

    def text(self, text: str = "") -> None:
        """Human text on standard output, made safe for a terminal."""
        sys.stdout.write(safe_text(text) + "\n")

    def csv(self, table: pa.Table) -> None:
        """`table` as CSV on standard output, exactly (machine output is not escaped)."""
        import pyarrow.csv as pacsv

        pacsv.write_csv(table, _Sink())

    def table(self, rows: Sequence[dict[str, Any]], columns: Sequence[str], *, title: str | None = None) -> None:
        """Rows as a table (human) or a JSON list.

        No word is ever cut (ids, addresses, numbers, branch names): on a terminal, text wraps at spaces to
        make room, and when even that is not enough the table is wider than the terminal; piped, nothing wraps.
        """
        if self.json_mode:
            self.emit(list(rows))
            return
        if not rows:
            self.text(f"{title + ': ' if title else ''}(none)")
            return
        from rich.console import Console
        from rich.table import Table
        from rich.text import Text

        cells = [[safe_text(_cell(row.get(column))) for column in columns] for row in rows]
        if title:
            self.text(title)
        table = Table(show_lines=False)
        needed = natural = 1  # the left border; each column adds its padding and right border (3)
        for index, column in enumerate(columns):
            values = [line[index] for line in cells]
            header = safe_text(str(column))
            longest_word = max(len(word) for text in [header, *values] for word in _SPACE.split(text))
            widest = max(len(line) for text in [header, *values] for line in text.splitlines() or [""])
            least = max(longest_word, min(widest, 12))
            table.add_column(Text(header), overflow="fold", min_width=least, no_wrap=widest == longest_word)
            needed += least + 3
            natural += widest + 3
        for line in cells:
            table.add_row(*(Text(value) for value in line))
        terminal = _terminal_width()
        width = max(needed, terminal) if terminal is not None else natural  # piped: one row per line
        Console(width=width, markup=False, highlight=False).print(table)

    def flush(self) -> None:
        """Hand what was printed to the reader now (before a command that blocks, such as a server)."""
        sys.stdout.flush()

    def note(self, text: str) -> None:
        """A remark for people (stderr, so JSON on stdout stays clean)."""
        sys.stderr.write(safe_text(text) + "\n")

    def error(self, text: str) -> None:
        """An error for people, on stderr: `error: …`."""
        self.note(f"error: {text}")

    @contextmanager
    def progress(self, description: str, total: int | None = None) -> Iterator[Any]:
        """A progress display on stderr for long work (silent in JSON mode or when not a terminal)."""
        if self.json_mode or not sys.stderr.isatty():
            yield _NoProgress()
            return
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        columns = [
            SpinnerColumn(),
            TextColumn("{task.description}", markup=False),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ]
        with Progress(*columns, transient=True) as progress:
            task = progress.add_task(safe_text(description), total=total)
            yield _RichProgress(progress, task)


_SPACE = re.compile(r"\s")


class _NoProgress:
    def advance(self, amount: int = 1) -> None:
        return None

    def describe(self, text: str) -> None:
        return None


class _RichProgress:
    def __init__(self, progress: Any, task: Any) -> None:
        self.progress = progress
        self.task = task

    def advance(self, amount: int = 1) -> None:
        self.progress.advance(self.task, amount)

    def describe(self, text: str) -> None:
        self.progress.update(self.task, description=safe_text(text))


class _Sink:
    """A binary file-like object writing to standard output (pyarrow's CSV writer needs one)."""

    closed = False

    def write(self, data: bytes) -> int:
        sys.stdout.buffer.write(data) if hasattr(sys.stdout, "buffer") else sys.stdout.write(data.decode())
        return len(data)

    def flush(self) -> None:
        sys.stdout.flush()


def _terminal_width() -> int | None:
    """The terminal's width, or None when standard output is not a terminal."""
    import shutil

    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S%z")
    if isinstance(value, float):
        return f"{value:,.4g}"
    if isinstance(value, list | tuple):
        return ", ".join(_cell(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return str(value)


def _render(data: Any) -> str:
    if isinstance(data, dict):
        return "\n".join(f"{key}: {_cell(value)}" for key, value in data.items())
    if isinstance(data, Iterable) and not isinstance(data, str):
        return "\n".join(_cell(item) for item in data)
    return str(data)
