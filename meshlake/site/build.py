"""`meshlake site build OUT/`: a static catalog site that works from `file://` with no network.

Everything a page needs is in the page (styles, the one script, the search index, SVG pictures); pages link to
each other by relative paths. The site is built for an **audience**: the lake it is handed acts as that
principal, so every sample row is read through the same masked, row-filtered read path as `port.latest()`,
a port the audience may not read shows its descriptor but no history, quality or rows, and lineage hides what
the audience may not see. The same mesh gives the same files byte for byte (nothing depends on the clock: a
port page's "x hours ago" is computed by the browser).
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshlake.errors import AccessDeniedError, DiscoveryError, MeshlakeError
from meshlake.site import pages
from meshlake.site.search import build_index

if TYPE_CHECKING:
    from meshlake.access.rights import Decision
    from meshlake.governance.findings import Finding
    from meshlake.lake import Lake
    from meshlake.lineage.columns import ColumnEdge
    from meshlake.lineage.graph import LineageGraph
    from meshlake.port import Port
    from meshlake.query.history import SnapshotInfo

MARKER = ".meshlake-site"
"""The file that marks a folder as a site meshlake built (so a rebuild may replace it)."""


@dataclass
class PortFacts:
    """What the site shows of one port, as its audience may see it."""

    address: str
    status: str
    reason: str | None = None
    history: list[SnapshotInfo] = field(default_factory=list)
    tags: dict[str, int] = field(default_factory=dict)
    quality_points: list[tuple[str, int, int]] = field(default_factory=list)
    sample: tuple[list[str], list[list[Any]]] | None = None
    sample_note: str = ""
    masks: dict[str, str] = field(default_factory=dict)
    freshness_seconds: int | None = None

    @property
    def rows(self) -> int | None:
        return self.history[-1].rows_total if self.history else None


@dataclass(frozen=True)
class SiteReport:
    out: str
    pages: int
    products: int
    ports: int
    audience: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "out": self.out,
            "pages": self.pages,
            "products": self.products,
            "ports": self.ports,
            "audience": self.audience,
        }


def build_site(lake: Lake, out: Path, *, sample_rows: int = 10) -> SiteReport:
    """Write the site for `lake`'s caller (the audience) into `out` (created, or a site built before)."""
    if isinstance(sample_rows, bool) or not isinstance(sample_rows, int) or not 0 <= sample_rows <= 1000:
        raise DiscoveryError(f"sample rows must be 0 to 1000 (got {sample_rows!r})", value=str(sample_rows))
    _prepare(out)
    from meshlake.lineage.api import Lineage
    from meshlake.lineage.graph import build_graph

    audience = str(lake.identity.principal)
    products = sorted(lake.products(), key=lambda p: str(p.name))
    descriptors = [p.descriptor for p in products]
    opened = {str(port.address): port for product in products for port in product.ports}
    lineage = Lineage(lake, build_graph(lake, products))
    graph = lineage.graph
    columns = lineage.columns()
    findings, governed = _findings(lake)
    facts = {address: _facts(lake, graph, port, sample_rows) for address, port in sorted(opened.items())}
    edges_by_target: dict[str, list[ColumnEdge]] = {}
    for edge in columns.edges:
        edges_by_target.setdefault(edge.target_port, []).append(edge)
    port_edges = _port_edges(graph, edges_by_target)
    files: dict[str, str] = {}
    index = [_index_entry(entry.to_json()) for entry in build_index(descriptors)]
    files["index.html"] = pages.home(descriptors, index, audience=audience)
    nodes = {a: (graph.port(a).status, a) for a in graph.ports}
    files["lineage.html"] = pages.lineage_page(
        pages.picture(nodes, port_edges, root=""), lineage.cycles(), columns.problems
    )
    for descriptor in descriptors:
        name = str(descriptor.product_name)
        own = {f"{name}.{p.name}": facts[f"{name}.{p.name}"] for p in descriptor.outputs}
        files[f"products/{name}.html"] = pages.product(descriptor, own, findings.get(name, []), governed=governed)
        for port in descriptor.outputs:
            address = f"{name}.{port.name}"
            near = _neighbourhood(address, port_edges)
            picture = pages.picture(
                {a: (graph.port(a).status, a) for a in near},
                [e for e in port_edges if e[0] in near and e[1] in near],
                root="../",
                here=address,
            )
            files[f"ports/{address}.html"] = pages.port_page(
                port, facts[address], edges_by_target.get(address, []), picture
            )
    for relative, text in sorted(files.items()):
        target = out / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    (out / MARKER).write_text("built by meshlake site build\n", encoding="utf-8")
    ports = sum(len(d.outputs) for d in descriptors)
    return SiteReport(str(out), len(files), len(descriptors), ports, audience)


