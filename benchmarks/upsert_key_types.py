"""`bench_upsert --key-type decimal|uuid`: the merge-on-read upsert of a port keyed by one decimal or UUID column,
its rows found by the key index vs by the scan of every live key (what such ports cost before the index served
them), alternating (ABAB…), next to the limit (the upserted rows alone written as Parquet by the fastest raw
writer).

The port is lineitem with one more column, `l_key`, its primary key: `decimal(18,2)` (held by the index as an
unscaled int64, sorted by value) or `uuid` (16 bytes, sorted by hash; values spread at random, so the manifests'
bounds prune nothing). The upsert changes `share` of the rows: half existing keys spread over the port, half new.
"""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import meshlake as ml
from benchmarks.common import LINEITEM_YAML, lineitem
from meshlake.write import index_keeper, key_hashing, key_index, key_index_store

KEY_TYPES = {"decimal": "decimal(18,2)", "uuid": "uuid"}
MODES = ("index", "scan")


def keys_of(key_type: str, numbers: np.ndarray) -> pa.Array:
    """Row `numbers` as distinct keys of `key_type`: decimals with cents (`number × 79.19 + 0.13`), or UUIDs whose
    bytes are a bijective mix of the number (so distinct) that looks random."""
    if key_type == "decimal":
        unscaled = numbers.astype(np.int64) * 7919 + 13
        words = np.stack([unscaled, unscaled >> 63], axis=1)  # Arrow's decimal128: 16 bytes little-endian
        return pa.Array.from_buffers(pa.decimal128(18, 2), len(numbers), [None, pa.py_buffer(words)])
    with np.errstate(over="ignore"):
        high = key_hashing._mix(numbers.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15) + np.uint64(1))
        low = key_hashing._mix(high ^ np.uint64(0xD1B54A32D192ED03))
    raw = np.stack([high.byteswap(), low.byteswap()], axis=1).view(np.uint8).reshape(-1)
    storage = pa.FixedSizeBinaryArray.from_buffers(pa.binary(16), len(numbers), [None, pa.py_buffer(raw)])
    return pa.ExtensionArray.from_storage(pa.uuid(), storage)


def keyed(rows: pa.Table, key_type: str, numbers: np.ndarray) -> pa.Table:
    return rows.append_column("l_key", keys_of(key_type, numbers))


def new_port(root: Path, name: str, key_type: str) -> Any:
    """A lineitem port keyed by one `l_key` column of `key_type`."""
    text = LINEITEM_YAML.replace(
        "      - {name: l_comment, type: string}\n",
        f"      - {{name: l_comment, type: string}}\n      - {{name: l_key, type: '{KEY_TYPES[key_type]}', "
        "required: true}\n",
    ).replace("primary_key: [l_orderkey, l_linenumber]", "primary_key: [l_key]")
    descriptor = root / f"{name}.yaml"
    descriptor.write_text(text)
    return ml.connect(home=str(root / name)).deploy(descriptor).port("lineitem")


@contextmanager
def scan_only() -> Iterator[None]:
    """Lookups by the scan of every live key, as before the index served decimal and UUID keys."""
    lookup = key_index.lookup
    key_index.lookup = lambda table, plan, keys, presorted=None: None  # type: ignore[assignment]
    try:
        yield
    finally:
        key_index.lookup = lookup  # type: ignore[assignment]


