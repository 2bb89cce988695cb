"""Reliability per catalog (SQLite, PostgreSQL, REST): concurrent writers, a mixed run, and SIGKILLed writers.

    python -m benchmarks.bench_reliability [--writers 2 4 8] [--appends 25] [--kills 36] [--catalogs sqlite rest]
                                           [--roles append upsert:merge-on-read delete:merge-on-read]

Starts its own SeaweedFS (S3 + Iceberg REST catalog) and uses the PostgreSQL server of `.ci/postgres.sh`
(a database of its own, dropped at the end); a catalog whose service is missing is reported as skipped.
SQLite and PostgreSQL catalogs keep their files on local disk, the REST catalog on S3.

1. **Concurrent appends**: N writer processes × `--appends` appends each (10 rows, through the quality gate),
   released together. Every acknowledged batch must be in the final table exactly once. Per write:
   rebases (`main` moved, the write was re-applied on the new head) and catalog-level commit retries.
2. **Mixed**: two appenders, a writer replacing one day (`mode="replace", where=…`) and a writer whose
   gate fails. Appends all land; each replace lands or fails with `CommitConflictError`; nothing of the
   failing writer is published.
3. **Crashes**: `--kills` writer processes SIGKILLed (half at an exact phase through `MESHLAKE_CRASH_AT`,
   half at a random instant) while a reader polls the port. Counts torn reads and lost commits (both must
   be 0), then the orphan files `lake.maintain` lists and removes. `--roles` cycles the killed writers over
   appenders and upserters / deleters (`<upsert|delete>:<merge-on-read|copy-on-write>`); the port's rows are
   checked by content after every kill (`tests.crash`).

Writes benchmarks/results/reliability.json and .md.
"""

from __future__ import annotations

import argparse
import random
import time
from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import fresh_dir, machine, save
from tests.backends import backend_settings, product_descriptor, product_domain, unique_tag, write_descriptor
from tests.crash import crash_run, orphan_kind
from tests.services import (
    SeaweedFS,
    ServiceUnavailableError,
    check_postgres,
    configured_postgres_url,
    drop_postgres_database,
    fresh_postgres_database,
    start_seaweedfs,
    unique_database_name,
)
from tests.writers import ROW_CHANGES, WRITE_MODES, run_writers

CATALOG_BACKENDS = {"sqlite": "sqlite-local", "postgres": "postgres-local", "rest": "rest-s3"}


class Services:
    def __init__(self, root: Path) -> None:
        self.seaweedfs: SeaweedFS | None = None
        self.postgres_base: str | None = None
        self.postgres_url: str | None = None
        self.unavailable: dict[str, str] = {}
        try:
            self.seaweedfs = start_seaweedfs(root / "seaweedfs")
        except ServiceUnavailableError as exc:
            self.unavailable["rest"] = str(exc)
        base = configured_postgres_url()
        try:
            check_postgres(base)
            self.postgres_base = base
            self.postgres_url = fresh_postgres_database(base, unique_database_name("meshlake_bench"))
        except ServiceUnavailableError as exc:
            self.unavailable["postgres"] = str(exc)

    def stop(self) -> None:
        if self.seaweedfs is not None:
            self.seaweedfs.stop()
        if self.postgres_base and self.postgres_url:
            drop_postgres_database(self.postgres_base, self.postgres_url)


def new_port(services: Services, catalog: str, root: Path) -> tuple[dict[str, Any], str, str]:
    """A fresh lake on `catalog` with the shipments product deployed: (settings, address, product)."""
    import meshlake as ml

    tag = unique_tag()
    folder = root / tag
    settings = backend_settings(
        CATALOG_BACKENDS[catalog],
        root=folder,
        tag=tag,
        seaweedfs=services.seaweedfs,
        postgres_url=services.postgres_url,
    )
    domain = product_domain(tag)
    ml.connect(**settings).deploy(write_descriptor(folder / "product", product_descriptor(domain)))
    return settings, f"{domain}.shipments.daily", f"{domain}.shipments"


def percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50": 0.0, "p95": 0.0, "max": 0.0, "mean": 0.0}
    array = np.asarray(values, dtype=float)
    return {
        "p50": float(np.percentile(array, 50)),
        "p95": float(np.percentile(array, 95)),
        "max": float(array.max()),
        "mean": float(array.mean()),
    }


