"""What a governance check looks at: products read from descriptor files, or the products deployed in a lake.

A `Subject` is one product: its descriptor, where it came from (file and YAML source, for lines), and the
version deployed in the lake (for the breaking-change rule). A file that is not a valid descriptor, or a
deployed product whose descriptor cannot be read, is a `GOV000` finding: one bad product never hides the others.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Final

from meshlake.contract.descriptor import Descriptor, parse_descriptor, read_descriptor_text
from meshlake.contract.yamlsource import YamlSource, YamlSourceError
from meshlake.errors import DescriptorError
from meshlake.governance.findings import Finding

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

DESCRIPTOR_FILE: Final = "dataproduct.yaml"
INVALID: Final = ("GOV000", "descriptor-valid")
_SKIPPED_FOLDERS: Final = frozenset({".git", ".meshlake", ".venv", "node_modules", "__pycache__"})


@dataclass(frozen=True)
class Subject:
    """One product under check."""

    descriptor: Descriptor
    file: str | None = None
    source: YamlSource | None = None
    deployed: Descriptor | None = None
    """The version deployed in the lake (None: not deployed, or no lake)."""

    @property
    def name(self) -> str:
        return str(self.descriptor.product_name)

    def line_of(self, path: tuple[str | int, ...]) -> int | None:
        return None if self.source is None else self.source.line_of(path)


def descriptor_files(paths: Iterable[str | Path]) -> list[Path]:
    """The descriptor files `paths` name: files as given, folders searched for `dataproduct.yaml` below them."""
    found: list[Path] = []
    for given in paths:
        path = Path(given)
        if path.is_dir():
            if (path / DESCRIPTOR_FILE).is_file():
                found.append(path / DESCRIPTOR_FILE)
                continue
            found += sorted(
                p for p in path.rglob(DESCRIPTOR_FILE) if not _SKIPPED_FOLDERS & set(p.relative_to(path).parts)
            )
        else:
            found.append(path)
    return list(dict.fromkeys(found))


def load_files(files: Iterable[Path]) -> tuple[list[Subject], list[Finding]]:
    """Each file as a subject, or a `GOV000` finding saying why it is not a valid descriptor."""
    subjects: list[Subject] = []
    invalid: list[Finding] = []
    for file in files:
        try:
            text = read_descriptor_text(file)
            descriptor = parse_descriptor(text, file=str(file))
            source = YamlSource.parse(text)
        except DescriptorError as exc:
            invalid.append(_invalid(str(file), exc.problem, file=exc.file, line=exc.line, field=exc.field))
            continue
        except YamlSourceError as exc:  # pragma: no cover - parse_descriptor reports malformed YAML first
            invalid.append(_invalid(str(file), exc.problem, file=str(file), line=exc.line, field=exc.field))
            continue
        subjects.append(Subject(descriptor, str(file), source))
    return subjects, invalid


def with_deployed(subjects: Iterable[Subject], deployed: dict[str, Descriptor]) -> list[Subject]:
    """The subjects, each with the version of it deployed in the lake."""
    return [
        Subject(s.descriptor, s.file, s.source, deployed.get(s.name)) if s.deployed is None else s for s in subjects
    ]


def deployed_mesh(catalog: Catalog) -> tuple[dict[str, Descriptor], list[Finding]]:
    """Every deployed product's descriptor by name, and a `GOV000` finding for each that cannot be read."""
    from meshlake.contract.registry import scan_products

    found: dict[str, Descriptor] = {}
    broken: list[Finding] = []
    for entry in scan_products(catalog):
        if entry.descriptor is None:
            broken.append(_invalid(str(entry.name), f"the deployed descriptor cannot be read: {entry.problem}"))
        else:
            found[str(entry.name)] = entry.descriptor
    return found, broken


def _invalid(
    product: str, problem: str, *, file: str | None = None, line: int | None = None, field: str | None = None
) -> Finding:
    return Finding(
        INVALID[0],
        INVALID[1],
        "error",
        product,
        f"not a valid descriptor: {problem}",
        file=file,
        line=line,
        field=field,
    )
