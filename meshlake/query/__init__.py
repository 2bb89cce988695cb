"""The read engine: any port, at any snapshot, read in place by DuckDB or Polars.

- `plan`: which data and delete files make up a snapshot (`plan_scan`, `plan_snapshot`, `PlanCache`)
- `sql`: a plan as one DuckDB relation over `read_parquet(..., schema = MAP {field_id: ...})`
- `polars_scan`: a plan as a lazy Polars frame
- `engine`: run a plan in DuckDB to Arrow
- `timetravel`: rewrite `AT (VERSION => ...)` / `AT (TIMESTAMP => ...)` on ports before DuckDB binds
- `views`: every port a lazily planned DuckDB view named by its address (`MeshViews`)
- `types`: Iceberg types, names and paths spelled for DuckDB; `errors`: `UnsupportedScanError`

Nothing here imports DuckDB, Polars or pandas at module level.
"""
