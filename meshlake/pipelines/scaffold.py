"""`meshlake new`: create a product folder from a template in `product_templates/`.

    >>> create_product("shop.orders", template="source-aligned")                   # doctest: +SKIP
    >>> create_product("shop.daily", template="aggregate", inputs={"events": "shop.orders.events"})  # doctest: +SKIP

A template is a folder holding `dataproduct.yaml`, `pipeline.py`, `test_pipeline.py` and `README.md` with
`{{domain}}`, `{{product}}`, `{{dir}}` and `{{inputs.NAME}}` placeholders. Templates ship as the package
data `meshlake.product_templates` (pyproject maps the repository's `product_templates/` folder onto it),
so they are found the same way from a wheel, an editable install or, failing that, a source checkout.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from meshlake.contract.address import Address, ProductName
from meshlake.errors import NotFoundError

PACKAGE = "meshlake.product_templates"
TEMPLATE_FILES = ("dataproduct.yaml", "pipeline.py", "test_pipeline.py", "README.md")
_PLACEHOLDER = re.compile(r"\{\{\s*([a-z_.]+)\s*\}\}")
_INPUT = re.compile(r"\{\{\s*inputs\.([a-z][a-z0-9_]*)\s*\}\}")
_SKIPPED = ("__init__.py", "__pycache__")


@dataclass(frozen=True)
class Template:
    """One product template: its name, a one-line summary and the input ports it needs addresses for."""

    name: str
    summary: str
    inputs: tuple[str, ...]
    root: Traversable


@dataclass(frozen=True)
class Created:
    """What `create_product` wrote, and what to run next."""

    product: str
    template: str
    directory: Path
    files: list[Path]
    inputs: dict[str, str] = field(default_factory=dict)

    @property
    def next_commands(self) -> list[str]:
        shown = _shown(self.directory)
        return [f"meshlake deploy {shown}", f"meshlake run {shown}", f"pytest {shown}/test_pipeline.py"]

    def to_dict(self) -> dict[str, object]:
        return {
            "product": self.product,
            "template": self.template,
            "directory": str(self.directory),
            "files": [str(path) for path in self.files],
            "inputs": self.inputs,
            "next": self.next_commands,
        }


def templates_root() -> Traversable:
    """The folder of templates: the installed package data, else `product_templates/` of a checkout."""
    try:
        return resources.files(PACKAGE)
    except ModuleNotFoundError:
        return Path(__file__).resolve().parent.parent / "product_templates"


@cache
def templates() -> dict[str, Template]:
    """Every template by name, sorted."""
    found = {}
    for folder in sorted(templates_root().iterdir(), key=lambda item: item.name):
        if folder.is_dir() and folder.joinpath("dataproduct.yaml").is_file():
            found[folder.name] = _template(folder)
    return found


def find_template(name: str) -> Template:
    """The template called `name`, or `NotFoundError` listing the ones that exist."""
    known = templates()
    if name not in known:
        raise NotFoundError(f"no product template '{name}'. Templates: {', '.join(known)}.")
    return known[name]


def create_product(
    product: str,
    *,
    template: str = "source-aligned",
    directory: str | os.PathLike[str] | None = None,
    inputs: Mapping[str, str] | None = None,
) -> Created:
    """Copy `template` into `directory` (default `./products/<product>`), filled in for `product`.

    `product` is `domain.product`; `inputs` maps each input port the template reads to an address
    `domain.product.port`. Nothing is written unless every name is valid and the folder is new or empty.
    """
    name = ProductName.parse(product)
    chosen = find_template(template)
    target = Path(directory) if directory is not None else Path("products") / name.product
    addresses = _input_addresses(chosen, name, dict(inputs or {}))
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise FileExistsError(f"{target} already exists and is not empty; choose another --dir or remove it first")
    values = {"domain": name.domain, "product": name.product, "dir": _shown(target)}
    values.update({f"inputs.{key}": value for key, value in addresses.items()})
    rendered = {path: _fill(text, values, chosen.name, path) for path, text in _files(chosen.root).items()}
    written = []
    for relative, text in rendered.items():
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return Created(str(name), chosen.name, target, written, addresses)


def _template(folder: Traversable) -> Template:
    readme = folder.joinpath("README.md")
    summary = ""
    if readme.is_file():
        paragraphs = readme.read_text(encoding="utf-8").split("\n\n")
        text = next((p for p in paragraphs if p.strip() and not p.lstrip().startswith("#")), "")
        summary = " ".join(text.split()).split(". ")[0]
    descriptor = folder.joinpath("dataproduct.yaml").read_text(encoding="utf-8")
    inputs = tuple(dict.fromkeys(_INPUT.findall(descriptor)))
    return Template(folder.name, summary.rstrip("."), inputs, folder)


def _input_addresses(chosen: Template, product: ProductName, given: dict[str, str]) -> dict[str, str]:
    unknown = sorted(set(given) - set(chosen.inputs))
    if unknown:
        reads = ", ".join(chosen.inputs) or "no input ports"
        raise ValueError(f"the {chosen.name} template has no input {', '.join(unknown)}; it reads: {reads}")
    missing = [name for name in chosen.inputs if name not in given]
    if missing:
        example = " ".join(f"--input {name}=DOMAIN.PRODUCT.PORT" for name in missing)
        raise ValueError(f"the {chosen.name} template reads other products' ports; give their addresses: {example}")
    addresses = {}
    for name, text in given.items():
        address = Address.parse(text)
        if address.ref is not None:
            raise ValueError(f"input {name}={text}: give the port without @ref; runs pin the snapshot themselves")
        if address.product_name == product:
            raise ValueError(f"input {name}={text} is a port of {product} itself; inputs come from other products")
        addresses[name] = str(address)
    return addresses


def _files(root: Traversable, prefix: Path = Path()) -> dict[Path, str]:
    """Every text file of a template folder (bytecode and caches left out), by relative path."""
    found: dict[Path, str] = {}
    for item in sorted(root.iterdir(), key=lambda entry: entry.name):
        if item.name in _SKIPPED or item.name.startswith(".") or item.name.endswith(".pyc"):
            continue
        if item.is_dir():
            found.update(_files(item, prefix / item.name))
        else:
            found[prefix / item.name] = item.read_text(encoding="utf-8")
    return found


def _fill(text: str, values: Mapping[str, str], template_name: str, path: Path) -> str:
    def replace(match: re.Match[str]) -> str:
        key = match.group(1)
        if key not in values:
            raise ValueError(f"template {template_name}/{path} uses an unknown placeholder {{{{{key}}}}}")
        return values[key]

    return _PLACEHOLDER.sub(replace, text)


def _shown(path: Path) -> str:
    """`path` as a user would type it: relative to the working folder when inside it."""
    absolute = path.resolve()
    try:
        return absolute.relative_to(Path.cwd().resolve()).as_posix() or "."
    except ValueError:
        return str(absolute)
