"""Undo a deploy that failed midway, so the catalog is left as the deploy found it.

A deploy records what it did as it goes: the namespace it created, the tables it created, the tables it
evolved (with their metadata from before). `run` reverses them newest first: an evolved table gets its
previous schema, partition spec and properties back (Iceberg keeps the new ones in its history), a created
table is purged with its files, a created namespace is dropped. What cannot be undone is said in a note on
the deploy's own error, which is raised as it was.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial

from pyiceberg.catalog import Catalog
from pyiceberg.table.metadata import TableMetadata
from pyiceberg.table.update import (
    AssertCurrentSchemaId,
    AssertDefaultSpecId,
    AssertTableUUID,
    RemovePropertiesUpdate,
    SetCurrentSchemaUpdate,
    SetDefaultSpecUpdate,
    SetPropertiesUpdate,
    TableRequirement,
    TableUpdate,
)

Identifier = tuple[str, ...]


@dataclass
class DeployUndo:
    """What a running deploy changed, to reverse it if the deploy fails."""

    catalog: Catalog
    created_namespace: Identifier | None = None
    created_tables: list[Identifier] = field(default_factory=list)
    evolved: list[tuple[Identifier, TableMetadata]] = field(default_factory=list)

    def run(self, error: BaseException) -> None:
        """Reverse every recorded change; note on `error` any that could not be reversed."""
        steps: list[tuple[str, Callable[[], object]]] = []
        for identifier, before in reversed(self.evolved):
            steps.append((f"restore table {'.'.join(identifier)}", partial(self._restore, identifier, before)))
        for identifier in reversed(self.created_tables):
            steps.append((f"drop table {'.'.join(identifier)}", partial(self.catalog.purge_table, identifier)))
        if self.created_namespace is not None:
            namespace = self.created_namespace
            steps.append((f"drop namespace {'.'.join(namespace)}", partial(self.catalog.drop_namespace, namespace)))
        for what, step in steps:
            try:
                step()
            except Exception as exc:  # keep undoing the rest; the deploy's own error is what the caller sees
                error.add_note(f"could not undo the failed deploy: {what}: {exc}")

    def _restore(self, identifier: Identifier, before: TableMetadata) -> None:
        table = self.catalog.load_table(identifier)
        now = table.metadata
        updates: list[TableUpdate] = []
        requirements: list[TableRequirement] = [AssertTableUUID(uuid=now.table_uuid)]
        if now.current_schema_id != before.current_schema_id:
            updates.append(SetCurrentSchemaUpdate(schema_id=before.current_schema_id))
            requirements.append(AssertCurrentSchemaId(current_schema_id=now.current_schema_id))
        if now.default_spec_id != before.default_spec_id:
            updates.append(SetDefaultSpecUpdate(spec_id=before.default_spec_id))
            requirements.append(AssertDefaultSpecId(default_spec_id=now.default_spec_id))
        changed = {k: v for k, v in before.properties.items() if now.properties.get(k) != v}
        if changed:
            updates.append(SetPropertiesUpdate(updates=changed))
        added = {k for k in now.properties if k not in before.properties}
        if added:
            updates.append(RemovePropertiesUpdate(removals=sorted(added)))
        if updates:
            self.catalog.commit_table(table, tuple(requirements), tuple(updates))
