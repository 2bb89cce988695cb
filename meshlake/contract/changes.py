"""What a deploy changes, each change classified as a semantic-version bump: major, minor or patch.

- **major**: a column dropped (a rename is a drop and an add: descriptors have no aliases), a type narrowed or
  changed incompatibly, a new required column, an optional column made required, the primary key changed, an
  output port removed, readers or row filters narrowed, a column masked, an SLO weakened, an expectation removed.
- **minor**: an optional column added, a type promoted (int→long, float→double, wider decimal), a column made
  optional, a primary key declared where there was none, a new port, an SLO tightened, partitioning changed,
  readers widened, a row filter or mask removed, a classification changed.
- **patch**: descriptions and docs, tags, added expectations, and every other descriptor field (owner, quality
  options, retention, inputs, pipeline, waivers).

Columns are matched with the deployed table's columns by name, as the deploy evolves them, and each change names
the Iceberg field id it concerns. The product's required bump is the largest of its changes; `plan_changes`
compares it with the bump the declared version makes over the deployed one.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pyiceberg.schema import Schema

from meshlake.contract.descriptor import Descriptor, OutputPort, Slo
from meshlake.contract.schema import plan_schema_change, port_schema
from meshlake.contract.types import format_type

Level = Literal["major", "minor", "patch"]
RANK: dict[str | None, int] = {None: 0, "patch": 1, "minor": 2, "major": 3}


@dataclass(frozen=True)
class Change:
    """One change of a deploy: its bump `level`, the `port` (None for the product) and Iceberg `field_id`."""

    level: Level
    what: str
    port: str | None = None
    field_id: int | None = None

    def __str__(self) -> str:
        where = f"{self.port}: " if self.port else ""
        fid = f" (field id {self.field_id})" if self.field_id is not None else ""
        return f"{self.level}: {where}{self.what}{fid}"


@dataclass(frozen=True)
class Plan:
    """Every change deploying a descriptor makes over the deployed one, and the version bump they need."""

    product: str
    deployed_version: str
    declared_version: str
    changes: tuple[Change, ...] = field(default_factory=tuple)

    @property
    def required(self) -> Level | None:
        """The largest bump among the changes (None when nothing changes)."""
        levels = [change.level for change in self.changes]
        return max(levels, key=RANK.__getitem__) if levels else None

    @property
    def declared(self) -> Level | None:
        """The bump the declared version makes over the deployed one (None when they are equal or lower)."""
        return version_bump(self.deployed_version, self.declared_version)

    @property
    def suggested_version(self) -> str:
        """The smallest version that makes the required bump over the deployed one (the deployed one if none)."""
        if RANK[self.declared] >= RANK[self.required]:
            return self.declared_version
        return next_version(self.deployed_version, self.required)

    @property
    def ok(self) -> bool:
        """Whether the declared version makes at least the required bump."""
        return RANK[self.declared] >= RANK[self.required]

    def by_port(self) -> dict[str, list[Change]]:
        """The changes grouped by port (`""` holds product-level changes)."""
        grouped: dict[str, list[Change]] = {}
        for change in self.changes:
            grouped.setdefault(change.port or "", []).append(change)
        return grouped

    def to_dict(self) -> dict[str, Any]:
        return {
            "product": self.product,
            "deployed_version": self.deployed_version,
            "declared_version": self.declared_version,
            "required_bump": self.required,
            "declared_bump": self.declared,
            "suggested_version": self.suggested_version,
            "ok": self.ok,
            "changes": [
                {"level": c.level, "port": c.port, "field_id": c.field_id, "change": c.what} for c in self.changes
            ],
        }


def version_key(version: str) -> tuple[int, int, int]:
    """(major, minor, patch) of a semantic version; pre-release and build parts are ignored."""
    core = version.split("-", maxsplit=1)[0].split("+", maxsplit=1)[0]
    major, minor, patch = core.split(".")
    return int(major), int(minor), int(patch)


def version_bump(before: str, after: str) -> Level | None:
    """The bump from `before` to `after`: major, minor, patch, or None when `after` is not higher."""
    old, new = version_key(before), version_key(after)
    if new <= old:
        return None
    if new[0] > old[0]:
        return "major"
    return "minor" if new[1] > old[1] else "patch"


def next_version(version: str, level: Level | None) -> str:
    """`version` raised by `level` (1.4.2 + minor = 1.5.0)."""
    major, minor, patch = version_key(version)
    if level == "major":
        return f"{major + 1}.0.0"
    if level == "minor":
        return f"{major}.{minor + 1}.0"
    if level == "patch":
        return f"{major}.{minor}.{patch + 1}"
    return version


def plan_changes(deployed: Descriptor, descriptor: Descriptor, schemas: Mapping[str, Schema] | None = None) -> Plan:
    """Classify every change from `deployed` to `descriptor`.

    `schemas` are the port tables' current schemas by port name (their field ids are the ones named); a port
    without one is compared with the schema the deployed descriptor declares.
    """
    schemas = schemas or {}
    changes: list[Change] = []
    before = {port.name: port for port in deployed.outputs}
    for port in descriptor.outputs:
        old = before.get(port.name)
        if old is None:
            changes.append(Change("minor", f"new output port '{port.name}'", port.name))
            continue
        current = schemas.get(port.name) or port_schema(old)
        changes += schema_changes(current, port_schema(port), port.name)
        changes += _port_changes(old, port)
    for gone in sorted(set(before) - {port.name for port in descriptor.outputs}):
        changes.append(Change("major", f"output port '{gone}' is removed", gone))
    changes += _product_changes(deployed, descriptor)
    return Plan(str(descriptor.product_name), deployed.version, descriptor.version, tuple(changes))


def schema_changes(current: Schema, target: Schema, port: str | None = None) -> list[Change]:
    """The column changes from a table's schema to a port's, by the deploy's own rules (`plan_schema_change`)."""
    plan = plan_schema_change(current, target)

    def fid(name: str) -> int | None:
        try:
            return current.find_field(name).field_id
        except ValueError:
            return None

    out = [Change("major", f"column '{name}' is dropped (or renamed)", port, fid(name)) for name in plan.drop]
    for new in plan.add:
        text = format_type(new.field_type)
        if new.required:
            out.append(Change("major", f"new required column '{new.name}' {text}", port))
        else:
            out.append(Change("minor", f"new optional column '{new.name}' {text}", port))
    for name, kind in plan.retype:
        was = format_type(current.find_field(name).field_type)
        out.append(Change("major", f"column '{name}' changes type from {was} to {format_type(kind)}", port, fid(name)))
    for name, kind in plan.widen:
        was = format_type(current.find_field(name).field_type)
        out.append(Change("minor", f"column '{name}' is promoted from {was} to {format_type(kind)}", port, fid(name)))
    out += [Change("major", f"column '{name}' becomes required", port, fid(name)) for name in plan.require]
    out += [Change("minor", f"column '{name}' becomes optional", port, fid(name)) for name in plan.relax]
    out += [Change("patch", f"description of column '{name}' changes", port, fid(name)) for name, _ in plan.docs]
    if plan.identifier is not None:
        had = sorted(current.find_column_name(i) or "" for i in current.identifier_field_ids)
        level: Level = "major" if had else "minor"
        out.append(Change(level, f"primary key changes from {had} to {plan.identifier}", port))
    return out


