"""Table maintenance behind `lake.maintain()` / `meshlake maintain`: one entry point, one step per module.

- `expire`: drop stale quarantine and staging branches, then snapshots outside a port's retention;
- `orphans`: find (and delete) files under a table's location that no live snapshot or metadata file uses;
- `compact`: rewrite many small data files of a partition into few, as one `overwrite` snapshot;
- `storage`: list and delete files through the table's own FileIO (local, S3, anything pyarrow opens).

The entry point, its orchestration and the report live in `maintain` (`maintain`, `run`, `targets`).

May import: `meshlake.errors`, `meshlake.catalog`, `meshlake.contract`, `meshlake.query`, `meshlake.write`,
`meshlake.quality`; the facades (`Lake`, `Port`) only as types.
"""
