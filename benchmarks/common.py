"""Shared benchmark plumbing: timing, lineitem-like data, and result files (JSON + markdown)."""

from __future__ import annotations

import json
import os
import platform
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

RESULTS = Path(__file__).parent / "results"
WORK = Path(__file__).parent / ".work"

LINEITEM_YAML = """\
apiVersion: meshlake/v1
domain: bench
name: tpch
version: 1.0.0
owner: {team: bench}
outputs:
  - name: lineitem
    columns:
      - {name: l_orderkey, type: long, required: true}
      - {name: l_partkey, type: long}
      - {name: l_suppkey, type: long}
      - {name: l_linenumber, type: int, required: true}
      - {name: l_quantity, type: double}
      - {name: l_extendedprice, type: double}
      - {name: l_discount, type: double}
      - {name: l_tax, type: double}
      - {name: l_returnflag, type: string}
      - {name: l_linestatus, type: string}
      - {name: l_shipdate, type: date}
      - {name: l_commitdate, type: date}
      - {name: l_receiptdate, type: date}
      - {name: l_shipinstruct, type: string}
      - {name: l_shipmode, type: string}
      - {name: l_comment, type: string}
    primary_key: [l_orderkey, l_linenumber]
"""
NO_AUTO_COMPACT = "    auto_compact: false\n"
"""Appended to `LINEITEM_YAML`: the port keeps one file per append (benchmarks of many small appends that measure
what `meshlake maintain` or time travel over them costs, not automatic compaction's effect)."""

_WORDS = np.array(
    [
        "furiously",
        "quickly",
        "carefully",
        "blithely",
        "slyly",
        "regular",
        "final",
        "express",
        "pending",
        "ironic",
        "special",
        "bold",
        "even",
        "deposits",
        "requests",
        "accounts",
        "packages",
        "theodolites",
        "pinto",
        "beans",
        "foxes",
        "ideas",
        "dependencies",
        "instructions",
    ]
)


def lineitem(rows: int, *, seed: int = 1, first_order: int = 0) -> pa.Table:
    """TPC-H lineitem-like rows, generated deterministically: ~4 lines per order."""
    rng = np.random.default_rng(seed)
    line = np.arange(rows)
    orderkey = first_order + line // 4
    linenumber = (line % 4 + 1).astype(np.int32)
    quantity = rng.integers(1, 51, rows).astype(np.float64)
    price = np.round(quantity * rng.uniform(900, 2000, rows), 2)
    ship = rng.integers(8036, 10561, rows).astype(np.int32)  # 1992-01-02 .. 1998-12-01 as days
    words = _WORDS[rng.integers(0, len(_WORDS), (rows, 3))]
    comment = np.char.add(np.char.add(words[:, 0], " "), np.char.add(words[:, 1], np.char.add(" ", words[:, 2])))
    return pa.table(
        {
            "l_orderkey": pa.array(orderkey, pa.int64()),
            "l_partkey": pa.array(rng.integers(1, 200_000, rows), pa.int64()),
            "l_suppkey": pa.array(rng.integers(1, 10_000, rows), pa.int64()),
            "l_linenumber": pa.array(linenumber, pa.int32()),
            "l_quantity": pa.array(quantity),
            "l_extendedprice": pa.array(price),
            "l_discount": pa.array(np.round(rng.integers(0, 11, rows) / 100, 2)),
            "l_tax": pa.array(np.round(rng.integers(0, 9, rows) / 100, 2)),
            "l_returnflag": pa.array(np.array(["A", "N", "R"])[rng.integers(0, 3, rows)]),
            "l_linestatus": pa.array(np.array(["F", "O"])[rng.integers(0, 2, rows)]),
            "l_shipdate": pa.array(ship).cast(pa.date32()),
            "l_commitdate": pa.array(ship + rng.integers(-30, 60, rows).astype(np.int32)).cast(pa.date32()),
            "l_receiptdate": pa.array(ship + rng.integers(1, 31, rows).astype(np.int32)).cast(pa.date32()),
            "l_shipinstruct": pa.array(
                np.array(["DELIVER IN PERSON", "COLLECT COD", "NONE", "TAKE BACK RETURN"])[rng.integers(0, 4, rows)]
            ),
            "l_shipmode": pa.array(
                np.array(["REG AIR", "AIR", "RAIL", "SHIP", "TRUCK", "MAIL", "FOB"])[rng.integers(0, 7, rows)]
            ),
            "l_comment": pa.array(comment),
        }
    )


def timed(function: Callable[[], Any], repeat: int, setup: Callable[[], Any] | None = None) -> dict[str, Any]:
    """Run `function` `repeat` times (after `setup` each time); median, min and all timings in seconds."""
    times = []
    for _ in range(repeat):
        if setup is not None:
            setup()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return {"median_s": statistics.median(times), "min_s": min(times), "runs_s": times}


def runs_summary(walls: list[float], cpus: list[float]) -> dict[str, Any]:
    """Timed runs as the benchmarks report them: median and minimum wall time, median CPU time, and every run."""
    return {
        "median_s": statistics.median(walls),
        "min_s": min(walls),
        "runs_s": walls,
        "cpu_median_s": statistics.median(cpus),
        "cpu_runs_s": cpus,
    }


def machine() -> dict[str, Any]:
    import duckdb
    import polars
    import pyiceberg

    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "pyiceberg": pyiceberg.__version__,
        "duckdb": duckdb.__version__,
        "polars": polars.__version__,
        "pyarrow": pa.__version__,
    }


def save(name: str, results: dict[str, Any], markdown: str) -> None:
    """Write benchmarks/results/<name>.json and <name>.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (RESULTS / f"{name}.md").write_text(markdown)
    print(markdown)


def fresh_dir(name: str) -> Path:
    import shutil

    path = WORK / name
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
