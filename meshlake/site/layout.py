"""A layered layout of a directed graph in pure Python (no Graphviz, no network): columns by longest path, rows
ordered by the barycenter heuristic. An edge that spans several columns passes through a waypoint in each
column between (a slot of its own, so it never runs under a node). Back edges of cycles are reversed for
layering and drawn as they are."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

NODE_WIDTH = 270
NODE_HEIGHT = 34
COLUMN_GAP = 90
ROW_GAP = 14
SWEEPS = 4


@dataclass(frozen=True)
class Layout:
    positions: dict[str, tuple[int, int]]
    """Node → (x, y) of its top-left corner."""
    width: int
    height: int
    waypoints: dict[tuple[str, str], list[tuple[int, int]]]
    """(source, target) of an edge spanning columns → the top-left corners of its slots, from source to target."""


def layout(nodes: Iterable[str], edges: Iterable[tuple[str, str]]) -> Layout:
    """Positions for `nodes` so that edges point right; deterministic for the same graph."""
    names = sorted(set(nodes))
    children: dict[str, list[str]] = {n: [] for n in names}
    for source, target in sorted(set(edges)):
        if source in children and target in children and source != target:
            children[source].append(target)
    acyclic = _without_back_edges(names, children)
    layers = _layers(names, acyclic)
    chains: dict[tuple[str, str], list[str]] = {}
    for source in list(acyclic):
        for target in list(acyclic[source]):
            span = layers[target] - layers[source]
            if span <= 1:
                continue
            chain = [f"\x00{source}\x00{target}\x00{i}" for i in range(1, span)]
            acyclic[source] = [chain[0] if t == target else t for t in acyclic[source]]
            for i, dummy in enumerate(chain):
                layers[dummy] = layers[source] + i + 1
                acyclic[dummy] = [chain[i + 1] if i + 1 < len(chain) else target]
            chains[(source, target)] = chain
    columns: dict[int, list[str]] = {}
    for name in sorted(layers):
        columns.setdefault(layers[name], []).append(name)
    parents: dict[str, list[str]] = {n: [] for n in layers}
    for source, targets in acyclic.items():
        for target in targets:
            parents[target].append(source)
    order = [columns[i] for i in sorted(columns)]
    for sweep in range(SWEEPS):
        if sweep % 2 == 0:
            for i in range(1, len(order)):
                order[i] = _by_barycenter(order[i], order[i - 1], parents)
        else:
            for i in range(len(order) - 2, -1, -1):
                order[i] = _by_barycenter(order[i], order[i + 1], acyclic)
    slots = {
        name: (i * (NODE_WIDTH + COLUMN_GAP) + 10, j * (NODE_HEIGHT + ROW_GAP) + 10)
        for i, column in enumerate(order)
        for j, name in enumerate(column)
    }
    height = max((len(column) for column in order), default=0) * (NODE_HEIGHT + ROW_GAP) + 20
    width = len(order) * (NODE_WIDTH + COLUMN_GAP) - COLUMN_GAP + 20 if order else 20
    positions = {name: slots[name] for name in names}
    waypoints = {edge: [slots[dummy] for dummy in chain] for edge, chain in chains.items()}
    return Layout(positions, width, height, waypoints)


def _without_back_edges(names: list[str], children: dict[str, list[str]]) -> dict[str, list[str]]:
    """The edges with each back edge of a depth-first search reversed (iterative: deep graphs are fine)."""
    state: dict[str, int] = {}
    result: dict[str, list[str]] = {n: [] for n in names}
    for root in names:
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(children[root]))]
        while stack:
            node, remaining = stack[-1]
            child = next(remaining, None)
            if child is None:
                state[node] = 2
                stack.pop()
            elif state.get(child) == 1:  # back edge: reversed
                if node not in result[child]:
                    result[child].append(node)
            else:
                result[node].append(child)
                if child not in state:
                    state[child] = 1
                    stack.append((child, iter(children[child])))
    return result


def _layers(names: list[str], children: dict[str, list[str]]) -> dict[str, int]:
    """Longest path from a source, by Kahn's topological order."""
    incoming = {n: 0 for n in names}
    for targets in children.values():
        for target in targets:
            incoming[target] += 1
    layer = dict.fromkeys(names, 0)
    ready = [n for n in names if incoming[n] == 0]
    while ready:
        node = ready.pop()
        for target in children[node]:
            layer[target] = max(layer[target], layer[node] + 1)
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return layer


def _by_barycenter(column: list[str], neighbour: list[str], links: dict[str, list[str]]) -> list[str]:
    index = {name: i for i, name in enumerate(neighbour)}

    def key(name: str) -> tuple[float, str]:
        linked = [index[n] for n in links.get(name, []) if n in index]
        return (sum(linked) / len(linked) if linked else column.index(name), name)

    return sorted(column, key=key)
