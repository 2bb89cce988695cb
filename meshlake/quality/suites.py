"""Bring existing Great Expectations suites into a descriptor."""

from __future__ import annotations

from pathlib import Path

import yaml

from meshlake.contract.descriptor import parse_descriptor, parse_descriptor_yaml, read_descriptor_text
from meshlake.contract.expectations import ExpectationConfigError, validate_expectation
from meshlake.errors import DescriptorError
from meshlake.quality.gx import Skipped, import_suite, to_yaml_items


def import_into_descriptor(suite: Path, descriptor: Path, port: str) -> tuple[str, int, list[Skipped]]:
    """The descriptor's YAML with the suite's expectations appended to `port`, how many were added, and the suite
    entries skipped (with the reason) because meshlake cannot check them on this port.

    Each expectation is checked against the port's columns; the result is validated as a whole.
    """
    path = descriptor / "dataproduct.yaml" if descriptor.is_dir() else descriptor
    data = parse_descriptor_yaml(read_descriptor_text(path), file=str(path)).data
    outputs = data.get("outputs", []) if isinstance(data, dict) else []
    target = next((o for o in outputs if isinstance(o, dict) and o.get("name") == port), None)
    if target is None:
        names = [o.get("name") for o in outputs if isinstance(o, dict)]
        raise DescriptorError(f"no output port '{port}' (ports: {', '.join(map(str, names))})", file=str(path))
    imported = import_suite(suite)
    columns = {str(c.get("name")): str(c.get("type")) for c in target.get("columns") or [] if isinstance(c, dict)}
    skipped = list(imported.skipped)
    kept = []
    for index, exp in zip(imported.positions, imported.expectations, strict=True):
        try:
            validate_expectation(exp, columns)
        except ExpectationConfigError as exc:
            at = f" (field '{exc.field}')" if exc.field else ""
            skipped.append(Skipped(index, exp.type, exc.problem + at))
            continue
        kept.append(exp)
    items = to_yaml_items(kept)
    existing = target.setdefault("expectations", []) or []
    new = [item for item in items if item not in existing]
    target["expectations"] = [*existing, *new]
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    parse_descriptor(text, file=str(path))
    return text, len(new), sorted(skipped, key=lambda s: s.index)
