"""Deploy a descriptor: create or evolve the product's namespace and port tables, idempotently.

Compatible changes apply (new optional column, int→long, float→double, wider decimal, docs, new
port, partition spec). Breaking ones (dropped or retyped column, new required column, new primary
key, dropped port) are refused with `BreakingChangeError` unless the major version was raised.
Every change is classified major, minor or patch (`meshlake.contract.changes`); a declared version that
makes a smaller bump over the deployed one is refused with `VersionBumpError`, naming the version to declare.
Nothing is written when nothing changed.

Everything pyiceberg would refuse is found before anything is written: each new table's metadata is built
in memory (and read back), each evolution is applied to an uncommitted transaction. A deploy that still
fails midway (a lost race, an unreachable store) is undone: tables it created are purged, a namespace it
created is dropped, tables it evolved get their previous schema, partition spec and properties back.
Ports a major version removes are dropped last, once the new descriptor is stored.

Every port table keeps its last 10 metadata files and deletes older ones at commit (`METADATA_RETENTION`: time
travel reads snapshots, not old metadata files), and merges small manifests in commits (`MANIFEST_MERGING`);
tables deployed before get both on their next deploy.

Columns classified `pii` or `confidential` get `write.metadata.metrics.column.<name>=none` on their table (set
on every deploy, so existing tables gain it; removed when a column is no longer classified): their minimum and
maximum never land in manifests, nor in the Parquet footers meshlake writes (`meshlake.write.datafiles`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from pyiceberg.catalog import Catalog
from pyiceberg.exceptions import (
    NoSuchNamespaceError,
    NoSuchTableError,
    TableAlreadyExistsError,
)
from pyiceberg.exceptions import ValidationError as IcebergValidationError
from pyiceberg.schema import Schema
from pyiceberg.table import Table, Transaction

from meshlake.catalog.catalogs import create_namespace_once
from meshlake.contract.address import SYSTEM_DOMAIN, location_under
from meshlake.contract.autocompact import auto_compact_properties
from meshlake.contract.deploy_undo import DeployUndo
from meshlake.contract.descriptor import Descriptor, OutputPort, line_in_file
from meshlake.contract.inputs import check_inputs
from meshlake.contract.registry import descriptor_properties, load_port_table, read_descriptor, stale_keys
from meshlake.contract.schema import SchemaPlan, plan_schema_change, port_partition_spec, port_schema
from meshlake.contract.writemodes import ICEBERG_MODE_PROPERTIES, iceberg_mode_properties
from meshlake.contract.yamlsource import format_path
from meshlake.errors import BreakingChangeError, BrokenProductError, DescriptorError, VersionBumpError

if TYPE_CHECKING:
    from pyiceberg.partitioning import PartitionSpec

CREATE_ONLY = frozenset({"format-version"})
UNMEASURED = frozenset({"pii", "confidential"})
"""Column classifications written without metrics: their minimum and maximum never land in manifests."""
METRICS_COLUMN = "write.metadata.metrics.column."
METADATA_RETENTION = {
    "write.metadata.delete-after-commit.enabled": "true",
    "write.metadata.previous-versions-max": "10",
}
"""Old metadata files kept: the last 10 (for catalog recovery). Time travel reads snapshots, which every metadata
file holds whole; a metadata file is deleted once it falls out of the metadata log."""
MANIFEST_MERGING = {
    "commit.manifest-merge.enabled": "true",
    "commit.manifest.min-count-to-merge": "16",
    "commit.manifest.target-size-bytes": str(8 * 1024 * 1024),
}
"""Manifests merged in commits by every engine that honours these (pyiceberg's own default is not to merge).
meshlake merges in tiers of 16 (`meshlake.write.manifest_merge`): at most 15 manifests per tier, so a port
appended to 10,000 times keeps at most 60 where Iceberg's 100 would let it reach about 200, and a merge
rewrites 16 manifests, not 100."""
TABLE_DEFAULTS = {
    "format-version": "2",
    "write.parquet.compression-codec": "zstd",
    **METADATA_RETENTION,
    **MANIFEST_MERGING,
}


@dataclass
class DeployReport:
    """What a deploy did, port by port."""

    product: str
    version: str
    created: list[str] = field(default_factory=list)
    evolved: dict[str, list[str]] = field(default_factory=dict)
    unchanged: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    namespace_changed: bool = False
    warnings: list[str] = field(default_factory=list)
    """Things the deploy accepted but the owner should know (an input whose product is not deployed yet)."""

    @property
    def changed(self) -> bool:
        return bool(self.created or self.evolved or self.dropped or self.namespace_changed)


def deploy_descriptor(
    catalog: Catalog,
    descriptor: Descriptor,
    *,
    warehouse: str | None,
    file: str,
    properties: Mapping[str, str] | None = None,
) -> DeployReport:
    """Create or evolve everything `descriptor` declares; refuse breaking changes without a major bump.

    New tables go to `<warehouse>/<domain>/<product>/<port>`; with `warehouse=None` (REST catalogs, which
    choose and police their own locations) the catalog places them. `properties` are stamped on the namespace
    with the descriptor (the governance version the deploy passed).
    """
    name = descriptor.product_name
    if name.domain == SYSTEM_DOMAIN:
        raise DescriptorError(
            f"domain '{SYSTEM_DOMAIN}' is reserved for meshlake's own tables", file=file, field="domain"
        )
    namespace = name.namespace
    try:
        current_props = catalog.load_namespace_properties(namespace)
    except NoSuchNamespaceError:
        current_props = None
    report = DeployReport(str(name), descriptor.version)
    try:
        deployed = read_descriptor(current_props, name=str(name)) if current_props else None
    except BrokenProductError as exc:  # deploying is how a broken descriptor is repaired
        deployed = None
        report.warnings.append(f"the deployed descriptor could not be read ({exc.reason}); this deploy replaces it")
    report.warnings += check_inputs(catalog, descriptor, file=file)
    plans = _plan_ports(catalog, descriptor, warehouse, file)
    _refuse_breaking(descriptor, deployed, plans, str(name), report)
    if deployed is not None:
        _refuse_undershoot(deployed, descriptor, plans)
    for index, port in enumerate(descriptor.outputs):
        if plans[port.name].table is not None:
            _prepare_evolution(plans[port.name], descriptor, port, file=file, where=("outputs", index))
    wanted = descriptor_properties(descriptor) | dict(properties or {})
    undo = DeployUndo(catalog)
    try:
        if current_props is None:
            if create_namespace_once(catalog, namespace, wanted):
                undo.created_namespace = namespace
            else:  # another deploy won the race; update below
                current_props = catalog.load_namespace_properties(namespace)
            report.namespace_changed = True
        for port in descriptor.outputs:
            _apply_port(catalog, descriptor, port, plans[port.name], warehouse, report, undo, file=file)
        if current_props is not None:
            changed = {k: v for k, v in wanted.items() if current_props.get(k) != v}
            removals = stale_keys(current_props, wanted)
            if changed or removals:
                catalog.update_namespace_properties(namespace, removals=removals, updates=changed)
                report.namespace_changed = True
    except BaseException as exc:
        undo.run(exc)
        raise
    if deployed is not None:
        for gone in sorted({p.name for p in deployed.outputs} - {p.name for p in descriptor.outputs}):
            catalog.drop_table((*namespace, gone))
            report.dropped.append(gone)
    return report


@dataclass
class _PortPlan:
    table: Table | None
    schema: Schema
    spec: PartitionSpec
    change: SchemaPlan | None
    evolution: Transaction | None = None
    notes: list[str] = field(default_factory=list)


def _plan_ports(catalog: Catalog, descriptor: Descriptor, warehouse: str | None, file: str) -> dict[str, _PortPlan]:
    """Each port's target schema and spec, checked against pyiceberg's own rules before anything is written."""
    plans = {}
    name = descriptor.product_name
    for index, port in enumerate(descriptor.outputs):
        where = ("outputs", index)
        schema = port_schema(port)
        spec = port_partition_spec(port, schema)
        try:
            table = load_port_table(catalog, name.port(port.name))
        except NoSuchTableError:
            location = _location(descriptor, port, warehouse) or "file:///meshlake-deploy-check"
            _check_new_table(schema, spec, location, _table_properties(descriptor, port), file=file, where=where)
            plans[port.name] = _PortPlan(None, schema, spec, None)
            continue
        plans[port.name] = _PortPlan(table, schema, spec, plan_schema_change(table.schema(), schema))
    return plans


def _check_new_table(
    schema: Schema,
    spec: PartitionSpec,
    location: str,
    properties: dict[str, str],
    *,
    file: str,
    where: tuple[str | int, ...],
) -> None:
    """Build the table's metadata as `create_table` would and read it back; refuse what pyiceberg refuses."""
    from pyiceberg.table.metadata import TableMetadataUtil, new_table_metadata
    from pyiceberg.table.sorting import UNSORTED_SORT_ORDER

    try:
        metadata = new_table_metadata(schema, spec, UNSORTED_SORT_ORDER, location, dict(properties))
        TableMetadataUtil.parse_raw(metadata.model_dump_json())
    except (ValueError, RecursionError, IcebergValidationError) as exc:
        raise _refused(f"pyiceberg refuses this port: {_first_line(exc)}", file, where) from exc


def _refused(problem: str, file: str, where: tuple[str | int, ...]) -> DescriptorError:
    return DescriptorError(problem, file=file, line=line_in_file(file, where), field=format_path(where))


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _refuse_breaking(
    descriptor: Descriptor,
    deployed: Descriptor | None,
    plans: dict[str, _PortPlan],
    product: str,
    report: DeployReport,
) -> None:
    changes: list[str] = []
    for port_name, plan in plans.items():
        if plan.change is not None:
            changes += [f"{port_name}: {change}" for change in plan.change.breaking]
    if deployed is not None:
        for gone in sorted({p.name for p in deployed.outputs} - {p.name for p in descriptor.outputs}):
            changes.append(f"output port '{gone}' is removed")
        if _version_key(descriptor.version) < _version_key(deployed.version):
            raise BreakingChangeError(
                product, [f"version {descriptor.version} is lower than the deployed {deployed.version}"]
            )
    major_raised = deployed is not None and descriptor.major_version > deployed.major_version
    if changes and not major_raised:
        raise BreakingChangeError(product, changes)


def _refuse_undershoot(deployed: Descriptor, descriptor: Descriptor, plans: dict[str, _PortPlan]) -> None:
    """Refuse a declared version that makes a smaller bump than the changes need (`meshlake plan` explains)."""
    from meshlake.contract.changes import plan_changes

    schemas = {name: plan.table.schema() for name, plan in plans.items() if plan.table is not None}
    plan = plan_changes(deployed, descriptor, schemas)
    if not plan.ok:
        needed = [str(change) for change in plan.changes if change.level == plan.required]
        raise VersionBumpError(
            plan.product,
            needed,
            required=str(plan.required),
            declared=descriptor.version,
            suggested=plan.suggested_version,
        )


def breaking_changes(descriptor: Descriptor, deployed: Descriptor | None) -> list[str]:
    """What deploying `descriptor` over `deployed` would break, judged from the two descriptors alone.

    The deploy itself judges from the tables' schemas (the same rules); this is what governance rule GOV013
    reports before anything is loaded. Empty when nothing breaks or the major version was raised; a version
    lower than the deployed one is listed too, and so is a version that makes a smaller bump than the changes
    need (`meshlake.contract.changes`: the deploy refuses it with `VersionBumpError`).
    """
    if deployed is None or deployed == descriptor:
        return []
    if _version_key(descriptor.version) < _version_key(deployed.version):
        return [f"version {descriptor.version} is lower than the deployed {deployed.version}"]
    if descriptor.major_version > deployed.major_version:
        return []
    before = {port.name: port for port in deployed.outputs}
    changes: list[str] = []
    for port in descriptor.outputs:
        if port.name in before:
            plan = plan_schema_change(port_schema(before[port.name]), port_schema(port))
            changes += [f"{port.name}: {change}" for change in plan.breaking]
    for gone in sorted(set(before) - {port.name for port in descriptor.outputs}):
        changes.append(f"output port '{gone}' is removed")
    if not changes:
        from meshlake.contract.changes import plan_changes

        bump = plan_changes(deployed, descriptor)
        if not bump.ok:
            needed = "; ".join(str(c) for c in bump.changes if c.level == bump.required)
            changes.append(
                f"the changes need a {bump.required} version bump (declare {bump.suggested_version}): {needed}"
            )
    return changes


def _version_key(version: str) -> tuple[int, int, int]:
    from meshlake.contract.changes import version_key

    return version_key(version)


def _apply_port(
    catalog: Catalog,
    descriptor: Descriptor,
    port: OutputPort,
    plan: _PortPlan,
    warehouse: str | None,
    report: DeployReport,
    undo: DeployUndo | None = None,
    *,
    file: str = "<descriptor>",
) -> None:
    identifier = (descriptor.domain, descriptor.name, port.name)
    properties = _table_properties(descriptor, port)
    if plan.table is None:
        ours = True
        try:
            created = catalog.create_table(
                identifier,
                schema=plan.schema,
                partition_spec=plan.spec,
                location=_location(descriptor, port, warehouse),
                properties=properties,
            )
        except TableAlreadyExistsError:  # a concurrent deploy created it between our check and now
            created, ours = catalog.load_table(identifier), False
        # A REST catalog may also return an existing table instead of raising (SeaweedFS does, ignoring the
        # schema and properties given): whichever table we got, make it match the descriptor.
        found = plan_schema_change(created.schema(), plan.schema)
        if found.breaking:
            raise BreakingChangeError(
                f"{descriptor.domain}.{descriptor.name}",
                [f"{port.name}: {item} (the table was created concurrently)" for item in found.breaking],
            )
        if _matches(created, port, found, properties):
            if ours and undo is not None and created.current_snapshot() is None:
                undo.created_tables.append(identifier)  # a table with data is not the one this call created
            report.created.append(port.name)
            return
        plan = _PortPlan(created, plan.schema, plan.spec, found)
        index = [p.name for p in descriptor.outputs].index(port.name)
        _prepare_evolution(plan, descriptor, port, file=file, where=("outputs", index))
    if plan.evolution is None:
        report.unchanged.append(port.name)
        return
    assert plan.table is not None
    if undo is not None:
        undo.evolved.append((identifier, plan.table.metadata))
    plan.evolution.commit_transaction()
    report.evolved[port.name] = plan.notes


def _location(descriptor: Descriptor, port: OutputPort, warehouse: str | None) -> str | None:
    if warehouse and "://" in warehouse:
        return location_under(warehouse, descriptor.domain, descriptor.name, port.name)
    return None


def _prepare_evolution(
    plan: _PortPlan, descriptor: Descriptor, port: OutputPort, *, file: str, where: tuple[str | int, ...]
) -> None:
    """Apply the port's changes to an uncommitted transaction, so pyiceberg refuses them before any commit."""
    table, change = plan.table, plan.change
    assert table is not None
    assert change is not None
    properties = _table_properties(descriptor, port)
    notes = _describe(change)
    wanted_spec = [(clause.column, str(clause.to_transform())) for clause in port.partition_clauses]
    spec_changed = _spec_signature(table.spec(), table.schema()) != wanted_spec
    props_changed = {k: v for k, v in properties.items() if k not in CREATE_ONLY and table.properties.get(k) != v}
    props_removed = _stale_metrics(table.properties, properties)
    if change.empty and not spec_changed and not props_changed and not props_removed:
        return
    from pyiceberg.table.metadata import TableMetadataUtil

    tx = table.transaction()
    try:
        if not change.empty:
            _evolve_schema(tx, change)
        if spec_changed:
            _evolve_spec(tx, port)
            notes.append("partitioning changes to " + ", ".join(port.partition_by or ["none"]))
        if props_changed:
            tx.set_properties(props_changed)
            modes = sorted(k for k in props_changed if k in ICEBERG_MODE_PROPERTIES)
            if modes:
                notes.append(f"{', '.join(modes)} set to {props_changed[modes[0]]} (write_mode: {port.write_mode})")
        if props_removed:
            tx.remove_properties(*props_removed)
        TableMetadataUtil.parse_raw(tx.table_metadata.model_dump_json())
    except (ValueError, RecursionError, IcebergValidationError) as exc:
        raise _refused(f"pyiceberg refuses this change: {_first_line(exc)}", file, where) from exc
    plan.evolution = tx
    plan.notes = notes or ["properties updated"]


def _matches(table: Table, port: OutputPort, change: SchemaPlan, properties: dict[str, str]) -> bool:
    wanted_spec = [(clause.column, str(clause.to_transform())) for clause in port.partition_clauses]
    return (
        change.empty
        and _spec_signature(table.spec(), table.schema()) == wanted_spec
        and all(table.properties.get(k) == v for k, v in properties.items() if k not in CREATE_ONLY)
        and not _stale_metrics(table.properties, properties)
    )


def port_drift(descriptor: Descriptor, port: OutputPort, table: Table) -> list[str]:
    """What `meshlake deploy` would change in `table` to match `port` now (empty when it matches): the schema,
    partitioning and properties another writer or a hand edit moved away from the descriptor."""
    change = plan_schema_change(table.schema(), port_schema(port))
    notes = [*(f"breaking: {item}" for item in change.breaking), *_describe(change)]
    wanted_spec = [(clause.column, str(clause.to_transform())) for clause in port.partition_clauses]
    if _spec_signature(table.spec(), table.schema()) != wanted_spec:
        notes.append("partitioning differs from " + (", ".join(port.partition_by) or "none"))
    wanted = _table_properties(descriptor, port)
    for key, value in wanted.items():
        if key not in CREATE_ONLY and table.properties.get(key) != value:
            notes.append(f"property {key} is {table.properties.get(key)!r}, the descriptor sets {value!r}")
    stale = _stale_metrics(table.properties, wanted)
    notes += [f"property {key} is left from a former classification" for key in stale]
    return notes


def _table_properties(descriptor: Descriptor, port: OutputPort) -> dict[str, str]:
    props = dict(TABLE_DEFAULTS)
    props["meshlake.product"] = f"{descriptor.domain}.{descriptor.name}"
    props["meshlake.owner"] = descriptor.owner.team
    if port.description:
        props["comment"] = port.description
    for column in port.columns:
        if column.classification in UNMEASURED:
            props[METRICS_COLUMN + column.name] = "none"
    props |= iceberg_mode_properties(port.write_mode)
    props |= auto_compact_properties(port.auto_compact.setting)
    return props


def _stale_metrics(current: Mapping[str, str], wanted: Mapping[str, str]) -> list[str]:
    """The `none` metrics modes deploy set for columns that are no longer pii or confidential (or gone)."""
    return sorted(
        key
        for key, value in current.items()
        if key.startswith(METRICS_COLUMN) and value == "none" and key not in wanted
    )


def _evolve_schema(tx: object, change: SchemaPlan) -> None:
    allow = bool(change.breaking)
    with tx.update_schema(allow_incompatible_changes=allow) as update:  # type: ignore[attr-defined]
        for name in change.drop:
            update.delete_column(name)
        for name, _ in change.retype:
            update.delete_column(name)
        for new_field in change.add:
            update.add_column(new_field.name, new_field.field_type, doc=new_field.doc, required=new_field.required)
        for name, new_type in change.retype:
            update.add_column(name, new_type)
        for name, new_type in change.widen:
            update.update_column(name, field_type=new_type)
        for name in change.relax:
            update.update_column(name, required=False)
        for name in change.require:
            update.update_column(name, required=True)
        for name, doc in change.docs:
            update.update_column(name, doc=doc)
        if change.identifier is not None:
            update.set_identifier_fields(*change.identifier)


def _spec_signature(spec: PartitionSpec, schema: Schema) -> list[tuple[str | None, str]]:
    return [(schema.find_column_name(f.source_id), str(f.transform)) for f in spec.fields]


def _evolve_spec(tx: object, port: OutputPort) -> None:
    with tx.update_spec() as update:  # type: ignore[attr-defined]
        existing = {f.name for f in tx.table_metadata.spec().fields}  # type: ignore[attr-defined]
        wanted = {clause.field_name: clause for clause in port.partition_clauses}
        for name in existing - set(wanted):
            update.remove_field(name)
        for name, clause in wanted.items():
            if name not in existing:
                update.add_field(clause.column, clause.to_transform(), name)


def _describe(change: SchemaPlan) -> list[str]:
    from meshlake.contract.types import format_type

    notes = [f"add column {f.name} {format_type(f.field_type)}" for f in change.add]
    notes += [f"widen {name} to {format_type(kind)}" for name, kind in change.widen]
    notes += [f"drop column {name}" for name in change.drop]
    notes += [f"retype {name} to {format_type(kind)}" for name, kind in change.retype]
    notes += [f"{name} becomes optional" for name in change.relax]
    notes += [f"{name} becomes required" for name in change.require]
    notes += [f"update doc of {name}" for name, _ in change.docs]
    if change.identifier is not None:
        notes.append(f"primary key {change.identifier}")
    return notes
