"""A port's contract as Iceberg sees it: schema, identifier fields, partition spec, and how it may evolve."""

from __future__ import annotations

from dataclasses import dataclass, field

from pyiceberg.partitioning import PartitionSpec
from pyiceberg.schema import Schema, assign_fresh_schema_ids
from pyiceberg.types import IcebergType, ListType, MapType, NestedField, StructType

from meshlake.contract.descriptor import OutputPort
from meshlake.contract.partitioning import build_partition_spec
from meshlake.contract.types import _IdCounter, format_type, is_widening, parse_type


def port_schema(port: OutputPort) -> Schema:
    """The Iceberg schema of an output port: required flags, docs and identifier fields."""
    ids = _IdCounter(1)
    top = [ids() for _ in port.columns]
    fields = [
        NestedField(
            field_id=field_id,
            name=column.name,
            field_type=parse_type(column.type, ids),
            required=column.required,
            doc=column.description,
        )
        for field_id, column in zip(top, port.columns, strict=True)
    ]
    draft = Schema(*fields)
    fresh = assign_fresh_schema_ids(draft)
    identifier_ids = [fresh.find_field(name).field_id for name in port.primary_key]
    return Schema(*fresh.fields, schema_id=0, identifier_field_ids=identifier_ids)


def port_partition_spec(port: OutputPort, schema: Schema) -> PartitionSpec:
    return build_partition_spec(port.partition_clauses, schema)


@dataclass
class SchemaPlan:
    """What deploying a port's columns would change in its table."""

    add: list[NestedField] = field(default_factory=list)
    widen: list[tuple[str, IcebergType]] = field(default_factory=list)
    docs: list[tuple[str, str | None]] = field(default_factory=list)
    relax: list[str] = field(default_factory=list)
    drop: list[str] = field(default_factory=list)
    retype: list[tuple[str, IcebergType]] = field(default_factory=list)
    require: list[str] = field(default_factory=list)
    identifier: list[str] | None = None
    breaking: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return (
            not (self.add or self.widen or self.docs or self.relax or self.drop or self.retype or self.require)
            and self.identifier is None
        )


def plan_schema_change(current: Schema, target: Schema) -> SchemaPlan:
    """Compare a table's schema with the descriptor's; sort changes into compatible and breaking."""
    plan = SchemaPlan()
    current_by_name = {f.name: f for f in current.fields}
    target_names = {f.name for f in target.fields}
    for old in current.fields:
        if old.name not in target_names:
            plan.drop.append(old.name)
            plan.breaking.append(f"column '{old.name}' ({format_type(old.field_type)}) is dropped")
    for new in target.fields:
        old_field = current_by_name.get(new.name)
        if old_field is None:
            plan.add.append(new)
            if new.required:
                plan.breaking.append(f"new column '{new.name}' is required (existing rows have no value)")
            continue
        _compare_field(old_field, new, plan)
    old_ids = sorted(current.find_column_name(i) or "" for i in current.identifier_field_ids)
    new_ids = sorted(target.find_column_name(i) or "" for i in target.identifier_field_ids)
    if old_ids != new_ids:
        plan.identifier = new_ids
        if old_ids:
            plan.breaking.append(f"primary key changes from {old_ids} to {new_ids}")
    return plan


def _compare_field(old: NestedField, new: NestedField, plan: SchemaPlan) -> None:
    name = new.name
    if old.field_type != new.field_type and not _same_shape(old.field_type, new.field_type):
        if is_widening(old.field_type, new.field_type):
            plan.widen.append((name, new.field_type))
        else:
            plan.retype.append((name, new.field_type))
            plan.breaking.append(
                f"column '{name}' changes type from {format_type(old.field_type)} to {format_type(new.field_type)}"
            )
    if old.required and not new.required:
        plan.relax.append(name)
    elif new.required and not old.required:
        plan.require.append(name)
        plan.breaking.append(f"column '{name}' becomes required")
    if (old.doc or None) != (new.doc or None):
        plan.docs.append((name, new.doc))


def _same_shape(old: IcebergType, new: IcebergType) -> bool:
    """Nested types compare by structure, not by the placeholder ids of a freshly parsed type."""
    if isinstance(old, StructType) and isinstance(new, StructType):
        if [f.name for f in old.fields] != [f.name for f in new.fields]:
            return False
        return all(_same_shape(a.field_type, b.field_type) for a, b in zip(old.fields, new.fields, strict=True))
    if isinstance(old, ListType) and isinstance(new, ListType):
        return _same_shape(old.element_type, new.element_type)
    if isinstance(old, MapType) and isinstance(new, MapType):
        return _same_shape(old.key_type, new.key_type) and _same_shape(old.value_type, new.value_type)
    return old == new
