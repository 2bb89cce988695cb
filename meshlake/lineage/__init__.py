"""Lineage: which snapshots every snapshot was built from, which columns come from which, and OpenLineage.

Owns the lineage graph at snapshot granularity (`graph.py`: descriptors' declared inputs plus the
`meshlake.inputs` stamps of every kept snapshot), traces up and down it (`trace.py`), column lineage from
`derived_from:` / `influenced_by:` and a port's `source_sql` parsed by sqlglot (`columns.py`), and the
OpenLineage export (`openlineage.py`, `meshlake[lineage]`).

May import `errors`, `catalog`, `contract`, `query` and `write` (names only); it reads ports through the `Lake`
it is handed, so the caller's read rights decide which ports' snapshots it sees.
"""
