"""Daft on Ray, started as the project's rules say: two CPUs, no dashboard, every listener on 127.0.0.1.

These tests need Daft and Ray, which live in their own venv (`.ci/distributed-venv.sh`); in any other venv they
are skipped with that reason, and tests/integration/test_distributed.py runs them through the distributed venv.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest

# Read by Ray when it is imported: with it (and _node_ip_address below) every listener binds 127.0.0.1.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ.setdefault("DAFT_PROGRESS_BAR", "0")


@pytest.fixture(scope="session")
def ray_cluster() -> Iterator[Any]:
    """A local Ray cluster bound to loopback only, with Daft running on it; shut down after the session."""
    import daft
    import ray

    ray.init(num_cpus=2, include_dashboard=False, _node_ip_address="127.0.0.1", log_to_driver=False)
    daft.set_runner_ray()
    yield ray
    ray.shutdown()
