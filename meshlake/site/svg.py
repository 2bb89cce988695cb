"""The site's pictures as inline SVG: the lineage graph and a port's quality history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import pairwise

from meshlake.site.html import esc
from meshlake.site.layout import NODE_HEIGHT, NODE_WIDTH, layout

EDGE_STYLES = {
    "DIRECT": 'stroke="#1d3557" stroke-width="1.6"',
    "INDIRECT": 'stroke="#8d99ae" stroke-width="1.4" stroke-dasharray="6 4"',
}
NODE_FILL = {"ok": "#ffffff", "missing": "#fde2e4", "hidden": "#eceff3", "broken": "#fde2e4", "here": "#e0ecff"}


@dataclass(frozen=True)
class Node:
    label: str
    status: str
    href: str | None


def lineage_svg(nodes: Mapping[str, Node], edges: Sequence[tuple[str, str, str]], *, title: str) -> str:
    """`nodes` by id, laid out left to right; edges `(source, target, DIRECT|INDIRECT)`; nodes link to `href`."""
    placed = layout(nodes, [(s, t) for s, t, _ in edges])
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="{esc(title)}" class="lineage" '
        f'width="{placed.width}" height="{placed.height}" viewBox="0 0 {placed.width} {placed.height}">',
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" '
        'orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#1d3557"/></marker></defs>',
    ]
    for source, target, kind in sorted(edges):
        if source not in placed.positions or target not in placed.positions:
            continue
        (x1, y1), (x2, y2) = placed.positions[source], placed.positions[target]
        middle = NODE_HEIGHT // 2
        forward = placed.waypoints.get((source, target))
        slots = forward if forward is not None else list(reversed(placed.waypoints.get((target, source), [])))
        points = [(x1 + NODE_WIDTH, y1 + middle)]
        for x, y in slots:  # through each slot of a long edge, left to right
            points += [(x, y + middle), (x + NODE_WIDTH, y + middle)]
        points.append((x2, y2 + middle))
        path = f"M{points[0][0]},{points[0][1]}"
        for (ax, ay), (bx, by) in pairwise(points):
            if ay == by and bx - ax == NODE_WIDTH:
                path += f" L{bx},{by}"
                continue
            bend = max(40, abs(bx - ax) // 2)
            path += f" C{ax + bend},{ay} {bx - bend},{by} {bx},{by}"
        parts.append(
            f'<path class="edge edge-{kind.lower()}" data-source="{esc(source)}" data-target="{esc(target)}" '
            f'd="{path}" fill="none" {EDGE_STYLES.get(kind, EDGE_STYLES["DIRECT"])} marker-end="url(#arrow)">'
            f"<title>{esc(source)} → {esc(target)} ({esc(kind)})</title></path>"
        )
    for name in sorted(nodes):
        node = nodes[name]
        x, y = placed.positions[name]
        label = node.label if len(node.label) <= 34 else node.label[:32] + "…"
        dashed = 'stroke-dasharray="4 3"'
        box = (
            f'<rect x="{x}" y="{y}" width="{NODE_WIDTH}" height="{NODE_HEIGHT}" rx="5" '
            f'fill="{NODE_FILL.get(node.status, "#ffffff")}" stroke="#1d3557" '
            f"{dashed if node.status not in {'ok', 'here'} else ''}/>"
            f'<text x="{x + 8}" y="{y + 21}" font-size="12" font-family="ui-monospace,monospace">{esc(label)}</text>'
            f"<title>{esc(name)} ({esc(node.status)})</title>"
        )
        if node.href is not None:
            parts.append(f'<a class="node" href="{esc(node.href)}" data-node="{esc(name)}">{box}</a>')
        else:
            parts.append(f'<g class="node" data-node="{esc(name)}">{box}</g>')
    parts.append("</svg>")
    return "".join(parts)


def quality_chart(points: Sequence[tuple[str, int, int]]) -> str:
    """Bars per snapshot, oldest first: `(label, passed, failed)` expectations; green passed, red failed."""
    if not points:
        return '<p class="muted">No quality verdicts stamped yet.</p>'
    shown = list(points)[-60:]
    top = max(passed + failed for _, passed, failed in shown) or 1
    width, height, bar = 12 * len(shown) + 10, 80, 9
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="quality" width="{width}" height="{height + 4}" '
        f'role="img" aria-label="quality per snapshot">'
    ]
    for i, (label, passed, failed) in enumerate(shown):
        x = 5 + 12 * i
        failed_height = round(height * failed / top)
        passed_height = round(height * passed / top)
        parts.append(
            f"<g><title>{esc(label)}: {passed} passed, {failed} failed</title>"
            f'<rect x="{x}" y="{height - passed_height - failed_height}" width="{bar}" height="{failed_height}" '
            'fill="#d62828"/>'
            f'<rect x="{x}" y="{height - passed_height}" width="{bar}" height="{passed_height}" fill="#2a9d8f"/></g>'
        )
    parts.append(f'<line x1="0" y1="{height}" x2="{width}" y2="{height}" stroke="#888"/></svg>')
    return "".join(parts)
