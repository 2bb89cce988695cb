"""The lineage graph: products, ports and every kept snapshot with the input snapshots it was built from.

Built from metadata only (descriptors and snapshot summaries; no data file is read). A port the caller may
not read is in the graph without its snapshots (`status = "hidden"`); a port whose table cannot be loaded is
`"broken"`; an input a descriptor or a stamp names that no deployed product has is a port with status
`"missing"`. Each snapshot says whether it is on `main`'s line, and the quarantine branch of a write the gate
stopped.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from meshlake.contract.stamps import read_stamps
from meshlake.errors import AccessDeniedError, BrokenProductError

if TYPE_CHECKING:
    from pyiceberg.table.metadata import TableMetadata

    from meshlake.contract.descriptor import Descriptor
    from meshlake.lake import Lake
    from meshlake.product import Product

PortStatus = Literal["ok", "missing", "hidden", "broken"]


@dataclass(frozen=True)
class SnapshotRecord:
    """One kept snapshot of a port, with meshlake's stamps."""

    address: str
    snapshot_id: int
    committed_at: datetime
    run_id: str | None
    writer: str | None
    mode: str | None
    inputs: Mapping[str, int]
    quality: Mapping[str, Any] | None
    on_main: bool
    branch: str | None = None
    """The quarantine branch this snapshot heads (a write the gate stopped), else None."""

    @property
    def verdict(self) -> str | None:
        """`passed`, `failed` or None (a port without expectations)."""
        return None if self.quality is None else str(self.quality.get("verdict"))

    @property
    def stopped(self) -> bool:
        """Whether the quality gate stopped this write (it was committed to a quarantine branch)."""
        return self.branch is not None


@dataclass
class PortRecord:
    """A port of the mesh as lineage sees it."""

    address: str
    status: PortStatus
    description: str | None = None
    reason: str | None = None
    snapshots: dict[int, SnapshotRecord] = field(default_factory=dict)
    main_id: int | None = None
    location: str | None = None
    tags: dict[str, int] = field(default_factory=dict)


@dataclass
class LineageGraph:
    """Products (descriptors), ports and their snapshots; `declared` edges input port → output port."""

    descriptors: dict[str, Descriptor]
    ports: dict[str, PortRecord]
    declared: list[tuple[str, str]]

    def port(self, address: str) -> PortRecord:
        """The port's record; a port nobody deployed is a record with status `missing`."""
        return self.ports.get(address) or PortRecord(address, "missing", reason="no deployed product has this port")

    def snapshot(self, address: str, snapshot_id: int) -> SnapshotRecord | None:
        return self.port(address).snapshots.get(snapshot_id)

    def readers_of(self, address: str, snapshot_id: int) -> list[SnapshotRecord]:
        """Every snapshot (of any port) whose stamp says it read `address` at `snapshot_id`, oldest first."""
        found = [
            record
            for port in self.ports.values()
            for record in port.snapshots.values()
            if record.inputs.get(address) == snapshot_id
        ]
        return sorted(found, key=lambda r: (r.committed_at, r.address, r.snapshot_id))

    def cycles(self) -> list[list[str]]:
        """Each cycle of the declared port graph (a product reads, through others, its own output), as the
        ports around it, first port repeated at the end; sorted, each starting at its smallest address."""
        return declared_cycles(self.declared)

    def to_dict(self) -> dict[str, Any]:
        return {
            "ports": [
                {
                    "address": p.address,
                    "status": p.status,
                    "reason": p.reason,
                    "snapshots": len(p.snapshots),
                    "main_snapshot_id": p.main_id,
                }
                for p in sorted(self.ports.values(), key=lambda p: p.address)
            ],
            "edges": [{"source": s, "target": t} for s, t in self.declared],
            "cycles": self.cycles(),
        }


