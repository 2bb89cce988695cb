"""`Product`: a deployed data product (an Iceberg namespace) and what it describes, from metadata only."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table.refs import MAIN_BRANCH

from meshlake.contract.address import ProductName
from meshlake.contract.descriptor import Descriptor
from meshlake.contract.types import format_type
from meshlake.errors import AccessDeniedError, BrokenProductError, PortNotFoundError
from meshlake.port import Port
from meshlake.query.history import port_history

if TYPE_CHECKING:
    from meshlake.contract.releases import Release
    from meshlake.lake import Lake
    from meshlake.lifecycle.releases import VerifyReport


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    required: bool
    description: str | None
    classification: str | None


@dataclass(frozen=True)
class PortInfo:
    """A port as `describe()` shows it: contract plus the latest published snapshot."""

    address: str
    description: str | None
    columns: list[ColumnInfo]
    primary_key: list[str]
    partition_by: list[str]
    expectations: int
    latest_snapshot_id: int | None
    latest_committed_at: datetime | None
    rows: int
    snapshots: int
    tags: list[str] = field(default_factory=list)
    problem: str | None = None
    foreign_snapshots: int = 0
    """Snapshots of `main` meshlake did not write, or whose stamps do not match their files."""
    """Why the port's table cannot be read (its contract is still shown), or None."""


@dataclass(frozen=True)
class BrokenProduct:
    """A deployed product (or one port of it, when `port` is set) that cannot be read, and why."""

    name: str
    reason: str
    port: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "port": self.port, "reason": self.reason}


class ProductList(list["Product"]):
    """The products `lake.products()` could read; `broken` holds those it could not, with the reason."""

    def __init__(self) -> None:
        super().__init__()
        self.broken: list[BrokenProduct] = []


@dataclass(frozen=True)
class ProductDescription:
    """Everything `product.describe()` returns."""

    name: str
    version: str
    owner: str
    owner_email: str | None
    description: str | None
    inputs: dict[str, str]
    ports: list[PortInfo]

    def to_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        data = asdict(self)
        for port in data["ports"]:
            when = port["latest_committed_at"]
            port["latest_committed_at"] = when.isoformat() if when else None
        return data


class Product:
    """A deployed data product: its descriptor and its output ports."""

    def __init__(self, lake: Lake, descriptor: Descriptor) -> None:
        self.lake = lake
        self.descriptor = descriptor
        self.name = ProductName(descriptor.domain, descriptor.name)

    def __repr__(self) -> str:
        return f"Product({self.name} {self.descriptor.version})"

    @property
    def version(self) -> str:
        return self.descriptor.version

    @property
    def owner(self) -> str:
        return self.descriptor.owner.team

    @property
    def ports(self) -> list[Port]:
        return [Port(self.lake, self.name.port(p.name), self.descriptor) for p in self.descriptor.outputs]

    def port(self, name: str) -> Port:
        if name not in {p.name for p in self.descriptor.outputs}:
            raise PortNotFoundError(f"{self.name}.{name}", [p.name for p in self.descriptor.outputs])
        return Port(self.lake, self.name.port(name), self.descriptor)

    # -- releases ---------------------------------------------------------------------------------
    def cut_release(self, version: str | None = None) -> Release:
        """Release every output port at its published snapshot as `version` (default: the descriptor's version).

        Tags each port `release-<version>`, then stores the release manifest in the system namespace: readers see
        the release (`port.at(release="1.4.0")`, `ADDRESS@release:1.4.0`) all at once or not at all. Owners only.
        Raises `ReleaseError` for a version that is not semver or exists already.
        """
        from meshlake.lifecycle.releases import cut_release

        return cut_release(self, version)

    def releases(self) -> list[Release]:
        """Every release of the product, oldest version first."""
        from meshlake.contract.releases import read_releases

        return read_releases(self.lake.catalog, str(self.name))

    def release(self, version: str) -> Release:
        """The release `version` names (or the newest matching a range such as `^1.4`); `ReleaseError` if none."""
        from meshlake.contract.releases import find_release

        return find_release(self.lake.catalog, str(self.name), version)

    def verify_releases(self, *, repair: bool = False) -> VerifyReport:
        """Check the releases against the ports' tags and snapshots; `repair=True` fixes what can be fixed
        (removes tags an interrupted cut left, re-creates missing tags). See `meshlake.lifecycle.releases`."""
        from meshlake.lifecycle.releases import verify_releases

        return verify_releases(self, repair=repair)

    def describe(self) -> ProductDescription:
        """Owner, description, version, ports with schema, docs, latest snapshot and row count."""
        return ProductDescription(
            name=str(self.name),
            version=self.descriptor.version,
            owner=self.descriptor.owner.team,
            owner_email=self.descriptor.owner.email,
            description=self.descriptor.description,
            inputs={i.name: i.port for i in self.descriptor.inputs},
            ports=[self._port_info(port) for port in self.ports],
        )

    def broken_ports(self) -> list[BrokenProduct]:
        """The ports whose table cannot be loaded (a missing table counts: the deploy did not finish).

        A port whose files the object store refuses the caller's credentials is not broken: reading it raises
        `AccessDeniedError`.
        """
        broken = []
        for port in self.ports:
            try:
                port.table()
            except AccessDeniedError:
                continue
            except NoSuchTableError:
                broken.append(BrokenProduct(str(self.name), "its table does not exist; redeploy", port.address.port))
            except BrokenProductError as exc:
                broken.append(BrokenProduct(str(self.name), exc.reason, port.address.port))
        return broken

    def _port_info(self, port: Port) -> PortInfo:
        contract = port.contract
        problem = None
        try:
            table = port.table()
        except NoSuchTableError:
            table = None
        except BrokenProductError as exc:
            table, problem = None, exc.reason
        except AccessDeniedError as exc:
            table, problem = None, exc.missing
        head = table.metadata.snapshot_by_name(MAIN_BRANCH) if table else None
        history = port_history(table.metadata, table.io) if table else None
        schema = table.schema() if table else None
        columns = [
            ColumnInfo(
                name=c.name,
                type=format_type(schema.find_field(c.name).field_type) if schema else c.type,
                required=c.required,
                description=c.description,
                classification=c.classification,
            )
            for c in contract.columns
        ]
        tags = sorted(
            name for name, ref in (table.metadata.refs.items() if table else []) if ref.snapshot_ref_type == "tag"
        )
        return PortInfo(
            address=str(port.address),
            description=contract.description,
            columns=columns,
            primary_key=list(contract.primary_key),
            partition_by=list(contract.partition_by),
            expectations=len(contract.expectations),
            latest_snapshot_id=head.snapshot_id if head else None,
            latest_committed_at=datetime.fromtimestamp(head.timestamp_ms / 1000, tz=UTC) if head else None,
            rows=history[-1].rows_total if history else 0,
            snapshots=len(history) if history else 0,
            foreign_snapshots=sum(1 for entry in history if entry.foreign) if history else 0,
            tags=tags,
            problem=problem,
        )
