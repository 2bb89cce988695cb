"""Large inputs stream: appending a 20-million-row RecordBatchReader keeps peak RSS under 2 GiB."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import json, sys
    import numpy as np
    import pyarrow as pa
    import meshlake as ml

    home, descriptor, total, chunk = sys.argv[1], sys.argv[2], int(sys.argv[3]), 250_000
    lake = ml.connect(home=home)
    port = lake.deploy(descriptor).port("items")
    schema = pa.schema([("id", pa.int64()), ("qty", pa.float64()), ("flag", pa.string()), ("day", pa.date32())])
    flags = pa.array(["A", "N", "R"])

    def batches():
        rng = np.random.default_rng(7)
        for start in range(0, total, chunk):
            n = min(chunk, total - start)
            yield pa.record_batch([
                pa.array(np.arange(start, start + n, dtype=np.int64)),
                pa.array(rng.random(n) * 50),
                flags.take(pa.array(rng.integers(0, 3, n))),
                pa.array(rng.integers(19000, 20000, n).astype("int32")).cast(pa.date32()),
            ], schema=schema)

    def high_water_kib():
        # this process's own peak (VmHWM): ru_maxrss carries the parent's peak across fork + exec, so a test
        # started from a large pytest worker read the worker's peak, not this script's
        with open("/proc/self/status") as status:
            return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))

    before = high_water_kib()
    result = port.write(pa.RecordBatchReader.from_batches(schema, batches()))
    peak = high_water_kib()
    print(json.dumps({"rows": result.rows, "files": result.files_added, "peak_kib": peak, "before_kib": before,
                      "total": port.latest().rows}))
    """
)

DESCRIPTOR = """\
apiVersion: meshlake/v1
domain: bench
name: lineitem
version: 1.0.0
owner: {team: bench}
outputs:
  - name: items
    columns:
      - {name: id, type: long, required: true}
      - {name: qty, type: double}
      - {name: flag, type: string}
      - {name: day, type: date}
"""


@pytest.mark.slow
def test_appending_20_million_streamed_rows_stays_under_2_gib(tmp_path: Path) -> None:
    descriptor = tmp_path / "dataproduct.yaml"
    descriptor.write_text(DESCRIPTOR)
    total = 20_000_000
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(tmp_path / ".meshlake"), str(descriptor), str(total)],
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["rows"] == total
    assert report["total"] == total
    peak_gib = report["peak_kib"] / 1024 / 1024
    print(f"peak RSS {peak_gib:.2f} GiB for {total:,} rows in {report['files']} files")
    assert peak_gib < 2.0
