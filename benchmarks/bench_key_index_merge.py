"""The key index's merges in a series of upserts: flat (every run into a new base) vs tiered (`key_merge`).

    python -m benchmarks.bench_key_index_merge [--sizes 6000000,20000000] [--upserts 24] [--share 0.01]
                                               [--repeat 2] [--name key_index_merge]

A port of `size` rows keyed like the upsert benchmark's lineitem port (`l_orderkey`, `l_linenumber`: a compound
key, indexed by a hash with both columns held, 32 bytes a row) gets `--upserts` upserts of `share` of its rows, half
changed rows spread over the port (tombstones of their old rows) and half new keys, as a keeping brings the index to
each snapshot (a small run and a tombstone run per upsert); whenever a merge is due it runs as `_merge_aside` runs
it: the merge, then the merged runs' files written (`key_index_store.written_run`: a run already on disk is not
written again). Two policies, alternating (ABAB…, `--repeat` series each, each from the same saved base):

- `flat`: the merge before tiering — due when the runs and tombstones pass 12 or their rows 1/8 of the base's, and
  then everything into a new base (O(port), the base rewritten: 640 MB at 20 M rows);
- `tiered`: `key_merge.due` / `key_merge.merged` — small runs into a middle run, the base rewritten only when the
  runs after it and the tombstones pass `key_merge.MERGE_SHARE` of it.

Reported per policy and size (medians over the series): merges per series, the merge CPU time and bytes written per
series and per upsert (amortised), the largest single merge (CPU, bytes), and the lookup of one upsert's keys after
each upsert (CPU: more runs to search cost the lookups). CPU time is this process's (`time.process_time`); the merges
run in this thread, one at a time. The limit is the bytes that changed: the upserts' own small runs and tombstones,
which any index must write once (`changed bytes`).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import fresh_dir, machine, save
from meshlake.write import key_index_store, key_merge
from meshlake.write.key_runs import FileEntry, KeyIndex, Run, new_run, tombstone_run

FLAT_MAX_RUNS = 12
FLAT_SHARE = 0.125
"""The flat policy's triggers (the key index's before tiering)."""
POLICIES = ("flat", "tiered")


def flat_due(index: KeyIndex) -> bool:
    base = len(index.runs[0].rows) if index.runs else 0
    many = len(index.runs) + len(index.tombstones) > FLAT_MAX_RUNS
    return many or index.delta_rows > FLAT_SHARE * max(base, 1)


def keys_of(orders: np.ndarray, lines: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The hash sort key and the two held columns of (`orders`, `lines`), as the index holds a compound key."""
    from meshlake.write.key_hashing import sort_key

    columns = [orders.astype(np.int64), lines.astype(np.int64)]
    return sort_key(columns), columns[0], columns[1]


