"""`lake.lineage()`: the graph, traced up and down from an address, and its column lineage."""

from __future__ import annotations

from typing import TYPE_CHECKING

from meshlake.contract.address import Address
from meshlake.lineage.trace import Trace, downstream, upstream

if TYPE_CHECKING:
    from meshlake.lake import Lake
    from meshlake.lineage.columns import ColumnLineage
    from meshlake.lineage.graph import LineageGraph


class Lineage:
    """The mesh's lineage as the caller may see it (built once; `lake.lineage()` builds it again)."""

    def __init__(self, lake: Lake, graph: LineageGraph) -> None:
        self._lake = lake
        self.graph = graph

    def upstream(self, address: str | Address, *, depth: int | None = None) -> Trace:
        """The input snapshots `ADDRESS[@REF]` (default: the published snapshot) was built from, recursively.

        >>> lake.lineage().upstream("logistics.shipping.deliveries@release-1", depth=1)  # doctest: +SKIP
        """
        parsed, snapshot_id = self._resolve(address, kept=True)
        return upstream(self.graph, str(parsed.unpinned), snapshot_id, depth=_depth(depth))

    def downstream(self, address: str | Address, *, depth: int | None = None) -> Trace:
        """Every kept snapshot of every port built from `ADDRESS[@REF]`, and what was built from those."""
        parsed, snapshot_id = self._resolve(address, kept=False)
        return downstream(self.graph, str(parsed.unpinned), snapshot_id, depth=_depth(depth))

    def columns(self) -> ColumnLineage:
        """Column lineage of every product (declared, and read from `source_sql` where sqlglot is installed)."""
        from meshlake.lineage.columns import ColumnEdge, ColumnLineage, column_lineage

        columns_of = {
            f"{name}.{port.name}": {c.name: c.type for c in port.columns}
            for name, descriptor in self.graph.descriptors.items()
            for port in descriptor.outputs
        }
        edges: list[ColumnEdge] = []
        problems: list[str] = []
        for name in sorted(self.graph.descriptors):
            found = column_lineage(self.graph.descriptors[name], columns_of)
            edges += found.edges
            problems += found.problems
        return ColumnLineage(tuple(edges), tuple(problems))

    def cycles(self) -> list[list[str]]:
        """Cycles in the declared lineage (reported; traces never follow one forever)."""
        return self.graph.cycles()

    def _resolve(self, address: str | Address, *, kept: bool) -> tuple[Address, int]:
        """The address and the snapshot id its ref names: a tag, branch or time through the port, no ref the
        published snapshot, an id as given — unless `kept` asks for a snapshot the port still keeps (downstream
        takes an expired id, or a dropped port's: their readers' stamps still name them)."""
        from meshlake.errors import PortNotFoundError, SnapshotNotFoundError

        parsed = address if isinstance(address, Address) else Address.parse(address)
        name = str(parsed.unpinned)
        port = self.graph.port(name)
        given = parsed.ref.snapshot_id if parsed.ref is not None else None
        if given is not None and not kept and name in self.graph.ports:
            return parsed, given
        if given is not None and port.status == "ok":
            if given not in port.snapshots:
                self._lake.read(parsed)  # names the snapshots that exist
            return parsed, given
        if port.status == "missing":
            prefix = f"{parsed.product_name}."
            known = [a for a, p in sorted(self.graph.ports.items()) if a.startswith(prefix) and p.status != "missing"]
            raise PortNotFoundError(str(parsed.unpinned), known)
        if parsed.ref is None:
            if port.main_id is None:
                self._lake.port(parsed.unpinned).history()  # a port the caller may not read says so
                raise SnapshotNotFoundError(str(parsed), "main", exists="The port has no snapshot yet.")
            return parsed, port.main_id
        snapshot_id = self._lake.read(parsed).snapshot_id
        if snapshot_id is None:
            raise SnapshotNotFoundError(str(parsed), str(parsed.ref), exists="The port has no snapshot yet.")
        return parsed, snapshot_id


def _depth(depth: int | None) -> int | None:
    from meshlake.errors import DiscoveryError

    if depth is not None and (isinstance(depth, bool) or not isinstance(depth, int) or depth < 1):
        raise DiscoveryError(f"depth must be a whole number of at least 1 (got {depth!r}); leave it out for no limit")
    return depth
