"""The package's folders are its architecture: lower layers never import higher ones.

Read from the source with `ast`, so the order holds whether or not a module is imported in a test. Every import
that runs counts, at module level or inside a function; imports under `if TYPE_CHECKING:` never run, so they may
name a higher layer's types (the gate is handed a `Port`) — except in `contract` and `catalog`, which know nothing
of the layers above them, not even their types.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "meshlake"

# Low to high. A module may import its own layer and any layer below it.
LAYERS: list[tuple[str, ...]] = [
    ("errors",),
    ("catalog",),
    ("contract",),
    ("query",),
    ("write",),
    ("quality",),
    ("access",),
    ("governance",),
    ("maintenance",),
    ("distributed",),
    ("pipelines",),
    ("streams",),
    ("lifecycle",),
    ("standards",),
    ("lineage",),
    ("site",),
    ("lake", "product", "port", "snapshot", "__init__"),  # the public facades
    ("demo",),
    ("cli",),
]
STRICT = {"catalog", "contract"}
"""Layers whose type-only imports must follow the order too."""
SHARED_FROM_ROOT = {"__version__"}
"""What `from meshlake import …` may take from any layer: the package's version, set before anything loads."""
ROOT_MODULES = {"__init__.py", "lake.py", "product.py", "port.py", "snapshot.py", "errors.py"}


def _layer_of(parts: tuple[str, ...]) -> int:
    for rank, names in enumerate(LAYERS):
        if parts[0] in names:
            return rank
    raise AssertionError(f"meshlake.{'.'.join(parts)} belongs to no layer: add its folder to LAYERS")


def _unit(path: Path, package: Path) -> tuple[str, ...]:
    return path.relative_to(package).with_suffix("").parts


def _type_checking_lines(tree: ast.Module) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, (child.end_lineno or child.lineno) + 1))
    return lines


def _imports(path: Path) -> list[tuple[int, tuple[str, ...], bool, list[str]]]:
    """(line, imported module parts under meshlake, type-only, names) for every meshlake import in `path`."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    typing_only = _type_checking_lines(tree)
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules = [node.module]
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.Import):
            modules = [alias.name for alias in node.names]
            names = []
        else:
            continue
        for module in modules:
            if module == "meshlake" or module.startswith("meshlake."):
                parts = tuple(module.split(".")[1:])
                found.append((node.lineno, parts, node.lineno in typing_only, names))
    return found


def _violations(package: Path = PACKAGE) -> list[str]:
    """Every upward import under `package`; the demo's product pipelines are user code, not the library."""
    problems = []
    for path in sorted(p for p in package.rglob("*.py") if "products" not in p.relative_to(package).parts):
        unit = _unit(path, package)
        own = _layer_of(unit)
        for line, imported, type_only, names in _imports(path):
            if not imported and set(names) <= SHARED_FROM_ROOT:
                continue
            parts = imported or ("__init__",)  # `from meshlake import …`: the root package
            if parts == ("product_templates",):
                continue
            target = _layer_of(parts)
            if target <= own or (type_only and unit[0] not in STRICT):
                continue
            kind = "type-only import" if type_only else "import"
            problems.append(
                f"meshlake/{'/'.join(unit)}.py:{line}: {kind} of meshlake.{'.'.join(parts)} "
                f"({LAYERS[target][0]}) from a lower layer ({LAYERS[own][0]})"
            )
    return problems


def test_lower_layers_never_import_higher_ones() -> None:
    assert _violations() == []


def test_the_root_holds_only_the_facades_and_what_every_layer_shares() -> None:
    at_root = {p.name for p in PACKAGE.glob("*.py")}
    assert at_root == ROOT_MODULES


def test_every_folder_says_what_it_owns_and_what_it_may_import() -> None:
    for init in sorted(PACKAGE.glob("*/__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8"))) or ""
        assert "May import" in doc, f"{init.relative_to(PACKAGE.parent)} must say what it owns and may import"


def test_every_folder_belongs_to_a_layer() -> None:
    for folder in sorted(p.parent.name for p in PACKAGE.glob("*/__init__.py")):
        _layer_of((folder,))


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("from meshlake.write.commit import Change\n", "import of meshlake.write.commit"),
        ("def f():\n    from meshlake.lake import Lake\n", "import of meshlake.lake"),
        ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from meshlake.port import Port\n", "type-only"),
    ],
)
def test_the_layer_check_catches_an_upward_import(source: str, expected: str, tmp_path: Path) -> None:
    """The check itself can fail: an upward import planted in `contract` is reported."""
    (tmp_path / "contract").mkdir()
    (tmp_path / "contract" / "planted.py").write_text(source, encoding="utf-8")
    problems = _violations(tmp_path)
    assert len(problems) == 1 and expected in problems[0]
