"""YAML with line numbers: load a document and find the line of any field path in it."""

from __future__ import annotations

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


@dataclass(frozen=True)
class YamlSource:
    """A parsed YAML document and its node tree, for line lookups."""

    data: Any
    root: yaml.Node | None

    @classmethod
    def parse(cls, text: str) -> YamlSource:
        """Parse `text`, refusing duplicate keys (YAML would silently keep the last one)."""
        try:
            root = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            line = mark.line + 1 if mark is not None else None
            raise YamlSourceError(f"malformed YAML: {exc.problem or exc}", line) from exc
        except yaml.YAMLError as exc:
            raise YamlSourceError(f"malformed YAML: {exc}", None) from exc
        if root is not None:
            _refuse_duplicate_keys(root, ())
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


def _refuse_duplicate_keys(node: yaml.Node, path: tuple[str | int, ...]) -> None:
    if isinstance(node, yaml.MappingNode):
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key in seen:
                dotted = format_path((*path, key))
                raise YamlSourceError(f"duplicate key '{key}'", key_node.start_mark.line + 1, dotted)
            seen.add(key)
            _refuse_duplicate_keys(value_node, (*path, key))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _refuse_duplicate_keys(item, (*path, index))


def format_path(path: Sequence[str | int]) -> str:
    """`('outputs', 0, 'columns', 2, 'type')` → `outputs[0].columns[2].type`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text