def _port_changes(old: OutputPort, new: OutputPort) -> list[Change]:
    name = new.name
    out: list[Change] = []
    if old.partition_by != new.partition_by:
        out.append(Change("minor", f"partitioning changes from {old.partition_by} to {new.partition_by}", name))
    out += _slo_changes(old.slo, new.slo, name)
    out += _access_changes(old, new)
    old_exp = [_canonical(e) for e in old.expectations]
    new_exp = [_canonical(e) for e in new.expectations]
    for gone in [e for e in old_exp if e not in new_exp]:
        out.append(Change("major", f"expectation {gone} is removed", name))
    for added in [e for e in new_exp if e not in old_exp]:
        out.append(Change("patch", f"expectation {added} is added", name))
    old_cols = {c.name: c for c in old.columns}
    for column in new.columns:
        was = old_cols.get(column.name)
        if was is None:
            continue
        if was.classification != column.classification:
            out.append(
                Change(
                    "minor",
                    f"column '{column.name}' classification {was.classification} → {column.classification}",
                    name,
                )
            )
        if was.mask != column.mask:
            level: Level = "minor" if column.mask is None else "major"
            out.append(Change(level, f"mask of column '{column.name}' changes to {_mask_text(column)}", name))
    if old.description != new.description:
        out.append(Change("patch", "port description changes", name))
    if old.tags != new.tags:
        out.append(Change("patch", f"tags change from {old.tags} to {new.tags}", name))
    for what in ("quality", "retention"):
        if getattr(old, what) != getattr(new, what):
            out.append(Change("patch", f"{what} options change", name))
    if old.write_mode != new.write_mode:
        out.append(
            Change(
                "patch",
                f"write_mode changes from {old.write_mode} to {new.write_mode} "
                "(sets write.update.mode, write.delete.mode and write.merge.mode)",
                name,
            )
        )
    if old.auto_compact != new.auto_compact:
        out.append(
            Change(
                "patch",
                f"auto_compact changes to enabled={new.auto_compact.enabled}, min_files={new.auto_compact.min_files} "
                "(sets meshlake.auto-compact.enabled and meshlake.auto-compact.min-files)",
                name,
            )
        )
    return out