def base_index(size: int) -> KeyIndex:
    """The index of a port of `size` rows in 20 data files: 4 lines per order, keys spread over the files."""
    rng = np.random.default_rng(1)
    slots = rng.permutation(size)  # row of each key: keys spread over the port
    orders, lines = slots // 4, slots % 4
    sort, c0, c1 = keys_of(orders, lines)
    run = new_run(sort, np.arange(size, dtype=np.int64), [c0, c1])
    per_file = -(-size // 20)
    files = tuple(FileEntry(f"f{i}", i * per_file, min(per_file, size - i * per_file), frozenset()) for i in range(20))
    return KeyIndex("bench", 0, ("l_orderkey", "l_linenumber"), (1, 2), files, (run,), (), size, ("integer",) * 2)


def upserted(index: KeyIndex, size: int, share: float, step: int, rng: np.random.Generator) -> tuple[KeyIndex, int]:
    """`index` (of a port of `size` rows at first) caught up past one upsert: its data file (a small run of changed
    + new keys), its tombstones; the bytes of the two new runs."""
    count = int(size * share)
    changed_rows = np.sort(rng.choice(size, count // 2, replace=False))  # old rows, spread (some dead already)
    new = np.arange(count - count // 2, dtype=np.int64) + 10**12 + step * count
    orders = np.concatenate([changed_rows // 4, new])
    lines = np.concatenate([changed_rows % 4, np.zeros(len(new), np.int64)])
    sort, c0, c1 = keys_of(orders, lines)
    offset = index.next_row
    run = new_run(sort, offset + np.arange(count, dtype=np.int64), [c0, c1])
    tombs = tombstone_run(changed_rows)
    files = (*index.files, FileEntry(f"u{step}", offset, count, frozenset()))
    caught = KeyIndex(
        index.table_uuid,
        step + 1,
        index.key,
        index.field_ids,
        files,
        (*index.runs, run),
        (*index.tombstones, tombs),
        offset + count,
        index.kinds,
    )
    return caught, 8 * (4 * count + len(tombs.rows))


def written(folder: Path, runs: tuple[Run, ...]) -> int:
    """Write the runs not on disk yet (as a merge aside does); the bytes written."""
    before = _bytes(folder)
    for run in runs:
        if key_index_store.written_run(folder, run) is None:
            raise OSError(f"run {run.name} not written to {folder}")
    return _bytes(folder) - before


def _bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.glob("*.npy"))


def series(base: KeyIndex, policy: str, upserts: int, share: float, folder: Path) -> dict[str, Any]:
    """One series of `upserts` on `base` (its files on disk already in `folder`) under `policy`."""
    rng = np.random.default_rng(7)
    index = base
    merges: list[dict[str, float]] = []
    lookups: list[float] = []
    changed = 0
    for step in range(upserts):
        index, step_bytes = upserted(index, len(base.runs[0].rows), share, step, rng)
        changed += step_bytes
        written(folder, (*index.runs, *index.tombstones))  # the keeping's save: only the new runs
        if flat_due(index) if policy == "flat" else key_merge.due(index):
            wall, cpu = time.perf_counter(), time.process_time()
            done = key_merge.merged(index, full=True if policy == "flat" else None)
            merge_cpu = time.process_time() - cpu
            bytes_written = written(folder, (*done.runs, *done.tombstones))
            merges.append(
                {
                    "step": step + 1,
                    "cpu_s": time.process_time() - cpu,
                    "merge_cpu_s": merge_cpu,
                    "wall_s": time.perf_counter() - wall,
                    "bytes": bytes_written,
                    "base_rewritten": float(done.runs[0].name != index.runs[0].name),
                }
            )
            index = done
        probe = rng.choice(len(base.runs[0].rows), int(len(base.runs[0].rows) * share), replace=False)
        sort, c0, c1 = keys_of(probe // 4, probe % 4)
        cpu = time.process_time()
        index.find([c0, c1])
        lookups.append(time.process_time() - cpu)
        del sort
    return {
        "merges": len(merges),
        "base_rewrites": int(sum(m["base_rewritten"] for m in merges)),
        "merge_cpu_s": sum(m["cpu_s"] for m in merges),
        "merge_wall_s": sum(m["wall_s"] for m in merges),
        "bytes_written": sum(m["bytes"] for m in merges),
        "max_merge_cpu_s": max((m["cpu_s"] for m in merges), default=0.0),
        "max_merge_bytes": max((m["bytes"] for m in merges), default=0),
        "changed_bytes": changed,
        "lookup_cpu_median_s": statistics.median(lookups),
        "lookup_cpu_max_s": max(lookups),
        "runs_at_end": len(index.runs),
        "tombstone_runs_at_end": len(index.tombstones),
        "each": merges,
    }


def bench_size(size: int, upserts: int, share: float, repeat: int, root: Path) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    base = base_index(size)
    found: dict[str, list[dict[str, Any]]] = {policy: [] for policy in POLICIES}
    for _ in range(repeat):
        for policy in POLICIES:  # ABAB…
            folder = root / f"{size}-{policy}"
            shutil.rmtree(folder, ignore_errors=True)
            key_index_store._memo.clear()
            written(folder, base.runs)  # the base is on disk before the series, as after the first upsert
            found[policy].append(series(base, policy, upserts, share, folder))
            shutil.rmtree(folder, ignore_errors=True)
    summary: dict[str, Any] = {"rows": size, "upserts": upserts, "load_average": {"before": load_before}}
    for policy, runs in found.items():
        summary[policy] = {key: statistics.median(run[key] for run in runs) for key in runs[0] if key != "each"} | {
            "series": runs
        }
    summary["load_average"]["after"] = os.getloadavg()[0]
    return summary


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Key index merges in a series of upserts: flat vs tiered",
        "",
        f"`{results['command']}` — {results['machine']['cpus']} CPUs; median of {results['repeat']} series per "
        f"policy, alternating. Each upsert: {results['share']:.0%} of the port's rows, half changed (spread), half "
        "new; compound key (32 bytes a row). CPU time of this process; merges run one at a time in one thread.",
        "",
        "| rows | policy | merges (base rewrites) | merge CPU / series | written / series | per upsert: CPU, bytes "
        "| largest merge: CPU, bytes | changed bytes / upsert (the limit) | lookup CPU (median, max) | load avg |",
        "|---:|---|---:|---:|---:|---|---|---:|---|---|",
    ]
    for size in results["sizes"]:
        n = size["upserts"]
        load = size["load_average"]
        for policy in POLICIES:
            got = size[policy]
            lines.append(
                f"| {size['rows']:,} | {policy} | {got['merges']:.0f} ({got['base_rewrites']:.0f}) "
                f"| {got['merge_cpu_s'] * 1000:,.0f} ms | {got['bytes_written'] / 1e6:,.0f} MB "
                f"| {got['merge_cpu_s'] / n * 1000:,.0f} ms, {got['bytes_written'] / n / 1e6:,.1f} MB "
                f"| {got['max_merge_cpu_s'] * 1000:,.0f} ms, {got['max_merge_bytes'] / 1e6:,.0f} MB "
                f"| {got['changed_bytes'] / n / 1e6:,.1f} MB "
                f"| {got['lookup_cpu_median_s'] * 1000:,.1f} ms, {got['lookup_cpu_max_s'] * 1000:,.1f} ms "
                f"| {load['before']:.1f} → {load['after']:.1f} |"
            )
    lines += [
        "",
        "The limit is what changed: each upsert's small run and tombstones, written once by its keeping whatever the "
        "policy (not counted in the merges' bytes). A flat merge rewrites the whole base (O(port)) every few "
        "upserts; a tiered one rewrites the runs after the base, and the base once they pass "
        f"{key_merge.MERGE_SHARE:.0%} of it.",
        "",
    ]
    return "\n".join(lines)


def run(sizes: list[int], *, upserts: int, share: float, repeat: int, name: str, command: str) -> dict[str, Any]:
    root = fresh_dir("key_index_merge")
    measured: list[dict[str, Any]] = []
    results = {
        "machine": machine(),
        "command": command,
        "share": share,
        "repeat": repeat,
        "merge_share": key_merge.MERGE_SHARE,
        "small_runs": key_merge.SMALL_RUNS,
        "sizes": measured,
    }
    try:
        for size in sizes:
            measured.append(bench_size(size, upserts, share, repeat, root))
            save(name, results, markdown(results))  # each size as it is done: a later failure keeps it
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="6000000,20000000")
    parser.add_argument("--upserts", type=int, default=24)
    parser.add_argument("--share", type=float, default=0.01)
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--name", default="key_index_merge")
    args = parser.parse_args()
    run(
        [int(size) for size in args.sizes.split(",")],
        upserts=args.upserts,
        share=args.share,
        repeat=args.repeat,
        name=args.name,
        command="python -m benchmarks.bench_key_index_merge " + " ".join(sys.argv[1:]),
    )


if __name__ == "__main__":
    main()
