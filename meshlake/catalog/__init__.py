"""The catalog: settings, opening Iceberg catalogs, and the storage behind them.

Owns `settings` (keyword > `MESHLAKE_*` > `meshlake.yaml` > embedded default), `catalogs` (pyiceberg SQL or
REST catalogs, namespaces created once; `sql_catalog`: the SQL catalog that commits on the metadata its caller
holds), `metadata` (table metadata updated, rendered and searched at the cost of what changed), `loading` (table
metadata loaded for reads at the cost of what a read needs: the snapshots no ref names are read on first use),
`disk_cache` (the folder of meshlake's on-disk caches), `commits` (how meshlake commits table metadata, deleting
the files a commit supersedes) and `storage` (s3fs filesystems built from a catalog's FileIO properties, for
DuckDB and maintenance).

May import: `meshlake.errors` only. Knows nothing of descriptors, ports or data.
"""