def _mask_text(column: Any) -> str:
    return "none" if column.mask is None else str(column.mask.action)


def _canonical(item: Mapping[str, Any]) -> str:
    import json

    return json.dumps(item, sort_keys=True, default=str)


_TIGHTER_WHEN_LOWER = ("freshness", "max_row_change")
_TIGHTER_WHEN_HIGHER = ("min_rows", "quality_pass_rate")


def _slo_changes(old: Slo | None, new: Slo | None, port: str) -> list[Change]:
    from meshlake.contract.durations import parse_duration

    out: list[Change] = []
    for key in (*_TIGHTER_WHEN_LOWER, *_TIGHTER_WHEN_HIGHER):
        a = getattr(old, key) if old else None
        b = getattr(new, key) if new else None
        if a == b:
            continue
        if a is None:
            out.append(Change("minor", f"SLO {key} {b} is added (tightened)", port))
            continue
        if b is None:
            out.append(Change("major", f"SLO {key} {a} is removed (weakened)", port))
            continue
        va, vb = (parse_duration(a), parse_duration(b)) if key == "freshness" else (a, b)
        tighter = vb < va if key in _TIGHTER_WHEN_LOWER else vb > va
        out.append(
            Change("minor", f"SLO {key} tightened from {a} to {b}", port)
            if tighter
            else Change("major", f"SLO {key} weakened from {a} to {b}", port)
        )
    if old and new and old.window != new.window:
        out.append(Change("patch", f"SLO window changes from {old.window} to {new.window}", port))
    return out


def _access_changes(old: OutputPort, new: OutputPort) -> list[Change]:
    name = new.name
    out: list[Change] = []
    a, b = old.access, new.access
    readers_a = None if a is None or a.readers is None else {str(p) for p in a.readers}
    readers_b = None if b is None or b.readers is None else {str(p) for p in b.readers}
    if readers_a != readers_b:
        if readers_b is None:  # back to the mesh policy's default readers
            out.append(Change("major", "readers change to the mesh policy's defaults", name))
        elif readers_a is None or readers_a - readers_b:
            gone = sorted(readers_a - readers_b) if readers_a is not None else ["the mesh policy's defaults"]
            out.append(Change("major", f"readers narrowed: {', '.join(gone)} may no longer read", name))
        else:
            out.append(Change("minor", f"readers widened: {', '.join(sorted(readers_b - readers_a))} may read", name))
    unmasked_a = {str(p) for p in (a.unmasked if a else [])}
    unmasked_b = {str(p) for p in (b.unmasked if b else [])}
    if unmasked_a - unmasked_b:
        out.append(Change("major", f"unmasked reads narrowed: {', '.join(sorted(unmasked_a - unmasked_b))}", name))
    if unmasked_b - unmasked_a:
        out.append(Change("minor", f"unmasked reads widened: {', '.join(sorted(unmasked_b - unmasked_a))}", name))
    filters_a = {(tuple(sorted(map(str, r.principals))), r.where) for r in (a.row_filters if a else [])}
    filters_b = {(tuple(sorted(map(str, r.principals))), r.where) for r in (b.row_filters if b else [])}
    for principals, where in sorted(filters_b - filters_a):
        out.append(Change("major", f"row filter narrowed: {', '.join(principals)} see rows where {where}", name))
    for principals, where in sorted(filters_a - filters_b):
        out.append(Change("minor", f"row filter removed: {', '.join(principals)} where {where}", name))
    return out


_PRODUCT_FIELDS = ("description", "owner", "inputs", "pipeline", "waivers")


def _product_changes(old: Descriptor, new: Descriptor) -> list[Change]:
    return [
        Change("patch", f"product {what} changes")
        for what in _PRODUCT_FIELDS
        if getattr(old, what) != getattr(new, what)
    ]
