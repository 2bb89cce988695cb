"""One output abstraction for every command: human text by default, JSON with `--json`."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any


def to_jsonable(value: Any) -> Any:
    """Make results JSON-friendly: datetimes as ISO text, sets and tuples as lists."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [to_jsonable(v) for v in value]
    if hasattr(value, "to_dict"):
        return to_jsonable(value.to_dict())
    if isinstance(value, bytes):
        return value.hex()
    return value


@dataclass
class Output:
    """Where a command prints: `json_mode` switches every method to machine output."""

    json_mode: bool = False

    def emit(self, data: Any, human: str | None = None) -> None:
        """Print `data` as JSON, or `human` text (falling back to a readable rendering of `data`)."""
        if self.json_mode:
            sys.stdout.write(json.dumps(to_jsonable(data), indent=2, default=str) + "\n")
        else:
            sys.stdout.write((human if human is not None else _render(data)) + "\n")

    def table(self, rows: Sequence[dict[str, Any]], columns: Sequence[str], *, title: str | None = None) -> None:
        """Rows as a table (human) or a JSON list."""
        if self.json_mode:
            self.emit(list(rows))
            return
        if not rows:
            sys.stdout.write(f"{title + ': ' if title else ''}(none)\n")
            return
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, title_justify="left", show_lines=False)
        for column in columns:
            table.add_column(column)
        for row in rows:
            table.add_row(*(_cell(row.get(column)) for column in columns))
        Console(width=max(100, _terminal_width())).print(table)

    def note(self, text: str) -> None:
        """A remark for people (stderr, so JSON on stdout stays clean)."""
        sys.stderr.write(text + "\n")

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
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        ]
        with Progress(*columns, transient=True) as progress:
            task = progress.add_task(description, total=total)
            yield _RichProgress(progress, task)


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
        self.progress.update(self.task, description=text)


def _terminal_width() -> int:
    import shutil

    return shutil.get_terminal_size((120, 40)).columns


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