def bench_size(rows: int, key_type: str, share: float, root: Path, repeat: int) -> dict[str, Any]:
    """Index vs scan lookups of one upsert of `share` of `rows`, alternating, and the limit."""
    from benchmarks.bench_upsert import fastest_limit

    load_before = os.getloadavg()
    base = keyed(lineitem(rows), key_type, np.arange(rows))
    size = int(rows * share)
    rng = np.random.default_rng(1)
    changed = base.take(pa.array(np.sort(rng.choice(rows, size // 2, replace=False))))
    changed = changed.set_column(4, "l_quantity", pc.add(changed["l_quantity"], 1.0))
    new_rows = size - changed.num_rows
    fresh = keyed(lineitem(new_rows, seed=1001), key_type, np.arange(rows, rows + new_rows))
    change = pa.concat_tables([changed, fresh])
    limit = fastest_limit(change, root, repeat)
    port = new_port(root, f"upsert_{key_type}_{rows}", key_type)
    start_id = port.write(base).snapshot_id
    began = time.perf_counter()
    first = port.write(change, mode="upsert", write_mode="merge-on-read")  # builds the key index of start_id
    first_s = time.perf_counter() - began
    found: dict[str, dict[str, list[Any]]] = {mode: {"walls": [], "cpus": [], "out": []} for mode in MODES}
    for _ in range(repeat):
        for mode in MODES:
            index_keeper.wait_all()
            port.rollback(to=start_id)
            with scan_only() if mode == "scan" else _nothing():
                wall, cpu = time.perf_counter(), time.process_time()
                outcome = port.write(change, mode="upsert", write_mode="merge-on-read")
                found[mode]["walls"].append(time.perf_counter() - wall)
                found[mode]["cpus"].append(time.process_time() - cpu)
            found[mode]["out"].append(outcome)
    index_keeper.wait_all()
    updated = {mode: {o.rows_updated for o in got["out"]} for mode, got in found.items()}
    assert updated["index"] == updated["scan"] == {changed.num_rows}, updated
    return {
        "base_rows": rows,
        "key_type": KEY_TYPES[key_type],
        "upsert_rows": change.num_rows,
        "rows_updated": changed.num_rows,
        "limit_changed_rows_parquet": {k: v for k, v in limit.items() if k != "writers"},
        "first_upsert_s": first_s,
        "first_upsert_phases": first.phases,
        **{
            mode: {
                "median_s": statistics.median(got["walls"]),
                "runs_s": got["walls"],
                "cpu_median_s": statistics.median(got["cpus"]),
                "cpu_runs_s": got["cpus"],
                "key_lookup_median_s": statistics.median(o.phases.get("key lookup", 0.0) for o in got["out"]),
            }
            for mode, got in found.items()
        },
        "load_average": [load_before, os.getloadavg()],
    }


@contextmanager
def _nothing() -> Iterator[None]:
    yield


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Upserts on decimal and UUID keys: the key index vs the scan of every live key",
        "",
        f"`{results['command']}` — {results['machine']}",
        "",
        "One merge-on-read upsert, half changed rows spread over the port and half new; `scan`: its rows found by "
        "reading every live key (what every decimal- or UUID-keyed upsert did before the index served them); "
        "`index`: found in the port's key index (steady state: it exists for the base snapshot), alternating. "
        "Median wall time, CPU time of this process in brackets. The limit is the upserted rows alone written "
        "as Parquet by the fastest raw writer: no upsert can write less.",
        "",
        "| key | port rows | upsert rows | limit | index | its lookup | scan | its lookup | scan / index "
        "| first upsert (builds the index) | load average |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for size in results["sizes"]:

        def cell(mode: str, size: dict[str, Any] = size) -> str:
            got = size[mode]
            wall, cpu, lookup = (got[k] * 1000 for k in ("median_s", "cpu_median_s", "key_lookup_median_s"))
            return f"{wall:,.0f} ms ({cpu:,.0f}) | {lookup:,.0f} ms"

        limit = size["limit_changed_rows_parquet"]["median_s"]
        load = " → ".join(" / ".join(f"{x:.1f}" for x in pair) for pair in size["load_average"])
        lines.append(
            f"| {size['key_type']} | {size['base_rows']:,} | {size['upsert_rows']:,} | {limit * 1000:,.0f} ms "
            f"| {cell('index')} | {cell('scan')} | {size['scan']['median_s'] / size['index']['median_s']:.1f} × "
            f"| {size['first_upsert_s'] * 1000:,.0f} ms | {load} |"
        )
    lines.append("")
    return "\n".join(lines)


def run(sizes: list[int], key_type: str, *, share: float, repeat: int, command: str, name: str) -> dict[str, Any]:
    """The series for each port size; returns the results (also written to benchmarks/results/<name>)."""
    from benchmarks.common import fresh_dir, machine, save

    root = fresh_dir(f"upsert_{key_type}")
    os.environ["MESHLAKE_CACHE_DIR"] = str(root / "cache")  # this run's key indexes, not the user's
    kept, key_index_store.KEEP = key_index_store.KEEP, 64  # runs roll back to the base again and again: keep its index
    try:
        measured = [bench_size(rows, key_type, share, root, repeat) for rows in sizes]
    finally:
        key_index_store.KEEP = kept
    results = {"machine": machine(), "command": command, "share": share, "repeat": repeat, "sizes": measured}
    save(name, results, markdown(results))
    return results
