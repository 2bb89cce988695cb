"""The hook through which the read paths report each read to the access log (`meshlake.access.log`).

The read engine does not know who reads or where reads are logged: the facades hand a `ReadRecorder` down
(to `PortSnapshot`, to `MeshViews`), and a read path calls it once it has what it returns. A path that has
applied masks or a row filter says which; when it says nothing (`None`), the recorder fills them in from the
reader's rights.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Protocol


class ReadRecorder(Protocol):
    """Called once per read of a port: what was read (`address`, `snapshot_id`, `columns`) and through what.

    `path`: `arrow`, `polars`, `pandas`, `relation` (the SQL of a snapshot), `sql` (`lake.sql`), `duckdb` (a
    connection from `lake.duckdb()`); `query_id`: the query's id where there is one. It must be cheap (it runs
    on every read) and may raise only to refuse the read (the access log cannot take another entry).
    """

    def __call__(
        self,
        address: str,
        snapshot_id: int | None,
        columns: Sequence[str],
        *,
        path: str,
        query_id: str | None = None,
        masks: Mapping[str, str] | None = None,
        row_filter: str | None = None,
    ) -> None: ...
