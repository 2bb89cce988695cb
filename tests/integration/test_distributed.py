"""Daft on Ray and Ray Data, through meshlake: the distributed suite, run in the venv the engines live in.

Daft 0.7 pins pyarrow<26 and ray<2.60, so Daft and Ray have a venv of their own that `.ci/distributed-venv.sh`
creates (CI does; `MESHLAKE_DISTRIBUTED_PYTHON` names its python, default `.venv-distributed/bin/python`). This
test runs there: tests/distributed (reads pinned to snapshots, the Daft sink and the Ray Datasink, worker-side
contract violations, Ray listening on loopback only) and the distributed entries of the read-path registry
(tests/access/test_every_read_path.py, which skips them in any venv without Daft). Without the venv it skips
with that reason, or fails under MESHLAKE_TEST_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.integration.conftest import service_unavailable

DISTRIBUTED_PYTHON = "MESHLAKE_DISTRIBUTED_PYTHON"
_REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def distributed_python() -> str:
    path = os.environ.get(DISTRIBUTED_PYTHON) or str(_REPO / ".venv-distributed" / "bin" / "python")
    if not Path(path).exists():
        service_unavailable(
            f"Daft and Ray are not installed ({path} does not exist): run `bash .ci/distributed-venv.sh`"
        )
    return path


SELECTION = ["tests/distributed", "tests/access/test_every_read_path.py", "-k", "distributed or daft or ray"]
"""tests/distributed and the registry's Daft and Ray entries in one run: one interpreter, one Ray (the session's
`ray_cluster`, which the registry's entries find running), not a second start of both."""


@pytest.mark.integration
@pytest.mark.slow
def test_the_distributed_suite_passes_in_the_engines_venv(distributed_python: str) -> None:
    selection = SELECTION
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    done = subprocess.run(
        [distributed_python, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rs", *selection],
        cwd=_REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=1200,
        check=False,
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, f"{' '.join(selection)} failed in {distributed_python}:\n{done.stdout}\n{done.stderr}"
    assert " passed" in summary and "skipped" not in summary, summary
