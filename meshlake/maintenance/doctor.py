"""`meshlake doctor`: what drifted from meshlake's own account of the mesh, port by port, from metadata.

Findings (each with the address, the snapshot when there is one, and what to do):

- `descriptor-drift`: the table's schema, partitioning or properties no longer match the descriptor (another
  engine evolved the table, or someone edited it by hand); `meshlake deploy` says whether it can restore them;
- `foreign-snapshot`: a snapshot on `main` meshlake did not write, or whose stamps do not match its files
  (`meshlake.query.provenance`): its rows never passed the gate; the next gated write checks the port in full;
- `missing-row-totals`: a snapshot whose summary has no `total-records` (meshlake shows the total computed from
  its manifests instead);
- `missing-quality-record`: a snapshot meshlake gated (its verdict is stamped) whose verdict is not in the
  quality history (`meshlake check` records it);
- `unreadable`: a product or port that cannot be loaded at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from pyiceberg.table.refs import MAIN_BRANCH

from meshlake.catalog.metadata import ancestors
from meshlake.contract.stamps import QUALITY

if TYPE_CHECKING:
    from pyiceberg.table import Table

    from meshlake.lake import Lake
    from meshlake.port import Port

CODES = ("descriptor-drift", "foreign-snapshot", "missing-row-totals", "missing-quality-record", "unreadable")


@dataclass(frozen=True)
class Finding:
    """One thing that drifted."""

    code: str
    address: str
    message: str
    fix: str
    snapshot_id: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class DoctorReport:
    """Every finding over the ports looked at; `healthy` when there is none."""

    ports: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return not self.findings

    def to_dict(self) -> dict[str, Any]:
        return {
            "healthy": self.healthy,
            "ports": list(self.ports),
            "findings": [finding.to_dict() for finding in self.findings],
        }


def diagnose(lake: Lake, selection: str | None = None) -> DoctorReport:
    """Look at every port (or a product's, or one port's, `selection`) and report what drifted."""
    report = DoctorReport()
    for port, problem in _ports(lake, selection):
        if port is None:
            report.findings.append(Finding("unreadable", problem[0], problem[1], "run `meshlake products` for why"))
            continue
        address = str(port.address)
        report.ports.append(address)
        try:
            table = port.table()
        except Exception as exc:
            report.findings.append(Finding("unreadable", address, str(exc), "redeploy the product or repair its table"))
            continue
        report.findings.extend(port_findings(lake, port, table))
    return report


def port_findings(lake: Lake, port: Port, table: Table) -> list[Finding]:
    """The findings of one loaded port."""
    from meshlake.contract.deploy import port_drift
    from meshlake.query.provenance import provenance

    address = str(port.address)
    redeploy = "run `meshlake deploy` on the product's descriptor (`meshlake plan` first)"
    findings = [
        Finding("descriptor-drift", address, note, redeploy)
        for note in port_drift(port.descriptor, port.contract, table)
    ]
    head = table.metadata.snapshot_by_name(MAIN_BRANCH)
    chain = list(ancestors(table.metadata, head)) if head is not None else []
    uuid = str(table.metadata.table_uuid)
    stamped: list[int] = []
    for snapshot in reversed(chain):
        props = snapshot.summary.additional_properties if snapshot.summary is not None else {}
        sid = snapshot.snapshot_id
        found = provenance(uuid, snapshot, table.io)
        if found.foreign:
            findings.append(
                Finding(
                    "foreign-snapshot",
                    address,
                    f"snapshot {sid} ({snapshot.summary.operation.value if snapshot.summary else '?'}): {found.reason}",
                    "its rows did not pass meshlake's gate: the next gated write checks the port in full; "
                    "write through meshlake (port.write, port.daft_sink, port.ray_sink)",
                    sid,
                )
            )
        elif QUALITY in props:
            stamped.append(sid)
        if "total-records" not in props:
            findings.append(
                Finding(
                    "missing-row-totals",
                    address,
                    f"snapshot {sid} has no total-records in its summary (meshlake computes it from its manifests)",
                    "nothing to repair; the writer of that snapshot should write Iceberg's summary totals",
                    sid,
                )
            )
    findings += _missing_records(lake, address, stamped)
    return findings


def _missing_records(lake: Lake, address: str, stamped: Sequence[int]) -> list[Finding]:
    if not stamped:
        return []
    from meshlake.quality.records import read_results

    rows = read_results(lake.catalog, address=address, snapshot_ids=list(stamped), columns=["snapshot_id"])
    recorded = {row["snapshot_id"] for row in rows}
    return [
        Finding(
            "missing-quality-record",
            address,
            f"snapshot {sid} carries a quality verdict the quality history lacks",
            f"run `meshlake check {address}` (it records the stamped verdicts the history lacks)",
            sid,
        )
        for sid in stamped
        if sid not in recorded
    ]


def _ports(lake: Lake, selection: str | None) -> list[tuple[Port | None, tuple[str, str]]]:
    """The ports to look at; a product that cannot be read is (None, (name, why))."""
    from meshlake.contract.address import Address
    from meshlake.contract.registry import list_products

    if selection is not None and selection.count(".") == 2:
        return [(lake.port(Address.parse(selection)), ("", ""))]
    names = [selection] if selection is not None else [str(name) for name in list_products(lake.catalog)]
    found: list[tuple[Port | None, tuple[str, str]]] = []
    for name in names:
        try:
            ports = lake.product(name).ports
        except Exception as exc:
            if selection is not None:
                raise
            found.append((None, (name, f"the product cannot be read: {exc}")))
            continue
        found.extend((port, ("", "")) for port in ports)
    return found
