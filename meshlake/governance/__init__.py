"""Governance: the mesh's global rules as code, one engine for every enforcement point.

Owns the governance policy (`policy`: `governance.yaml`, validated with file and line, stored versioned in the
lake's system namespace), the built-in rules with their stable codes (`rules`, names checked with RE2 in
`naming`), custom rules in Rego (`rego`, evaluated by `regopy` in a worker process with a time budget,
`rego_worker`) over the normalised JSON of the mesh (`mesh_json`), waivers, scopes and severities applied
by the engine (`engine`), what is checked (`subjects`: descriptor files, the deployed mesh), the findings
(`findings`), how they are printed for CI (`formats`: text, JSON, JUnit, SARIF, GitHub annotations), where
they are recorded (`records`: `meshlake.system.governance_findings`) and the enforcement points (`checks`:
lint files, lint the deployed mesh, the checks at run time; `meshlake deploy` calls the same one as lint).

May import: errors, catalog, contract, query, write, quality, access (never maintenance, pipelines, the facades
or cli; the facades hand it the lake's catalog, identity and policies).
"""
