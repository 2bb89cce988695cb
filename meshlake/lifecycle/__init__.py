"""A product's lifecycle beyond one write: releases across its ports and diffs between snapshots.

Owns cutting, listing and verifying releases (`releases`; the manifests themselves are stored by
`meshlake.contract.releases`) and diffing two snapshots of a port (`diff`). May import every layer below the
facades (errors, catalog, contract, query, write, quality, access, governance, maintenance, pipelines); the
facades are imported for types only.
"""
