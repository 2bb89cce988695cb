"""The write engine: a port write from input data to a committed, stamped snapshot (write-audit-publish).

Owns conforming input to the contract (`ingest`, lossless `casts`; `files`, `csv_input`, `jsonl_input` and
`text_types` for Parquet/CSV/JSON-lines inputs), the `where` filter grammar (`where`) and its evaluation
(`rowfilter`), the write modes (`modes`), Parquet data files with Iceberg field ids (`datafiles`), copy-on-write
rewrites (`rewrite`), committing a staged snapshot on an asserted base (`commit`), crash points for tests
(`faults`) and the flow that ties them together: stage, gate, publish or quarantine (`flow`; its types in
`results`, the row changes of replace, overwrite and delete in `row_changes`, an upsert's in `upsert`, the commit
with its re-bases in `commit_loop`, changes whose files were written elsewhere in `prewritten`). The gate itself
is handed in (the `Gate` protocol in `gate_protocol`), so the write engine does not depend on how quality is
checked.

May import: `meshlake.errors`, `meshlake.catalog`, `meshlake.contract`, `meshlake.query`.
"""
