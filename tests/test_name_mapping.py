"""A table's name mapping matters only when some of its files lack Parquet field ids.

Some Iceberg REST catalogs (SeaweedFS's) put `schema.name-mapping.default` on every table they create; a
port whose files were all written by meshlake must still read in DuckDB. Files imported without field ids
(`add_files`) are still refused by DuckDB: see tests/query/test_deletes.py.
"""

from __future__ import annotations

from typing import Any

import meshlake as ml
from tests.workers import batch


def test_a_name_mapping_does_not_stop_duckdb_when_every_file_has_field_ids(port: Any, shipments: ml.Lake) -> None:
    port.write(batch("a", 1))
    table = port.table()
    mapping = table.schema().name_mapping.model_dump_json()
    table.transaction().set_properties({"schema.name-mapping.default": mapping}).commit_transaction()
    port.write(batch("b", 2))

    latest = port.latest()
    assert latest.metadata.name_mapping() is not None
    assert latest.plan.name_mapping is None  # every planned file carries field ids
    assert latest.to_arrow().num_rows == 6
    assert shipments.sql("SELECT count(*) FROM logistics.shipments.daily").fetchall() == [(6,)]
