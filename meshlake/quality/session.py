"""The shared DuckDB databases of quality checks: `meshlake.query.session` (merge-on-read writes use them too)."""

from meshlake.query.session import MAX_DATABASES, _databases, clear, connection

__all__ = ["MAX_DATABASES", "_databases", "clear", "connection"]