def _prepare(out: Path) -> None:
    """An empty folder for the site: a new one, an empty one, or one a previous build made (replaced whole)."""
    if out.exists() and not out.is_dir():
        raise DiscoveryError(f"{out} is a file; name a folder for the site", value=str(out))
    if out.is_dir() and any(out.iterdir()):
        if not (out / MARKER).is_file():
            raise DiscoveryError(
                f"{out} is not empty and was not built by meshlake site build; name a new or empty folder",
                value=str(out),
            )
        for child in out.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child)
            else:
                child.unlink()
    out.mkdir(parents=True, exist_ok=True)


def _index_entry(entry: dict[str, Any]) -> dict[str, Any]:
    """The search entry with the relative link of its page."""
    kind, address = entry["k"], entry["a"]
    if kind == "product":
        url = pages.product_href(address, "")
    elif kind == "port":
        url = pages.port_href(address, "")
    else:
        port, _, column = address.rpartition(".")
        url = pages.port_href(port, "") + f"#col-{column}"
    return entry | {"u": url}


def _findings(lake: Lake) -> tuple[dict[str, list[Finding]], bool]:
    if lake.governance_policy is None:
        return {}, False
    report = lake.lint(mesh=True)
    grouped: dict[str, list[Finding]] = {}
    for finding in sorted(report.findings, key=lambda f: (f.product, f.address, f.code, f.column or "", f.message)):
        grouped.setdefault(finding.product, []).append(finding)
    return grouped, True


def _facts(lake: Lake, graph: LineageGraph, port: Port, sample_rows: int) -> PortFacts:
    address = str(port.address)
    record = graph.port(address)
    facts = PortFacts(address, record.status, record.reason, tags=dict(record.tags))
    if record.status != "ok":
        facts.sample_note = (
            f"{lake.identity.principal} (this site's audience) may not read this port."
            if record.status == "hidden"
            else (record.reason or record.status)
        )
        return facts
    facts.history = list(port.history())
    slo = port.contract.slo
    if slo is not None and slo.freshness:
        from meshlake.contract.durations import parse_duration

        facts.freshness_seconds = int(parse_duration(slo.freshness).total_seconds())
    for entry in facts.history:
        snapshot = record.snapshots.get(entry.snapshot_id)
        quality = snapshot.quality if snapshot is not None else None
        if quality is not None:
            failed = len(quality.get("failed", []))
            total = int(quality.get("expectations", failed))
            facts.quality_points.append(
                (f"{entry.snapshot_id} {entry.committed_at.isoformat()}", total - failed, failed)
            )
    decision = _decision(lake, port)
    facts.masks = {column: mask.action for column, mask in (decision.masks if decision else {}).items()}
    facts.sample, facts.sample_note = _sample(lake, port, sample_rows, decision)
    return facts


def _decision(lake: Lake, port: Port) -> Decision | None:
    """What the audience may do with the port (None in a lake that enforces nothing)."""
    policy = lake.mesh_policy
    if policy is None:
        return None
    from meshlake.access.rights import decide

    return decide(lake.identity, port.descriptor, port.contract.name, policy)


def _sample(
    lake: Lake, port: Port, rows: int, decision: Decision | None
) -> tuple[tuple[list[str], list[list[Any]]] | None, str]:
    """The first `rows` rows of the published snapshot, read as the audience (masked, row-filtered)."""
    audience = lake.identity.principal
    if rows == 0:
        return None, "Sample rows were left out of this site."
    try:
        snapshot = port.latest()
        if snapshot.snapshot_id is None:
            return None, "No snapshot yet."
        frame = snapshot.to_polars().head(rows).collect()
    except AccessDeniedError:
        return None, f"{audience} (this site's audience) may not read this port."
    except MeshlakeError as exc:
        return None, f"No sample: {exc}"
    how = []
    if decision is not None and decision.masks:
        how.append("masked columns: " + ", ".join(sorted(decision.masks)))
    if decision is not None and decision.row_filter is not None:
        how.append("rows filtered for the audience")
    note = f"The first {frame.height} row(s) of snapshot {snapshot.snapshot_id}, as {audience} reads them"
    note += f" ({'; '.join(how)})." if how else "."
    return (list(frame.columns), [list(row) for row in frame.iter_rows()]), note


def _port_edges(graph: LineageGraph, edges_by_target: dict[str, list[ColumnEdge]]) -> list[tuple[str, str, str]]:
    """Port → port edges, DIRECT unless the target's column lineage from that source is all INDIRECT; edges a
    published snapshot's stamp shows but no descriptor declares (a dropped input) are added too."""
    pairs = set(graph.declared)
    for port in graph.ports.values():
        head = port.snapshots.get(port.main_id) if port.main_id is not None else None
        if head is not None:
            pairs.update((source, port.address) for source in head.inputs)
    result = []
    for source, target in sorted(pairs):
        kinds = {e.transformation for e in edges_by_target.get(target, []) if e.source_port == source}
        result.append((source, target, "INDIRECT" if kinds == {"INDIRECT"} else "DIRECT"))
    return result


def _neighbourhood(address: str, edges: list[tuple[str, str, str]]) -> set[str]:
    """The port, the ports it reads and the ports that read it."""
    near = {address}
    for source, target, _ in edges:
        if target == address:
            near.add(source)
        if source == address:
            near.add(target)
    return near
