#!/usr/bin/env bash
# Create the venv the distributed tests and benchmarks run in: Daft on Ray, Ray Data, and meshlake (editable).
#
# Daft 0.7 pins pyarrow<26 and ray<2.60, so the distributed engines live in a venv of their own and the core
# environment keeps its own pins. meshlake is installed editable from this repository with its test tools, so the
# venv runs this checkout's code (with its dev extra: tests/integration/test_distributed.py runs pytest there).
# Idempotent; prints the venv's python. Supported: daft 0.7.x, ray 2.59.x (pyarrow < 26).
#
# Environment: MESHLAKE_DISTRIBUTED_VENV (default: .venv-distributed in the repository), PYTHON (default: python3).
set -euo pipefail
cd "$(dirname "$0")/.."

VENV="${MESHLAKE_DISTRIBUTED_VENV:-$PWD/.venv-distributed}"
PYTHON="${PYTHON:-python3}"
DAFT_VERSION="0.7"
RAY_VERSION="2.59"
READY="$VENV/.ready-daft$DAFT_VERSION-ray$RAY_VERSION-dev"

if [ ! -f "$READY" ]; then
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    "$VENV/bin/python" -m pip install --quiet \
        "daft[ray]==$DAFT_VERSION.*" \
        "ray[data]==$RAY_VERSION.*" \
        "pyarrow<26" \
        -e ".[dev,daft,ray]" >&2
    "$VENV/bin/python" - <<'PY' >&2
import daft, ray, pyarrow, pyiceberg, meshlake
print("daft", daft.__version__, "ray", ray.__version__, "pyarrow", pyarrow.__version__, "pyiceberg", pyiceberg.__version__)
PY
    touch "$READY"
fi
echo "$VENV/bin/python"