def final_rows(settings: dict[str, Any], address: str) -> list[str]:
    import meshlake as ml

    rows: list[str] = ml.connect(**settings).port(address).to_arrow()["shipment_id"].to_pylist()
    return rows


def orphans(settings: dict[str, Any], address: str) -> dict[str, Any]:
    """Files no snapshot refers to after a run without crashes, the port's and the quality history's; removed
    then, so that the next run (the REST catalog's quality history is shared by all runs) starts clean."""
    from datetime import timedelta

    import meshlake as ml

    lake = ml.connect(**settings)
    found: dict[str, Any] = {"by_kind": Counter()}
    for name, selection in (("port", address), ("quality_history", "meshlake.system")):
        report = lake.maintain(selection, apply=True, expire=False, compact=False, orphan_age=timedelta(0))
        files = [f for p in report.ports for f in p.orphan_files]
        found[name] = len(files)
        found["by_kind"].update(orphan_kind(f) for f in files)
    found["by_kind"] = dict(found["by_kind"])
    return found


def concurrent_appends(services: Services, catalog: str, root: Path, writers: int, appends: int) -> dict[str, Any]:
    settings, address, _ = new_port(services, catalog, root)
    jobs = [(f"w{i}", "append", appends) for i in range(writers)]
    started = time.perf_counter()
    outcomes = run_writers(settings, address, jobs, root / f"barrier-{unique_tag()}")
    seconds = time.perf_counter() - started
    acknowledged = [o for o in outcomes if o["ok"]]
    rows = final_rows(settings, address)
    present = set(rows)
    return {
        "orphan_files_after": orphans(settings, address),
        "writers": writers,
        "appends_per_writer": appends,
        "commits": len(acknowledged),
        "failed_writes": len(outcomes) - len(acknowledged),
        "errors": dict(Counter(str(o["error"]) for o in outcomes if not o["ok"])),
        "lost": sum(1 for o in acknowledged if not set(o["ids"]) <= present),
        "duplicates": len(rows) - len(present),
        "unacknowledged_rows": len(present - {i for o in acknowledged for i in o["ids"]}),
        "rebases": percentiles([o["rebases"] for o in outcomes]),
        "commit_retries": percentiles([o["commit_retries"] for o in outcomes]),
        "retries_total": percentiles([o["rebases"] + o["commit_retries"] for o in outcomes]),
        "write_seconds": percentiles([o["seconds"] for o in outcomes]),
        "seconds": seconds,
        "commits_per_second": len(acknowledged) / seconds,
    }


