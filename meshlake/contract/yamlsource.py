"""YAML with line numbers: load a document and find the line of any field path in it."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml


class YamlSourceError(ValueError):
    """The text is not a YAML document we accept; carries the 1-based line."""

    def __init__(self, problem: str, line: int | None, field: str | None = None) -> None:
        self.problem = problem
        self.line = line
        self.field = field
        super().__init__(problem)


MAX_DEPTH = 32
"""How deep mappings and lists may nest (a descriptor needs about 8 levels)."""
MAX_ALIAS_EXPANSION = 100_000
"""How many nodes aliases may add to a document once expanded (an alias bomb adds billions)."""


@dataclass(frozen=True)
class YamlSource:
    """A parsed YAML document and its node tree, for line lookups."""

    data: Any
    root: yaml.Node | None

    @classmethod
    def parse(cls, text: str) -> YamlSource:
        """Parse `text`, refusing duplicate keys (YAML would silently keep the last one), nesting deeper
        than `MAX_DEPTH` and aliases that expand the document by more than `MAX_ALIAS_EXPANSION` nodes.
        """
        try:
            root, data = _load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            raise YamlSourceError(f"malformed YAML: {exc.problem or exc}", line) from exc
        except yaml.reader.ReaderError as exc:
            line = text.count("\n", 0, exc.position) + 1
            raise YamlSourceError(f"malformed YAML: character #x{exc.character:04x} is not allowed", line) from exc
        except yaml.YAMLError as exc:
            raise YamlSourceError(f"malformed YAML: {exc}", None) from exc
        return cls(data=data, root=root)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The 1-based line of the deepest node along `path` that exists."""
        node = self.root
        if node is None:
            return None
        line = node.start_mark.line + 1
        for part in path:
            child = _child(node, part)
            if child is None:
                break
            node, line = child
        return line


def _child(node: yaml.Node, part: str | int) -> tuple[yaml.Node, int] | None:
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            if key_node.value == part:
                # a key that names a mapping or list points at the key's own line
                return value_node, key_node.start_mark.line + 1
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        item = node.value[part]
        return item, item.start_mark.line + 1
    return None


def _load(text: str) -> tuple[yaml.Node | None, Any]:
    """Compose the node tree, check it, then build the data from it (one parse)."""
    loader = _BoundedLoader(text)
    try:
        root = loader.get_single_node()
        if root is None:
            return None, None
        _check_tree(root)
        return root, loader.construct_document(root)
    finally:
        loader.dispose()


class _BoundedLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing to compose nodes nested deeper than `MAX_DEPTH` (it recurses per level)."""

    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > MAX_DEPTH:
                line = self.peek_event().start_mark.line + 1  # type: ignore[no-untyped-call]
                raise YamlSourceError(f"the document nests deeper than {MAX_DEPTH} levels", line)
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


def _check_tree(root: yaml.Node) -> None:
    """Walk each node once: refuse duplicate keys, recursive aliases, and nesting or expansion past the bounds.

    Aliases make the tree a graph (an alias is the anchored node itself), so the depth and size a node
    has once aliases are expanded are computed once per node, bottom-up, without recursion.
    """
    expanded: dict[int, tuple[int, int]] = {}  # id(node) → (nodes once expanded, depth once expanded)
    open_nodes: set[int] = set()
    distinct = 0
    stack: list[tuple[yaml.Node, tuple[str | int, ...], bool]] = [(root, (), False)]
    while stack:
        node, path, children_done = stack.pop()
        key = id(node)
        if children_done:
            children = _children_of(node)
            size = 1 + sum(expanded[id(child)][0] for _, child in children)
            depth = 1 + max((expanded[id(child)][1] for _, child in children), default=0)
            expanded[key] = (size, depth)
            open_nodes.discard(key)
            if depth > MAX_DEPTH:
                raise YamlSourceError(
                    f"the document nests deeper than {MAX_DEPTH} levels once its aliases are expanded",
                    node.start_mark.line + 1,
                    format_path(path) or None,
                )
            if size - distinct > MAX_ALIAS_EXPANSION:
                raise YamlSourceError(
                    f"aliases expand the document by more than {MAX_ALIAS_EXPANSION:,} nodes; "
                    "write the values out instead of repeating anchors",
                    node.start_mark.line + 1,
                    format_path(path) or None,
                )
            continue
        if key in open_nodes:
            raise YamlSourceError("an alias refers to a node that contains it", node.start_mark.line + 1)
        if key in expanded:
            continue
        distinct += 1
        open_nodes.add(key)
        if isinstance(node, yaml.MappingNode):
            _refuse_duplicate_keys(node, path)
        elif isinstance(node, yaml.ScalarNode):
            _refuse_surrogates(node, path)
        stack.append((node, path, True))
        stack.extend((child, (*path, part), False) for part, child in reversed(_children_of(node)))


def _children_of(node: yaml.Node) -> list[tuple[str | int, yaml.Node]]:
    if isinstance(node, yaml.MappingNode):
        pairs: list[tuple[str | int, yaml.Node]] = []
        for key_node, value_node in node.value:
            pairs += [(str(key_node.value), key_node), (str(key_node.value), value_node)]
        return pairs
    if isinstance(node, yaml.SequenceNode):
        return list(enumerate(node.value))
    return []


def _refuse_duplicate_keys(node: yaml.MappingNode, path: tuple[str | int, ...]) -> None:
    seen: set[str] = set()
    for key_node, _ in node.value:
        key = str(key_node.value)
        if key in seen:
            raise YamlSourceError(f"duplicate key '{key}'", key_node.start_mark.line + 1, format_path((*path, key)))
        seen.add(key)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _refuse_surrogates(node: yaml.ScalarNode, path: tuple[str | int, ...]) -> None:
    """A `\\uD800`-style escape for half of a surrogate pair is no character: no UTF-8 text or JSON parser takes it."""
    found = _SURROGATE.search(node.value)
    if found:
        raise YamlSourceError(
            f"the escape \\u{ord(found.group()):04X} is half of a UTF-16 surrogate pair, not a character; "
            "write the character itself (or its \\U escape)",
            node.start_mark.line + 1,
            format_path(path) or None,
        )


def format_path(path: Sequence[str | int]) -> str:
    """`('outputs', 0, 'columns', 2, 'type')` → `outputs[0].columns[2].type`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
