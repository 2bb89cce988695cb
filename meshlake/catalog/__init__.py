"""The catalog: settings, opening Iceberg catalogs, and the storage behind them.

Owns `settings` (keyword > `MESHLAKE_*` > `meshlake.yaml` > embedded default), `catalogs` (pyiceberg SQL or
REST catalogs, namespaces created once; `sql_catalog`: the SQL catalog that commits on the metadata its caller
holds), `metadata` (table metadata updated, rendered and searched at the cost of what changed), `commits` (how
meshlake commits table metadata, deleting the files a commit supersedes) and `storage` (s3fs filesystems built
from a catalog's FileIO properties, for DuckDB and maintenance).

May import: `meshlake.errors` only. Knows nothing of descriptors, ports or data.
"""
