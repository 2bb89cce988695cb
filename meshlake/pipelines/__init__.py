"""Pipelines: runs of a product's `pipeline.py` with pinned inputs, and scaffolding of new products.

Owns `run` (`lake.run`: inputs pinned to snapshots, every output staged and gated before any is published,
replays of earlier runs) and `scaffold` (`meshlake new` from `product_templates/`).

What a `pipeline.py` imports is re-exported here: `Inputs`, `Output`, `RunContext` and `open_files`.

May import: every layer below the facades (`errors`, `catalog`, `contract`, `query`, `write`, `quality`,
`maintenance`); the facades (`Lake`, `Product`, `Port`) only as types.
"""

from meshlake.pipelines.run import Inputs, Output, RunContext
from meshlake.write.files import open_files

__all__ = ["Inputs", "Output", "RunContext", "open_files"]
