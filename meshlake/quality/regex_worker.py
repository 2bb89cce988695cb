"""Python checks in worker processes, so that one that runs without end (a backtracking regex) can be stopped.

Python's `re` holds the GIL for the whole of one search and cannot be interrupted from another thread: a pattern
such as `^(?=a)(a+)+$` takes minutes on 30 characters. So the patterns DuckDB's RE2 cannot evaluate
(`meshlake.quality.regex`) are searched in a child process (`python -I -S` running this file: the same `re`,
nothing else imported), which is killed when the check's deadline passes (`RegexTimeoutError`). The other Python
checks whose code could run that long (`jsonschema.validate`, whose schemas hold regexes, and
`dateutil.parser.parse`; see `meshlake.quality.python_checks`) run the same way, in workers that also see the
installed packages (`python -I`). Workers are reused: one per concurrent call, up to `MAX_IDLE` of each kind kept
idle; a forked child starts its own.

Protocol, over the worker's stdin/stdout: a 4-byte big-endian length, then JSON. Request `[kind, arguments,
index, values]` (`kind`: regex, json_schema or dateutil; `index[i]` is the position in `arguments` of the
argument — pattern, schema as JSON text — for `values[i]`); reply `{"found": [...]}` (true, false or null per
value) or `{"error": "..."}`.

This file runs as a script in the worker: it imports nothing but the standard library until a check needs a
package.
"""

from __future__ import annotations

import atexit
import json
import os
import queue
import re
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any

MAX_IDLE = 4
_HEADER = struct.Struct(">I")


class RegexTimeoutError(Exception):
    """A Python regex search did not finish before the check's deadline."""


class RegexWorkerError(RuntimeError):
    """A regex worker could not be started or answered with an error."""


SITE_KINDS = frozenset({"json_schema", "dateutil"})
"""Checks that import installed packages: their workers run without `-S`."""


def search(
    patterns: Sequence[str], index: Sequence[int], values: Sequence[str | None], deadline: float
) -> list[bool | None]:
    """`re.search(patterns[index[i]], values[i]) is not None` for each value (None for None), in a worker.

    Raises `RegexTimeoutError` when the answer has not come by `deadline` (`time.monotonic()`); the worker is killed.
    """
    return check("regex", patterns, index, values, deadline)


def check(
    kind: str, arguments: Sequence[str], index: Sequence[int], values: Sequence[str | None], deadline: float
) -> list[bool | None]:
    """The `kind` check (regex, json_schema, dateutil) of each value with its argument, in a worker process.

    Raises `RegexTimeoutError` when the answer has not come by `deadline`; the worker is killed.
    """
    site = kind in SITE_KINDS
    worker = _take(site)
    try:
        reply = worker.ask(json.dumps([kind, list(arguments), list(index), list(values)]).encode(), deadline)
    except BaseException:
        worker.kill()
        raise
    _give_back(worker)
    if "error" in reply:
        raise RegexWorkerError(str(reply["error"]))
    found: list[bool | None] = reply["found"]
    return found


class _Worker:
    """A child process answering length-prefixed JSON requests; `command` runs another worker script
    (`meshlake.governance.rego_worker` uses the same framing), `site` lets the worker import installed
    packages (for checks that need them)."""

    def __init__(self, command: Sequence[str] | None = None, site: bool = False) -> None:
        self.site = site
        try:
            self.process = subprocess.Popen(
                list(command)
                if command is not None
                else [sys.executable, "-I", *(() if site else ("-S",)), os.path.abspath(__file__)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
        except OSError as exc:
            raise RegexWorkerError(f"cannot start a Python regex worker ({sys.executable}): {exc}") from exc
        self.replies: queue.SimpleQueue[bytes | None] = queue.SimpleQueue()
        threading.Thread(target=self._read, name="meshlake-regex-reader", daemon=True).start()

    def _read(self) -> None:
        out = self.process.stdout
        assert out is not None
        while True:
            head = out.read(_HEADER.size)
            if len(head) < _HEADER.size:
                self.replies.put(None)
                return
            self.replies.put(out.read(_HEADER.unpack(head)[0]))

    def ask(self, payload: bytes, deadline: float) -> dict[str, Any]:
        pipe = self.process.stdin
        assert pipe is not None
        try:
            pipe.write(_HEADER.pack(len(payload)) + payload)
            pipe.flush()
        except OSError as exc:
            raise RegexWorkerError(f"the Python regex worker stopped: {exc}") from exc
        try:
            answer = self.replies.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise RegexTimeoutError from None
        if answer is None:
            raise RegexWorkerError(f"the Python regex worker exited with code {self.process.poll()}")
        reply: dict[str, Any] = json.loads(answer)
        return reply

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()
        for pipe in (self.process.stdin, self.process.stdout):
            if pipe is not None:
                pipe.close()


WorkerProcess = _Worker
"""The worker process, for other scripts that speak the same protocol."""

_lock = threading.Lock()
_idle: list[_Worker] = []
_owner = [os.getpid()]


def _take(site: bool = False) -> _Worker:
    with _lock:
        if _owner[0] != os.getpid():  # a forked child must not talk to its parent's workers
            _idle.clear()
            _owner[0] = os.getpid()
        for i, worker in enumerate(_idle):
            if worker.site == site:
                return _idle.pop(i)
    return _Worker(site=site)


def _give_back(worker: _Worker) -> None:
    with _lock:
        if _owner[0] == os.getpid() and sum(w.site == worker.site for w in _idle) < MAX_IDLE:
            _idle.append(worker)
            return
    worker.kill()


@atexit.register
def _stop_idle() -> None:
    with _lock:
        workers = _idle[:] if _owner[0] == os.getpid() else []
        _idle.clear()
    for worker in workers:
        worker.kill()


# -- the worker ---------------------------------------------------------------------------------------------------


def serve() -> None:
    """Answer requests on stdin until it closes."""
    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    checks: dict[tuple[str, str], Any] = {}
    while True:
        head = stdin.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return
        request = json.loads(stdin.read(_HEADER.unpack(head)[0]))
        kind, arguments, index, values = request if len(request) == 4 else ["regex", *request]
        try:
            tests = [checks.get((kind, a)) or checks.setdefault((kind, a), _checker(kind, a)) for a in arguments]
            reply: dict[str, object] = {
                "found": [None if v is None else tests[i](v) for i, v in zip(index, values, strict=True)]
            }
        except Exception as exc:  # reported to the check, which is then errored (as GE raises)
            reply = {"error": f"{type(exc).__name__}: {exc}"}
        body = json.dumps(reply).encode()
        stdout.write(_HEADER.pack(len(body)) + body)
        stdout.flush()


def _checker(kind: str, argument: str) -> Any:
    """A function value → bool for one check, with the semantics of GE's pandas code for it."""
    if kind == "regex":
        pattern = re.compile(argument)
        return lambda value: pattern.search(value) is not None
    if kind == "json_schema":
        import jsonschema

        schema = json.loads(argument)
        validator = jsonschema.validators.validator_for(schema)(schema)

        def matches(value: str) -> bool:
            try:
                instance = json.loads(value)
            except ValueError:
                raise ValueError(f"value {value[:80]!r} is not JSON, so it cannot match the schema") from None
            return bool(validator.is_valid(instance))

        return matches
    if kind == "dateutil":
        from dateutil.parser import parse  # type: ignore[import-untyped]

        def parseable(value: str) -> bool:
            try:
                parse(value)
            except (ValueError, OverflowError):
                return False
            return True

        return parseable
    raise ValueError(f"unknown check {kind!r}")


if __name__ == "__main__":
    serve()