def build_graph(lake: Lake, products: Iterable[Product] | None = None) -> LineageGraph:
    """The lineage graph of every product `lake` lists (or of `products`), as its caller may see it."""
    descriptors: dict[str, Descriptor] = {}
    ports: dict[str, PortRecord] = {}
    declared: set[tuple[str, str]] = set()
    for product in lake.products() if products is None else products:
        descriptor = product.descriptor
        descriptors[str(product.name)] = descriptor
        for output in descriptor.outputs:
            address = f"{product.name}.{output.name}"
            ports[address] = _port_record(product.port(output.name), address, output.description)
            for read in descriptor.inputs:
                declared.add((read.port, address))
    for port in list(ports.values()):
        for record in port.snapshots.values():
            for source in record.inputs:
                ports.setdefault(source, PortRecord(source, "missing", reason="no deployed product has this port"))
    for source, _ in declared:
        ports.setdefault(source, PortRecord(source, "missing", reason="no deployed product has this port"))
    return LineageGraph(descriptors, ports, sorted(declared))


def _port_record(port: Any, address: str, description: str | None) -> PortRecord:
    try:
        history = port.history()  # checks the caller's read right first
        table = port.table()
    except AccessDeniedError as exc:
        return PortRecord(address, "hidden", description, reason=f"{exc.principal} may not read it")
    except BrokenProductError as exc:
        return PortRecord(address, "broken", description, reason=str(exc))
    metadata = table.metadata
    on_main = {entry.snapshot_id for entry in history}
    record = PortRecord(address, "ok", description, location=metadata.location)
    record.snapshots = snapshot_records(address, metadata, on_main)
    current = metadata.current_snapshot()
    record.main_id = current.snapshot_id if current is not None else None
    record.tags = {name: ref.snapshot_id for name, ref in metadata.refs.items() if ref.snapshot_ref_type.value == "tag"}
    return record


def snapshot_records(address: str, metadata: TableMetadata, on_main: Iterable[int]) -> dict[int, SnapshotRecord]:
    """Every snapshot `metadata` keeps, with its stamps; quarantine branch heads named."""
    from meshlake.write.commit import QUARANTINE_PREFIX

    main_line = set(on_main)
    heads = {
        ref.snapshot_id: name
        for name, ref in metadata.refs.items()
        if name.startswith(QUARANTINE_PREFIX) and ref.snapshot_ref_type.value == "branch"
    }
    records: dict[int, SnapshotRecord] = {}
    for snapshot in metadata.snapshots:
        summary = snapshot.summary.additional_properties if snapshot.summary is not None else {}
        stamps = read_stamps(summary)
        inputs = stamps.get("inputs")
        quality = stamps.get("quality")
        records[snapshot.snapshot_id] = SnapshotRecord(
            address=address,
            snapshot_id=snapshot.snapshot_id,
            committed_at=datetime.fromtimestamp(snapshot.timestamp_ms / 1000, tz=UTC),
            run_id=stamps.get("run-id"),
            writer=stamps.get("writer"),
            mode=stamps.get("mode"),
            inputs=_inputs(inputs),
            quality=quality if isinstance(quality, dict) else None,
            on_main=snapshot.snapshot_id in main_line,
            branch=heads.get(snapshot.snapshot_id),
        )
    return records


def _inputs(value: Any) -> dict[str, int]:
    """The stamp's input address → snapshot id; entries that are not an id are left out (a damaged stamp)."""
    if not isinstance(value, dict):
        return {}
    return {str(k): int(v) for k, v in value.items() if isinstance(v, int) and not isinstance(v, bool)}


def declared_cycles(edges: Iterable[tuple[str, str]]) -> list[list[str]]:
    """The cycles of a directed graph, one per strongly connected component that has one (Tarjan, iterative)."""
    graph: dict[str, list[str]] = {}
    for source, target in edges:
        graph.setdefault(source, []).append(target)
        graph.setdefault(target, [])
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1 or node in graph[node]:
                    components.append(_cycle_in(sorted(component), graph))
    return sorted(components)


def _cycle_in(members: list[str], graph: Mapping[str, list[str]]) -> list[str]:
    """One cycle through the smallest member of a strongly connected component (breadth-first back to it)."""
    start = members[0]
    allowed = set(members)
    previous: dict[str, str] = {}
    frontier = [start]
    while frontier:
        following = []
        for node in frontier:
            for child in sorted(graph[node]):
                if child not in allowed:
                    continue
                if child == start:
                    path = [node]
                    while path[-1] != start:
                        path.append(previous[path[-1]])
                    return [start, *reversed(path[:-1]), start] if node != start else [start, start]
                if child not in previous:
                    previous[child] = node
                    following.append(child)
        frontier = following
    return [start, start]