def mixed(services: Services, catalog: str, root: Path, appends: int) -> dict[str, Any]:
    import meshlake as ml

    settings, address, _ = new_port(services, catalog, root)
    jobs = [("a0", "append", appends), ("a1", "append", appends), ("r0", "replace", appends // 2), ("bad", "bad", 3)]
    outcomes = run_writers(settings, address, jobs, root / f"barrier-{unique_tag()}")
    port = ml.connect(**settings).port(address)
    rows = port.to_arrow()["shipment_id"].to_pylist()
    published = {entry.run_id for entry in port.history()}
    by_role: dict[str, Counter[str]] = {}
    for o in outcomes:
        by_role.setdefault(o["role"], Counter())["ok" if o["ok"] else str(o["error"])] += 1
    acknowledged = {o["run_id"] for o in outcomes if o["ok"]}
    bad_ids = {i for o in outcomes if o["role"] == "bad" for i in o["ids"]}
    return {
        "orphan_files_after": orphans(settings, address),
        "outcomes": {role: dict(counts) for role, counts in by_role.items()},
        "history_matches_acknowledged": published == acknowledged,
        "failing_writer_rows_published": len(bad_ids & set(rows)),
        "quarantined": len(port.quarantine()),
        "duplicates": len(rows) - len(set(rows)),
        "retries_total": percentiles([o["rebases"] + o["commit_retries"] for o in outcomes if o["ok"]]),
    }


def crashes(
    services: Services, catalog: str, root: Path, kills: int, seed: int, roles: tuple[str, ...] = ("append",)
) -> dict[str, Any]:
    settings, address, product = new_port(services, catalog, root)
    run = crash_run(
        settings, address, root / f"crash-{catalog}", kills=kills, rng=random.Random(seed), product=product, roles=roles
    )
    summary = run.summary()
    summary["ok"] = run.ok
    summary["problems"] = {
        "torn_reads": run.torn_reads[:5],
        "lost_commits": run.lost_commits[:5],
        "read_errors": run.read_errors[:5],
        "load_failures": run.load_failures[:5],
        "maintain_errors": run.maintain_errors[:5],
        "lost_rows": run.lost_rows[:5],
        "resurrected_rows": run.resurrected_rows[:5],
        "dangling_deletes": run.dangling_deletes[:5],
        "engine_mismatches": run.engine_mismatches[:5],
    }
    return summary


def markdown(results: dict[str, Any]) -> str:
    lines = [
        "# Reliability: concurrent writers and SIGKILLed writers, per catalog",
        "",
        f"Regenerate: `python -m benchmarks.bench_reliability` ({results['command']}). Machine: "
        f"{results['machine']['cpus']} cores, pyiceberg {results['machine']['pyiceberg']}, "
        f"duckdb {results['machine']['duckdb']}; run {results['machine']['when']}.",
        "SQLite and PostgreSQL catalogs on local disk; the REST catalog (SeaweedFS) on S3. Every write goes",
        "through the quality gate and records its verdict in `meshlake.system.quality_results`.",
        "",
    ]
    for catalog, reason in results["skipped"].items():
        lines.append(f"- **{catalog} skipped**: {reason}")
    lines += [
        "",
        "## Concurrent appends (N processes × appends each, released together)",
        "",
        "Retries per write: *rebases* (`main` moved; the append was re-applied on the new head) plus",
        "catalog-level commit retries (a lost race in which `main` did not move).",
        "",
        "| catalog | writers | commits | lost | duplicates | retries p50 / p95 / max | of which catalog-level "
        "p50 / p95 | write latency p50 / p95 | commits/s | orphan files after (port / quality history) |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for catalog, entry in results["catalogs"].items():
        for run in entry["concurrent"]:
            r, c, w = run["retries_total"], run["commit_retries"], run["write_seconds"]
            lines.append(
                f"| {catalog} | {run['writers']} | {run['commits']}/{run['writers'] * run['appends_per_writer']} "
                f"| {run['lost']} | {run['duplicates']} | {r['p50']:.0f} / {r['p95']:.1f} / {r['max']:.0f} "
                f"| {c['p50']:.0f} / {c['p95']:.1f} | {w['p50'] * 1000:.0f} / {w['p95'] * 1000:.0f} ms "
                f"| {run['commits_per_second']:.1f} "
                f"| {run['orphan_files_after']['port']} / {run['orphan_files_after']['quality_history']} "
                f"({_kinds(run['orphan_files_after'])}) |"
            )
    failed = [
        f"{catalog} × {run['writers']}: {error} ({n})"
        for catalog, entry in results["catalogs"].items()
        for run in entry["concurrent"]
        for error, n in run["errors"].items()
    ]
    lines += [
        "",
        "Failed appends: " + ("; ".join(failed) if failed else "none") + ".",
        "",
        "Orphan files after a run without crashes: `metadata.json` files (the metadata log keeps the last 100,",
        "`write.metadata.previous-versions-max`, and a SQL catalog leaves the metadata file of a commit that lost",
        "the race at its UPDATE) and, once the quality history passes 300 snapshots (the REST catalog's is shared",
        "by every run), the manifests of the history snapshots meshlake expires (`quality/records.py`). No data",
        "file. `lake.maintain` removes them (here, after each run).",
    ]
    lines += [
        "",
        '## Mixed run: 2 appenders, a day replacer (`mode="replace"`), a writer failing its gate',
        "",
        "| catalog | appends | replaces | failing writer | failing rows published | history = acknowledged "
        "| duplicates | orphan files after (port / quality history) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for catalog, entry in results["catalogs"].items():
        m = entry["mixed"]
        o = m["outcomes"]
        lines.append(
            f"| {catalog} | {_counts(o.get('append', {}))} | {_counts(o.get('replace', {}))} "
            f"| {_counts(o.get('bad', {}))}, {m['quarantined']} quarantined | {m['failing_writer_rows_published']} "
            f"| {m['history_matches_acknowledged']} | {m['duplicates']} "
            f"| {m['orphan_files_after']['port']} / {m['orphan_files_after']['quality_history']} |"
        )
    lines += [
        "",
        "## Crashes: writers SIGKILLed while a reader polls the port",
        "",
        "| catalog | kills (exact / random) | interrupted while | acknowledged commits | committed snapshots "
        "| reads | snapshots seen by reader | torn reads | lost commits | orphan files found (in the quality "
        "history; by kind) / removed / left |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    total_kills = 0
    for catalog, entry in results["catalogs"].items():
        c = entry["crashes"]
        total_kills += c["kills"]
        phases = ", ".join(f"{phase}: {n}" for phase, n in sorted(c["kills_by_phase"].items()))
        lines.append(
            f"| {catalog} | {c['kills']} ({c['kills_exact']} / {c['kills_random']}) | {phases} "
            f"| {c['acknowledged_commits']} | {c['committed_snapshots']} | {c['reads']} "
            f"| {c['snapshots_seen_by_reader']} | {c['torn_reads']} | {c['lost_commits']} "
            f"| {c['orphan_files_found']} ({c['orphan_files_found_in_quality_history']}; {_kinds(c)}) "
            f"/ {c['orphan_files_removed']} / {c['orphan_files_left']} |"
        )
    lines += [
        "",
        f"{total_kills} kills in all. A torn read is a row count (read from the files, in place) that no",
        "committed snapshot of `main` ever had, or that differs from the read snapshot's own total.",
        "Read errors (after one retry), writer processes that died otherwise than by the kill, and",
        "failures to load the table after a kill are counted too: "
        + ", ".join(
            f"{catalog}: {e['crashes']['read_errors']} / {e['crashes']['load_failures']}"
            for catalog, e in results["catalogs"].items()
        )
        + " (read errors / load failures).",
        "",
    ]
    return "\n".join(lines)


def _kinds(entry: dict[str, Any]) -> str:
    kinds = entry.get("orphan_files_by_kind") or entry.get("by_kind") or {}
    return ", ".join(f"{n} {kind}" for kind, n in sorted(kinds.items())) or "none"


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {what}" for what, n in sorted(counts.items())) or "none"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--writers", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--appends", type=int, default=25)
    parser.add_argument("--kills", type=int, default=36, help="kills per catalog")
    parser.add_argument("--catalogs", nargs="+", default=list(CATALOG_BACKENDS), choices=list(CATALOG_BACKENDS))
    parser.add_argument("--seed", type=int, default=2026)
    roles = ["append", *(f"{change}:{mode}" for change in ROW_CHANGES for mode in WRITE_MODES)]
    parser.add_argument("--roles", nargs="+", default=["append"], choices=roles, help="what the killed writers do")
    args = parser.parse_args()
    root = fresh_dir("reliability")
    services = Services(root)
    command = (
        f"--writers {' '.join(map(str, args.writers))} --appends {args.appends} --kills {args.kills} "
        f"--catalogs {' '.join(args.catalogs)} --seed {args.seed} --roles {' '.join(args.roles)}"
    )
    results: dict[str, Any] = {"machine": machine(), "command": command, "skipped": {}, "catalogs": {}}
    try:
        for catalog in args.catalogs:
            if catalog in services.unavailable:
                results["skipped"][catalog] = services.unavailable[catalog]
                print(f"{catalog}: skipped: {services.unavailable[catalog]}", flush=True)
                continue
            entry: dict[str, Any] = {"backend": CATALOG_BACKENDS[catalog], "concurrent": []}
            for writers in args.writers:
                print(f"{catalog}: {writers} writers × {args.appends} appends", flush=True)
                entry["concurrent"].append(concurrent_appends(services, catalog, root, writers, args.appends))
            print(f"{catalog}: mixed run", flush=True)
            entry["mixed"] = mixed(services, catalog, root, min(args.appends, 10))
            print(f"{catalog}: {args.kills} kills", flush=True)
            entry["crashes"] = crashes(services, catalog, root, args.kills, args.seed, tuple(args.roles))
            results["catalogs"][catalog] = entry
    finally:
        services.stop()
    save("reliability", results, markdown(results))


if __name__ == "__main__":
    main()
