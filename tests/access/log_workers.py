"""Functions the access-log tests run in other processes (importable for spawn)."""

from __future__ import annotations

import meshlake as ml


def read_and_close(home: str, principal: str, reads: int, flush_entries: int) -> int:
    """Read the shipments port `reads` times as `principal` (the log written every `flush_entries` reads), close
    the lake; returns how many appends this process committed to the log."""
    lake = ml.connect(home=home, principal=principal, access_log="on", access_log_flush_entries=str(flush_entries))
    port = lake.port("logistics.shipments.daily")
    for _ in range(reads):
        port.latest().to_arrow()
    lake.close()
    log = lake.access_log
    assert log is not None
    return log.commits
