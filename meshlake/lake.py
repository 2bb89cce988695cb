"""`connect()` and `Lake`: one Iceberg catalog + one warehouse, holding every data product of a mesh.

A lake is opened as one caller (`lake.identity`); in a lake with a mesh policy only a product's owners and
the mesh admins change it (see `meshlake.access`).
"""

from __future__ import annotations

import os
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshlake.catalog.settings import Settings, load_settings
from meshlake.contract.address import Address, ProductName
from meshlake.errors import BrokenProductError, PortNotFoundError, ProductNotFoundError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from datetime import datetime, timedelta

    from duckdb import DuckDBPyConnection, DuckDBPyRelation
    from pyiceberg.catalog import Catalog

    from meshlake.access.identity import Identity
    from meshlake.access.log import AccessLog
    from meshlake.access.policy import MeshPolicy
    from meshlake.access.rights import Decision, Level
    from meshlake.contract.changes import Plan
    from meshlake.contract.deploy import DeployReport
    from meshlake.contract.descriptor import Descriptor
    from meshlake.contract.principals import Principal
    from meshlake.governance.engine import Report as GovernanceReport
    from meshlake.governance.policy import GovernancePolicy
    from meshlake.lifecycle.diff import Diff
    from meshlake.lineage.api import Lineage
    from meshlake.lineage.openlineage import ExportReport
    from meshlake.maintenance.doctor import DoctorReport
    from meshlake.maintenance.maintain import MaintenanceReport
    from meshlake.pipelines.run import RunResult
    from meshlake.port import Port
    from meshlake.product import Product, ProductList
    from meshlake.query.access import MeshAccess
    from meshlake.query.mesh import MeshSession
    from meshlake.query.read_log import ReadRecorder
    from meshlake.site.search import SearchHit
    from meshlake.snapshot import PortSnapshot
    from meshlake.write.gate_protocol import Gate


def connect(
    config: str | os.PathLike[str] | None = None,
    *,
    principal: str | Principal | None = None,
    groups: Iterable[str | Principal] | None = None,
    token: str | None = None,
    **settings: Any,
) -> Lake:
    """Open a lake: the embedded default (`./.meshlake/`), or what `config`, `MESHLAKE_*` or keywords say.

    The caller is `principal` (with `groups`), or who a verified JWT `token` names, else `MESHLAKE_PRINCIPAL`,
    `MESHLAKE_TOKEN`, or the OS user (see `meshlake.access.identity`). A token that does not verify raises
    `AuthenticationError` here.

    >>> lake = connect()                                   # doctest: +SKIP
    >>> lake = connect("meshlake.yaml", principal="user:alice", groups=["analytics"])  # doctest: +SKIP
    >>> lake = connect(catalog_uri="postgresql+psycopg2://…", warehouse="s3://lake/wh")  # doctest: +SKIP
    """
    from meshlake.access.identity import resolve_identity

    resolved = load_settings(config, **settings)
    return Lake(resolved, identity=resolve_identity(resolved, principal=principal, groups=groups, token=token))


_UNLOADED: Any = object()


