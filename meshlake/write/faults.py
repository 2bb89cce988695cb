"""A seam for crash tests: a write names the phase it is in, and dies there when a test asks it to.

Off unless one of these environment variables is set in the writing process (read at every call, so a
test sets them for a child process only; nothing is mocked):

- `MESHLAKE_CRASH_AT="<phase>[:<n>]"`: SIGKILL this process the n-th time (default: the first) it
  reaches `<phase>`;
- `MESHLAKE_CRASH_TRACE=<file>`: append `<pid> <phase> <table>` to the file at every phase reached, so a
  test that kills a writer at a random instant knows which phase (and whose write) it interrupted.

Phases of one write, in order: `files` (its data files are written, nothing is staged or checked yet),
`checked` (the quality gate ran), `commit` (manifests and manifest list are written; the catalog commit
is next), `committed` (the catalog accepted the commit; the write has not returned yet). A port write with
a quality gate passes them twice: for the port, then for its verdict appended to the quality history. After a
merge-on-read upsert, its key index keeping (on the keeper thread) passes `key index`: the index's runs are
written, the manifest naming them is next; and when a merge of the index's runs is due, that merge (on a thread of
its own) passes `key index merge` before it starts and `key index merge written` once the merged runs' files are
written (no manifest names them yet). A write that compacts the port's small files after its commit
(`meshlake.maintenance.auto_compact`) passes `auto compact` before it rewrites them and `auto compact commit`
before it commits the rewrite.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence

CRASH_AT = "MESHLAKE_CRASH_AT"
CRASH_TRACE = "MESHLAKE_CRASH_TRACE"
PHASES = ("files", "checked", "commit", "committed")

_reached: dict[str, int] = {}


def reached(phase: str, table: Sequence[str] = ()) -> None:
    """Mark `phase` of a write to `table` (its identifier) as reached; record it and/or die here if asked."""
    trace = os.environ.get(CRASH_TRACE)
    target = os.environ.get(CRASH_AT)
    if not trace and not target:
        return
    if trace:
        fd = os.open(trace, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, f"{os.getpid()} {phase} {'.'.join(table) or '-'}\n".encode())
        finally:
            os.close(fd)
    if target:
        name, _, nth = target.partition(":")
        if name == phase:
            _reached[phase] = _reached.get(phase, 0) + 1
            if _reached[phase] >= int(nth or 1):
                os.kill(os.getpid(), signal.SIGKILL)
