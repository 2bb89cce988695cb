#!/usr/bin/env bash
# Create the venv the interop tests read meshlake's tables with: DuckDB 1.4.4 and its own Iceberg extension.
#
# DuckDB's iceberg extension is not built for the duckdb 2.x meshlake uses (and cannot be downloaded here), so
# it lives in a venv of its own: duckdb==1.4.4 with the extension wheels of PyPI (duckdb-ext-iceberg, -avro,
# -httpfs, and the duckdb-ext helper that points DuckDB at them). Idempotent; prints the venv's python.
#
# Environment: MESHLAKE_INTEROP_VENV (default: .venv-interop in the repository), PYTHON (default: python3).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${MESHLAKE_INTEROP_VENV:-$PWD/.venv-interop}"
PYTHON="${PYTHON:-python3}"
EXT_VERSION="1.4.4.20260205"
READY="$VENV/.ready-$EXT_VERSION"

if [ ! -f "$READY" ]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet \
        "duckdb==1.4.4" \
        "duckdb-ext-iceberg==$EXT_VERSION" \
        "duckdb-ext-avro==$EXT_VERSION" \
        "duckdb-ext-httpfs==$EXT_VERSION" \
        "duckdb-ext" >&2
    "$VENV/bin/python" - <<'PY' >&2
import duckdb, duckdb_ext
con = duckdb.connect()
duckdb_ext.init(con)
for name in ("avro", "httpfs", "iceberg"):
    con.execute(f"LOAD {name}")
print("iceberg extension loaded:", con.execute("SELECT extension_version FROM duckdb_extensions() WHERE extension_name = 'iceberg'").fetchone()[0])
PY
    touch "$READY"
fi
echo "$VENV/bin/python"
