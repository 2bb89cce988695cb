"""Names and paths from catalog metadata are untrusted: they must reach SQL quoted, and read back exactly."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
from pyiceberg.catalog.sql import SqlCatalog

from meshlake.query.plan import plan_scan
from meshlake.query.sql import duckdb_path, scan_sql

from .conftest import Files, duck_rows


def test_nasty_warehouse_paths_and_column_names_read_exactly_their_files(
    tmp_path: Path, mor: type[Files], duck: Any
) -> None:
    root = tmp_path / "it's [1] *wh"  # ('?' would be a URI query for pyiceberg's FileIO)
    catalog = SqlCatalog("q", uri=f"sqlite:///{tmp_path}/q.db", warehouse=f"file://{root}")
    catalog.create_namespace("d")
    schema = pa.schema([("id", pa.int64()), ('we"ird', pa.string()), ("it's", pa.string()), ("select", pa.int32())])
    table = catalog.create_table("d.t", schema=schema)
    mor.append(table, [{"id": 1, 'we"ird': "a", "it's": "b", "select": 3}])
    # A decoy that a glob would also match if the path were not escaped.
    data_dir = Path(mor.files_of(table)[0].removeprefix("file://")).parent
    decoy_dir = Path(str(data_dir).replace("[1] *", "1 x"))
    decoy_dir.mkdir(parents=True)
    pq.write_table(pa.table({"id": [99]}), decoy_dir / Path(mor.files_of(table)[0]).name)
    plan = plan_scan(table, table.current_snapshot().snapshot_id)
    assert duck_rows(duck, scan_sql(plan)) == [{"id": 1, 'we"ird': "a", "it's": "b", "select": 3}]
    assert plan.to_polars().collect().to_dicts() == [{"id": 1, 'we"ird': "a", "it's": "b", "select": 3}]


def test_duckdb_paths_strip_local_uris_and_escape_glob_characters() -> None:
    assert duckdb_path("file:///a/b.parquet") == "/a/b.parquet"
    assert duckdb_path("file:/a/b.parquet") == "/a/b.parquet"
    assert duckdb_path("file://localhost/a/b.parquet") == "/a/b.parquet"
    assert duckdb_path("s3://bucket/x[1]/y?.parquet") == "s3://bucket/x[[]1]/y[?].parquet"
    assert duckdb_path("/a/*.parquet") == "/a/[*].parquet"


def test_a_long_file_list_reads_exactly_its_files_whatever_their_names(tmp_path: Path, duck: Any) -> None:
    """Past 64 files the list is one string split by DuckDB: the same escaping, the same files, in order."""
    from meshlake.query.sql import path_list

    root = tmp_path / "it's [1] *wh"
    root.mkdir()
    paths = []
    for i in range(70):
        path = root / f"f{i:02d} [x]?.parquet"
        pq.write_table(pa.table({"id": [i]}), path)
        uri = ("file://" if i % 3 == 0 else "file://localhost" if i % 3 == 1 else "") + str(path)
        paths.append(uri)
    decoy = Path(str(root).replace("[1] *", "1 x"))  # what the unescaped glob would also match
    decoy.mkdir()
    pq.write_table(pa.table({"id": [999]}), decoy / "f00 x?.parquet")

    listed = path_list(paths)

    assert listed.startswith("string_split(")
    assert listed.count("\x1f") == len(paths) - 1
    got = duck.sql(f"SELECT file_index, id FROM read_parquet({listed}, file_row_number = true)").fetchall()
    assert sorted(got) == [(i, i) for i in range(70)], "every file once, none else, each at its list position"
    short = path_list(paths[:3])
    assert short.startswith("[") and duck.sql(f"SELECT count(*) FROM read_parquet({short})").fetchall() == [(3,)]
    with_separator = [*paths[:65], str(root / "a\x1fb.parquet")]
    assert path_list(with_separator).startswith("["), "a name holding the separator keeps the list literal"


def test_a_long_file_list_in_pieces_reads_exactly_its_files(tmp_path: Path, duck: Any) -> None:
    """Paths joined per manifest (`ScanPlan.path_texts`) are escaped piece by piece: the same files, in order;
    a piece holding the separator or a NUL falls back to the list literal, as one joined text does."""
    from meshlake.query.sql import path_list

    root = tmp_path / "it's [1] *wh"
    root.mkdir()
    paths = []
    for i in range(70):
        path = root / f"f{i:02d} [x]?.parquet"
        pq.write_table(pa.table({"id": [i]}), path)
        paths.append(("file://" if i % 2 else "") + str(path))
    texts = ["\x1f".join(paths[:30]), "\x1f".join(paths[30:31]), "\x1f".join(paths[31:])]

    listed = path_list(paths, texts)

    assert listed == path_list(paths), "pieces render the text one joined list renders"
    got = duck.sql(f"SELECT file_index, id FROM read_parquet({listed}, file_row_number = true)").fetchall()
    assert sorted(got) == [(i, i) for i in range(70)]
    with_separator = [*paths[:65], str(root / "a\x1fb.parquet")]
    pieces = ["\x1f".join(paths[:65]), str(root / "a\x1fb.parquet")]
    assert path_list(with_separator, pieces).startswith("["), "a name holding the separator keeps the list literal"


def test_a_plan_with_fewer_tasks_reads_only_its_tasks_not_its_source_plans_files(tmp_path: Path, duck: Any) -> None:
    """`dataclasses.replace(plan, tasks=...)` (a quarantine's new rows, a compaction's batch) must not reuse the
    path pieces planned for the whole snapshot."""
    from dataclasses import replace

    catalog = SqlCatalog("q", uri=f"sqlite:///{tmp_path}/q.db", warehouse=f"file://{tmp_path}/wh")
    catalog.create_namespace("d")
    table = catalog.create_table("d.t", schema=pa.schema([("id", pa.int64())]))
    for i in range(70):
        table.append(pa.table({"id": [i]}))
    plan = plan_scan(table, table.current_snapshot().snapshot_id)  # type: ignore[union-attr]
    assert plan.path_texts is not None and sum(t.count("\x1f") + 1 for t in plan.path_texts) == 70

    whole = duck.sql(f"SELECT count(*) FROM ({scan_sql(plan)})").fetchall()
    part = replace(plan, tasks=plan.tasks[:66])

    assert whole == [(70,)]
    assert part.path_texts is None
    assert duck.sql(f"SELECT count(*) FROM ({scan_sql(part)})").fetchall() == [(66,)]


def test_a_chain_of_appended_plans_reads_every_file_once(tmp_path: Path, duck: Any) -> None:
    """A gate stages each append on the plan it staged last (`ScanPlan.appended`): the path texts it carries
    grow by one per append and are joined into one past a bound; every file is read, once."""
    catalog = SqlCatalog("q", uri=f"sqlite:///{tmp_path}/q.db", warehouse=f"file://{tmp_path}/wh")
    catalog.create_namespace("d")
    table = catalog.create_table("d.t", schema=pa.schema([("id", pa.int64())]))
    for i in range(80):
        table.append(pa.table({"id": [i]}))
    snapshots = table.metadata.snapshots
    whole = plan_scan(table, snapshots[-1].snapshot_id)
    plan = plan_scan(table, snapshots[9].snapshot_id)  # 10 files, planned from manifests
    lengths = []
    for task in whole.tasks:
        if task.path not in plan.files:
            plan = plan.appended((task,))
            lengths.append(len(plan.path_texts or ()))

    assert max(lengths) <= 32 and 1 in lengths, lengths
    assert sorted(plan.files) == sorted(whole.files)
    got = duck.sql(f"SELECT id, count(*) FROM ({scan_sql(plan)}) GROUP BY id ORDER BY id").fetchall()
    assert got == [(i, 1) for i in range(80)]
