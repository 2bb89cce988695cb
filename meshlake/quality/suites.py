"""Bring existing Great Expectations suites into a descriptor."""

from __future__ import annotations

from pathlib import Path

import yaml

from meshlake.contract.descriptor import parse_descriptor, parse_descriptor_yaml, read_descriptor_text
from meshlake.errors import DescriptorError
from meshlake.quality.gx import import_suite, to_yaml_items


def import_into_descriptor(suite: Path, descriptor: Path, port: str) -> tuple[str, int]:
    """The descriptor's YAML with the suite's expectations appended to `port`, and how many were added.

    The result is validated as a whole (unknown expectations or columns fail with file and line).
    """
    path = descriptor / "dataproduct.yaml" if descriptor.is_dir() else descriptor
    data = parse_descriptor_yaml(read_descriptor_text(path), file=str(path)).data
    outputs = data.get("outputs", []) if isinstance(data, dict) else []
    target = next((o for o in outputs if isinstance(o, dict) and o.get("name") == port), None)
    if target is None:
        names = [o.get("name") for o in outputs if isinstance(o, dict)]
        raise DescriptorError(f"no output port '{port}' (ports: {', '.join(map(str, names))})", file=str(path))
    items = to_yaml_items(import_suite(suite))
    existing = target.setdefault("expectations", []) or []
    new = [item for item in items if item not in existing]
    target["expectations"] = [*existing, *new]
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    parse_descriptor(text, file=str(path))
    return text, len(new)
