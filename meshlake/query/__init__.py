"""The read engine: any port, at any snapshot, read in place by DuckDB or Polars.

- `plan`: which data and delete files make up a snapshot (`plan_scan`, `plan_snapshot`, `PlanCache`)
- `sql`: a plan as one DuckDB relation over `read_parquet(..., schema = MAP {field_id: ...})`
- `polars_scan`: a plan as a lazy Polars frame
- `engine`: run a plan in DuckDB to Arrow
- `timetravel`: rewrite `AT (VERSION => ...)` / `AT (TIMESTAMP => ...)` on ports before DuckDB binds
- `views`: every port a lazily planned DuckDB view named by its address (`MeshViews`)
- `types`: Iceberg types, names and paths spelled for DuckDB; `errors`: `UnsupportedScanError`
- `history`: a port's history, one row per snapshot with meshlake's stamps, from metadata only
- `mesh`: the lake in DuckDB (`lake.duckdb()`, `lake.sql`): every port a view named by its address
- `access`: the `MeshAccess` protocol the views ask a caller's rights through (implemented in `meshlake.access`)
- `private`: restricted ports computed in a private DuckDB database, served as Arrow sources (`pushdown`: the
  filters DuckDB hands a source, as SQL with parameters)
- `lockdown`: locking a caller's connection to the directories of the ports it reads in place
- `policy`: `ReadPolicy`, the seam through which a read applies its reader's rights (made by `meshlake.access`)
- `session`: shared DuckDB databases for library work (quality checks, merge-on-read key lookups), a cursor each

Nothing here imports DuckDB, Polars or pandas at module level.

May import: `meshlake.errors`, `meshlake.catalog`, `meshlake.contract`. Knows nothing of writing.
"""
