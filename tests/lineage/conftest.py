from __future__ import annotations

from pathlib import Path

import pytest

from tests.lineage.mesh import Mesh, build_mesh


@pytest.fixture
def mesh(tmp_path: Path) -> Mesh:
    """The lineage test mesh (see tests/lineage/mesh.py), in the test's own folder."""
    return build_mesh(tmp_path / ".meshlake")