class Lake:
    """A mesh of data products: deploy them, find them, open their ports."""

    def __init__(self, settings: Settings, *, identity: Identity | None = None) -> None:
        from meshlake.access.log import LogSettings

        LogSettings.of(settings)  # a bad access_log setting is an error here, not at the first read
        self.settings = settings
        self.last_deploy: DeployReport | None = None
        self._sessions: dict[int, MeshSession] = {}
        self._default_session: MeshSession | None = None
        self._identity = identity
        self._policy: MeshPolicy | None = _UNLOADED
        self._governance: GovernancePolicy | None = _UNLOADED
        self._access_log: AccessLog | None = _UNLOADED
        self._read_labels: tuple[str | None, str | None] = (None, None)
        self._recorder: ReadRecorder | None = _UNLOADED

    def __repr__(self) -> str:
        return f"Lake({self.settings.resolved_catalog_uri.split('@')[-1]}, warehouse={self.warehouse})"

    @cached_property
    def catalog(self) -> Catalog:
        """The pyiceberg catalog (created on first use for the embedded default)."""
        from meshlake.catalog.catalogs import open_catalog

        return open_catalog(self.settings)

    @property
    def warehouse(self) -> str:
        return self.settings.resolved_warehouse

    # -- who is calling, and what the mesh allows ---------------------------------------------------
    @property
    def identity(self) -> Identity:
        """The caller this lake acts for (resolved when it was opened)."""
        if self._identity is None:
            from meshlake.access.identity import resolve_identity

            self._identity = resolve_identity(self.settings)
        return self._identity

    @property
    def principal(self) -> Principal:
        return self.identity.principal

    @property
    def mesh_policy(self) -> MeshPolicy | None:
        """The mesh policy in force (read once per Lake; `refresh_policy()` reads it again), or None."""
        if self._policy is _UNLOADED:
            from meshlake.access.policy import load_policy

            self._policy = load_policy(self.catalog)
        return self._policy

    def refresh_policy(self) -> MeshPolicy | None:
        """Read the mesh policy from the lake again (another process may have published a new version).

        `lake.sql` then opens a new connection, decided under the policy read now; connections from
        `lake.duckdb()` keep the rights they were opened with.
        """
        self._policy = _UNLOADED
        self._default_session = None
        return self.mesh_policy

    @property
    def access_level(self) -> Level:
        """`declared` (no mesh policy: access rules are metadata only) or `library` (meshlake enforces them)."""
        from meshlake.access.rights import level_of

        return level_of(self.mesh_policy)

    def publish_access_policy(self, policy: MeshPolicy | str | os.PathLike[str]) -> MeshPolicy:
        """Publish a mesh policy (a `MeshPolicy` or a YAML file) as the next version; admins only.

        The first policy of a lake may be published by anyone (`meshlake init --admin` does it): before it the
        lake enforces nothing.
        """
        from meshlake.access.guard import require_admin
        from meshlake.access.policy import MeshPolicy, read_policy_file, store_policy

        document = policy if isinstance(policy, MeshPolicy) else read_policy_file(Path(policy))
        require_admin(self.identity, self.refresh_policy(), action="publish")
        self._policy = store_policy(self.catalog, document, by=self.identity)
        return self._policy

    def init_access(self, admins: Iterable[str | Principal]) -> MeshPolicy:
        """Give the lake its first mesh policy, naming its `admins` (the default policy otherwise).

        Run again with admins that are already the policy's, it changes nothing; any other change is a
        `publish_access_policy` by an admin.
        """
        from meshlake.access.policy import MeshPolicy
        from meshlake.contract.principals import parse_principals
        from meshlake.errors import ConfigError

        wanted = parse_principals(admins)
        current = self.refresh_policy()
        if current is not None:
            if set(wanted) <= set(current.admins):
                return current
            raise ConfigError(
                f"the lake already has a mesh policy (version {current.version}, admins "
                f"{', '.join(map(str, current.admins))}); an admin changes it with `meshlake access policy publish`",
                key="admin",
            )
        return self.publish_access_policy(MeshPolicy(admins=list(wanted)))

    def explain_access(
        self, principal: str | Principal | Identity, address: str | Address, *, groups: Iterable[str] = ()
    ) -> Decision:
        """What `principal` (a member of `groups`) may do with a port: read, rows, masks, write, and the level.

        `principal` may be a group (`group:analytics`): what any member of it may do through it (and `groups`).
        The level is `storage` when `meshlake access verify` last found the principal's storage keys to match
        its current grants (see `meshlake.access.storage_verify`).
        """
        from meshlake.access.identity import Identity, claimed, group_member
        from meshlake.access.rights import decide
        from meshlake.access.storage_verify import with_storage_level
        from meshlake.contract.principals import Principal

        if isinstance(principal, Identity):
            who = principal
        else:
            parsed_principal = Principal.parse(principal)
            is_group = parsed_principal.kind == "group"
            who = group_member(parsed_principal, groups) if is_group else claimed(principal, groups, source="argument")
        parsed = address if isinstance(address, Address) else Address.parse(address)
        descriptor = self.port(parsed.unpinned).descriptor
        decision = decide(who, descriptor, parsed.port, self.mesh_policy)
        return with_storage_level(decision, self.catalog, who, self.mesh_policy, self.location_root)

    def check_write(self, owners: Descriptor | tuple[Principal, ...], *, action: str, address: str) -> None:
        """Raise `AccessDeniedError` unless the caller may `action` what `owners` own (no-op without a policy).

        `owners` is a product's descriptor (its `owner.principals`) or a tuple of principals (`()`: admins only).
        """
        from meshlake.access.guard import require_write

        names = owners if isinstance(owners, tuple) else owners.owners
        require_write(self.identity, names, self.mesh_policy, action=action, address=address)

    def write_refusal(self, owners: Descriptor | tuple[Principal, ...], *, action: str, address: str) -> str | None:
        """Why the caller may not `action` what `owners` own (None when it may, or nothing is enforced)."""
        from meshlake.errors import AccessDeniedError

        try:
            self.check_write(owners, action=action, address=address)
        except AccessDeniedError as exc:
            return exc.missing
        return None

    def as_product(self, name: str | ProductName) -> Lake:
        """This lake acting as the product's pipeline identity `product:<domain>.<name>`; owners only.

        Runs read their inputs through it, so an input port's `readers` grant the product, not its operator.
        """
        from meshlake.access.identity import pipeline_identity

        product = self.product(str(name))
        self.check_write(product.descriptor, action="run", address=str(product.name))
        acting = Lake(self.settings, identity=pipeline_identity(product.name, self.identity))
        if "catalog" in self.__dict__:
            acting.__dict__["catalog"] = self.catalog
        acting._policy = self._policy
        acting._governance = self._governance
        acting._access_log = self.access_log  # one buffer: closing this lake writes the run's reads too
        return acting

    @property
    def location_root(self) -> str | None:
        """Where meshlake places new tables (`<root>/<domain>/<product>/<port>`); None lets the catalog choose.

        A REST catalog chooses its table locations (SeaweedFS refuses any outside its table bucket).
        """
        return None if self.settings.catalog == "rest" else self.warehouse

    # -- products ---------------------------------------------------------------------------------
    def deploy(self, path: str | os.PathLike[str]) -> Product:
        """Create or evolve the product `path` (a dataproduct.yaml or its folder) declares."""
        from meshlake.contract.deploy import deploy_descriptor
        from meshlake.contract.descriptor import load_descriptor
        from meshlake.contract.registry import load_descriptor_of
        from meshlake.product import Product

        descriptor = load_descriptor(Path(path))
        address = str(descriptor.product_name)
        try:
            deployed = load_descriptor_of(self.catalog, descriptor.product_name)  # redeploying: STORED owners decide
        except BrokenProductError:  # its stored owners cannot be read: only the mesh admins may repair it
            self.check_write((), action="deploy", address=address)
        else:
            self.check_write(deployed or descriptor, action="deploy", address=address)
        stamp = self._governance_gate_deploy(Path(path), address)
        self.last_deploy = deploy_descriptor(
            self.catalog, descriptor, warehouse=self.location_root, file=str(Path(path)), properties=stamp
        )
        return Product(self, descriptor)

    def plan(self, path: str | os.PathLike[str]) -> Plan:
        """What deploying `path` would change, each change classified major, minor or patch, and the version bump
        they need (`meshlake.contract.changes`). Nothing is written.

        Raises `ProductNotFoundError` when the product is not deployed (a first deploy needs no plan).

        >>> lake.plan("products/shipments").required  # doctest: +SKIP
        'minor'
        """
        from pyiceberg.exceptions import NoSuchTableError

        from meshlake.contract.changes import plan_changes
        from meshlake.contract.descriptor import load_descriptor
        from meshlake.contract.registry import list_products, load_descriptor_of, load_port_table

        descriptor = load_descriptor(Path(path))
        deployed = load_descriptor_of(self.catalog, descriptor.product_name)
        if deployed is None:
            raise ProductNotFoundError(str(descriptor.product_name), [str(n) for n in list_products(self.catalog)])
        schemas = {}
        for port in deployed.outputs:
            try:
                schemas[port.name] = load_port_table(self.catalog, descriptor.product_name.port(port.name)).schema()
            except NoSuchTableError:
                continue
        return plan_changes(deployed, descriptor, schemas)

    # -- open standards -------------------------------------------------------------------------------
    def export_odcs(self, target: str) -> dict[str, Any]:
        """The Open Data Contract Standard (3.2) document of a product (`domain.product`) or of one of its ports
        (`domain.product.port`), as a mapping (dump it as YAML); see `meshlake.standards.odcs`."""
        from meshlake.catalog.settings import redact_uri
        from meshlake.standards.odcs import export_odcs

        parts = target.split(".")
        product = self.product(".".join(parts[:2]))
        ports = [product.port(parts[2]).contract.name] if len(parts) == 3 else None
        server = {"catalog": self.settings.catalog_name, "catalogUrl": redact_uri(self.settings.resolved_catalog_uri)}
        if self.warehouse:
            server["warehouse"] = str(self.warehouse)
        return export_odcs(product.descriptor, server=server, ports=ports)

    def export_odps(self, product: str) -> dict[str, Any]:
        """The Open Data Product Standard (1.1) document of a product: input, output and management ports."""
        from meshlake.standards.odps import export_odps

        return export_odps(self.product(product).descriptor)

    # -- governance ---------------------------------------------------------------------------------
    @property
    def governance_policy(self) -> GovernancePolicy | None:
        """The governance policy in force (read once per Lake; `refresh_governance()` reads it again), or None."""
        if self._governance is _UNLOADED:
            from meshlake.governance.policy import load_governance

            self._governance = load_governance(self.catalog)
        return self._governance

    def refresh_governance(self) -> GovernancePolicy | None:
        """Read the governance policy from the lake again (another process may have published a new version)."""
        self._governance = _UNLOADED
        return self.governance_policy

    def publish_governance(self, path: str | os.PathLike[str]) -> GovernancePolicy:
        """Publish a `governance.yaml` (and the Rego files it names) as the next version; mesh admins only.

        A scope that matches none of the deployed products is refused (`GovernanceError`), as is anything
        `meshlake lint` would refuse in the file itself. In a lake without a mesh policy anyone may publish.
        """
        from meshlake.access.guard import require_admin
        from meshlake.governance.policy import POLICY_ADDRESS, read_policy_file, store_governance, unmatched_scopes
        from meshlake.governance.subjects import deployed_mesh

        policy = read_policy_file(Path(path))
        require_admin(self.identity, self.refresh_policy(), action="publish", address=POLICY_ADDRESS)
        deployed, _broken = deployed_mesh(self.catalog)
        unmatched_scopes(policy, deployed.values())
        store_governance(self.catalog, policy, by=str(self.identity.principal))
        published = self.refresh_governance()
        assert published is not None
        return published

    def lint(
        self,
        paths: Iterable[str | os.PathLike[str]] = (),
        *,
        mesh: bool = False,
        policy: GovernancePolicy | str | os.PathLike[str] | None = None,
        record: bool = False,
    ) -> GovernanceReport:
        """Check descriptor files (`paths`, folders searched) or, with `mesh`, every deployed product.

        Against `policy` (a `GovernancePolicy` or a file), else the policy published in the lake, else the
        default policy. `meshlake deploy` refuses exactly the report's `blocking` findings. With `record`, the
        findings are appended to `meshlake.system.governance_findings`.
        """
        from meshlake.governance.checks import check_files, check_mesh
        from meshlake.governance.policy import GovernancePolicy, read_policy_file

        chosen = policy if isinstance(policy, GovernancePolicy) or policy is None else read_policy_file(Path(policy))
        chosen = chosen or self.governance_policy
        if mesh:
            report = check_mesh(self.catalog, policy=chosen, access_policy=self.mesh_policy)
        else:
            report = check_files(
                [Path(p) for p in paths], catalog=self.catalog, policy=chosen, access_policy=self.mesh_policy
            )
        if record:
            self._record_governance(report, point="lint")
        return report

    def _governance_gate_deploy(self, path: Path, address: str) -> dict[str, str]:
        """Refuse the deploy of `path` on the findings `lint` reports as errors; the properties that stamp it."""
        policy = self.governance_policy
        if policy is None:
            return {}
        from meshlake.errors import GovernanceViolationError
        from meshlake.governance.checks import GOVERNANCE_VERSION, check_files

        report = check_files([path], catalog=self.catalog, policy=policy, access_policy=self.mesh_policy)
        self._record_governance(report, point="deploy")
        if report.blocking:
            raise GovernanceViolationError(address, report.blocking, action="deploy", policy_version=policy.version)
        return {GOVERNANCE_VERSION: str(policy.version)}

    def governance_gate_runtime(
        self, descriptor: Descriptor, *, point: str, inputs: Iterable[str] | None = None
    ) -> None:
        """Refuse a run or write of `descriptor` that breaks a runtime rule (reading an ungranted input)."""
        policy = self.governance_policy
        if policy is None:
            return
        from meshlake.errors import GovernanceViolationError
        from meshlake.governance.checks import check_runtime

        report = check_runtime(self.catalog, descriptor, policy=policy, access_policy=self.mesh_policy, inputs=inputs)
        if report.blocking:
            self._record_governance(report, point=point)
            raise GovernanceViolationError(
                str(descriptor.product_name), report.blocking, action=point, policy_version=policy.version
            )

    def _record_governance(self, report: GovernanceReport, *, point: str) -> None:
        from meshlake.contract.stamps import new_run_id
        from meshlake.governance.records import record_findings

        record_findings(
            self.catalog,
            self.location_root,
            report,
            point=point,
            check_id=new_run_id(),
            principal=str(self.identity.principal),
        )

    def products(self, *, check_tables: bool = False) -> ProductList:
        """Every deployed data product that can be read, by name; `.broken` lists those that cannot, and why.

        One broken product (its stored descriptor unreadable) never hides the others. With
        `check_tables=True` each port's table is loaded too, and a port whose table cannot be loaded is
        listed in `.broken` with its port (its product stays in the list: its other ports work); a port
        whose files the object store refuses the caller's storage credentials is not broken, and not listed.
        """
        from meshlake.contract.registry import scan_products
        from meshlake.product import BrokenProduct, Product, ProductList

        found = ProductList()
        for entry in scan_products(self.catalog):
            if entry.descriptor is None:
                found.broken.append(BrokenProduct(str(entry.name), entry.problem or "unreadable"))
                continue
            product = Product(self, entry.descriptor)
            found.append(product)
            if check_tables:
                found.broken.extend(product.broken_ports())
        return found

    def product(self, name: str) -> Product:
        """A deployed product by `domain.product` (`BrokenProductError` if its descriptor cannot be read)."""
        from meshlake.contract.registry import list_products, load_descriptor_of
        from meshlake.product import Product

        product_name = ProductName.parse(name)
        descriptor = load_descriptor_of(self.catalog, product_name)
        if descriptor is None:
            raise ProductNotFoundError(name, [str(n) for n in list_products(self.catalog)])
        return Product(self, descriptor)

    def port(self, address: str | Address) -> Port:
        """An output port by address `domain.product.port` (a `@ref` is refused here: use `read`)."""
        parsed = address if isinstance(address, Address) else Address.parse(address)
        if parsed.ref is not None:
            raise PortNotFoundError(
                str(parsed), [f"use lake.read('{parsed}') or port.at('{parsed.ref}') for a point in history"]
            )
        return self.product(str(parsed.product_name)).port(parsed.port)

    def read(self, address: str | Address) -> PortSnapshot:
        """A port at `@ref` (snapshot id, tag, branch or zoned time), or its published snapshot."""
        parsed = address if isinstance(address, Address) else Address.parse(address)
        port = self.port(parsed.unpinned)
        return port.latest() if parsed.ref is None else port.at(str(parsed.ref))

    def diff(
        self,
        a: str | Address,
        b: str | Address,
        *,
        key: Sequence[str] | None = None,
        samples: int = 5,
        check_keys: bool = False,
    ) -> Diff:
        """`port.diff` of two addresses with refs (`sales.orders.placed@release:1.4.0`, `…@v2`; no ref: the published
        snapshot); `DiffError` when they name different ports."""
        from meshlake.errors import DiffError

        first = a if isinstance(a, Address) else Address.parse(a)
        second = b if isinstance(b, Address) else Address.parse(b)
        if first.unpinned != second.unpinned:
            raise DiffError(f"{first} and {second} are different ports; diff two snapshots of one port")
        port = self.port(first.unpinned)
        return port.diff(self.read(first), self.read(second), key=key, samples=samples, check_keys=check_keys)

    def run(
        self,
        path: str | os.PathLike[str],
        *,
        replay: str | int | None = None,
        params: dict[str, str] | None = None,
    ) -> RunResult:
        """Run a product's pipeline: pin its inputs, call it, write each output through the gate.

        `replay` (a run id, or a snapshot id an earlier run wrote) reads that run's exact input snapshots.
        """
        from meshlake.pipelines.run import run_product

        return run_product(self, Path(path), replay=replay, params=params)

    def doctor(self, address: str | None = None) -> DoctorReport:
        """Report drift of every port (or a product's, or one port's): schema or properties that differ from the
        descriptor, foreign snapshots, snapshots without row totals, missing quality records. From metadata; it
        changes nothing. See `meshlake.maintenance.doctor`."""
        from meshlake.maintenance.doctor import diagnose

        return diagnose(self, address)

    def maintain(
        self,
        product: str | None = None,
        *,
        apply: bool = False,
        expire: bool = True,
        orphans: bool = True,
        compact: bool = True,
        now: datetime | None = None,
        orphan_age: str | timedelta = "1h",
        progress: Callable[[str, str], None] | None = None,
    ) -> MaintenanceReport:
        """Expire snapshots by retention, find (and with `apply`, delete) orphan files, compact small files.

        A dry run unless `apply=True`: the report says what would be done. `product` narrows it to
        `domain.product` or one port `domain.product.port`. See `meshlake.maintenance.maintain`.
        """
        from meshlake.maintenance.maintain import maintain

        return maintain(
            self,
            product,
            apply=apply,
            expire=expire,
            orphans=orphans,
            compact=compact,
            now=now,
            orphan_age=orphan_age,
            progress=progress,
        )

    # -- discovery: lineage and search --------------------------------------------------------------
    def lineage(self) -> Lineage:
        """The mesh's lineage at snapshot granularity, from descriptors and `meshlake.inputs` stamps.

        Ports the caller may not read are in it without their snapshots. See docs/lineage.md.

        >>> lake.lineage().upstream("logistics.shipping.deliveries@release-1").steps  # doctest: +SKIP
        """
        from meshlake.lineage.api import Lineage
        from meshlake.lineage.graph import build_graph

        return Lineage(self, build_graph(self))

    def export_lineage(
        self, to: str | os.PathLike[str], *, since: datetime | None = None, timeout: float = 10.0
    ) -> ExportReport:
        """Write every kept snapshot committed since `since` as OpenLineage run events: to a file (JSON lines) or,
        for an `http(s)://` URL, one POST per event (`meshlake[lineage]`). The same history always gives
        byte-identical events, so back-fills and re-sends are safe. See docs/lineage.md."""
        from meshlake.lineage.openlineage import export_events

        return export_events(self.lineage().graph, to, since=since, timeout=timeout)

    def search(self, text: str, *, limit: int = 20) -> list[SearchHit]:
        """Products, ports and columns matching every word of `text`, best first (names, owners, tags and
        descriptions; from descriptors only). `meshlake search TEXT` prints the same ranking."""
        from meshlake.site.search import build_index, search

        return search(build_index([product.descriptor for product in self.products()]), text, limit=limit)

    # -- the mesh in DuckDB ------------------------------------------------------------------------
    def duckdb(self, con: DuckDBPyConnection | None = None, *, as_of: datetime | None = None) -> DuckDBPyConnection:
        """A DuckDB connection (new, or `con`) where every port is a view named by its address.

        Views read the ports' Parquet files in place; a port is planned when a query first uses it.
        With `as_of` (an aware datetime) every view reads the snapshot published at that instant.

        In a lake with a mesh policy the views apply the caller's rights: a port it may not read raises
        `AccessDeniedError` when used; a port it reads with masks or a row filter is served from a private
        database; and the connection — `con` too — is then locked to the files of the ports it reads
        unrestricted (see docs/security.md). A `con` whose configuration is already locked is refused.

        >>> lake.duckdb().sql("SELECT count(*) FROM logistics.shipments.daily")  # doctest: +SKIP
        """
        return self._attach(con, as_of=as_of).con

    def _attach(
        self, con: DuckDBPyConnection | None = None, *, held: bool = True, as_of: datetime | None = None
    ) -> MeshSession:
        """A mesh session on `con` (or a new connection), kept by `con` (`held`) or only by this lake."""
        from meshlake.query.mesh import MeshSession
        from meshlake.query.native.masks import connect, load

        access = self._mesh_reads()
        if access is not None and con is not None:
            from meshlake.query.lockdown import refuse_locked

            refuse_locked(con)
        # meshlake's DuckDB extensions (position deletes as row masks, in the scan) where it can be loaded: always on
        # a connection of our own, on the caller's only when it allows unsigned extensions (docs/write-modes.md).
        connection = connect() if con is None else con
        if con is not None:
            load(con)
        if self.settings.uses_s3:
            from meshlake.catalog.catalogs import storage_properties
            from meshlake.catalog.storage import register_s3

            properties = storage_properties(self.settings) | dict(self.settings.properties)
            register_s3(connection, properties, read_only=access is not None)
        session = self._sessions[id(connection)] = MeshSession(
            self.catalog,
            connection,
            as_of=as_of,
            access=access,
            read_log=self._read_recorder(),
            principal=str(self.principal),
            held_by_connection=held,
        )
        return session

    def _mesh_reads(self) -> MeshAccess | None:
        """The caller's read rights for the DuckDB views; None in a lake without a mesh policy."""
        policy = self.mesh_policy
        if policy is None:
            return None
        from meshlake.access.mesh_reads import MeshReads

        return MeshReads(self.identity, policy, self.catalog)

    def refresh(self, con: DuckDBPyConnection) -> list[str]:
        """Bring a connection from `duckdb()` to the latest snapshots; only changed ports are re-planned.

        New ports get views (served through the private database in a lake with a mesh policy: the
        connection stays locked to the directories it was opened with).
        """
        session = self._sessions.get(id(con))
        if session is None:
            raise ValueError("this connection was not attached by lake.duckdb(); call lake.duckdb(con) first")
        return session.refresh()

    def sql(self, query: str, *, con: DuckDBPyConnection | None = None) -> DuckDBPyRelation:
        """Run DuckDB SQL over the mesh, with DuckDB's time-travel syntax on ports.

        >>> lake.sql("SELECT * FROM logistics.shipments.daily AT (VERSION => 'v1.2.0')")  # doctest: +SKIP
        """
        if "access_log" in query and self._access_log not in (_UNLOADED, None):
            self._flush_access_log()  # a query of the log sees the reads made before it
        if con is not None:
            if id(con) not in self._sessions:
                self.duckdb(con)
            return self._sessions[id(con)].sql(query)
        if self._default_session is None:
            self._default_session = self._attach(held=False)
            self._default_session.views.log_unbound_scans = False  # only lake.sql runs on it: logged when bound
        else:
            self._default_session.refresh_for(query)
        return self._default_session.sql(query)

    # -- the access log ----------------------------------------------------------------------------
    @property
    def access_log(self) -> AccessLog | None:
        """The buffered log of reads through this lake (`meshlake.system.access_log`), or None when it is off.

        The `access_log` setting: `auto` (the default: on in a lake with a mesh policy), `on` or `off`. Entries
        are written when `access_log_flush_entries` are buffered, after `access_log_flush_interval`, on
        `close()` and when the process exits; see `meshlake.access.log`.
        """
        if self._access_log is _UNLOADED:
            from meshlake.access.log import open_access_log

            self._access_log = open_access_log(self.catalog, self.location_root, self.settings, self.mesh_policy)
        return self._access_log

    def log_reads_as(self, path: str, *, query_id: str | None = None) -> None:
        """Label every read through this lake in the access log with `path` (and `query_id`): the CLI's
        reads are `cli`, a pipeline run's `pipeline` with its run id."""
        self._read_labels = (path, query_id)
        self._recorder = _UNLOADED

    def close(self) -> None:
        """Write the access log's buffered entries (`AccessLogError` if it cannot; they stay buffered)."""
        if self._access_log is not _UNLOADED and self._access_log is not None:
            self._access_log.flush()

    def __enter__(self) -> Lake:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _flush_access_log(self) -> None:
        import logging

        from meshlake.errors import AccessLogError

        assert self._access_log is not None
        try:
            self._access_log.flush()
        except AccessLogError as exc:
            logging.getLogger("meshlake.access.log").warning("%s", exc)

    def _read_recorder(self) -> ReadRecorder | None:
        """What the read paths call for each read (None when reads are not logged)."""
        if self._recorder is _UNLOADED:
            from meshlake.access.log import Recorder

            log = self.access_log
            path, query_id = self._read_labels
            self._recorder = (
                None
                if log is None
                else Recorder(log, self.identity, rights=self._rights_on, path=path, query_id=query_id)
            )
        return self._recorder

    def _rights_on(self, address: str) -> Decision | None:
        """The caller's rights on a port, for the access log (None when nothing is enforced or it is no port)."""
        from meshlake.access.rights import decide
        from meshlake.contract.address import SYSTEM_DOMAIN
        from meshlake.contract.registry import load_descriptor_of

        policy = self.mesh_policy
        parsed = Address.parse(address)
        if policy is None or parsed.domain == SYSTEM_DOMAIN:
            return None
        descriptor = load_descriptor_of(self.catalog, parsed.product_name)
        return None if descriptor is None else decide(self.identity, descriptor, parsed.port, policy)

    # -- quality gate hook ------------------------------------------------------------------------
    def _gate_for(self, port: Port) -> Gate | None:
        """The quality gate of a port, or None when it declares no expectations."""
        if not port.contract.expectations:
            return None
        from meshlake.quality.gate import make_gate

        return make_gate(self, port)
