"""The mesh's history as OpenLineage run events (`meshlake[lineage]`), to a file or an HTTP endpoint.

One OpenLineage run per meshlake run id (`meshlake.run-id`: a pipeline run writing several ports is one run),
job `meshlake` / `DOMAIN.PRODUCT`. Each run has a START event at its first commit and a COMPLETE event at its
last — or FAIL when the quality gate stopped one of its writes, with a `dataQualityAssertions` facet on that
output (from the verdict stamped on the snapshot: the expectations the stamp names failed, the port's other
expectations passed). Inputs and outputs are named by storage location (OpenLineage's naming: namespace
`file` or `s3://bucket`, name the path), carry `symlinks` to the port's address (namespace `meshlake`, type
`TABLE`) and `version.datasetVersion` = the snapshot id read or written; outputs carry their schema and
column lineage.

Everything in an event comes from the snapshot and its stamps: run ids are UUIDs derived from the meshlake run
id, event times are commit times, JSON keys are sorted. So exporting the same history twice gives
byte-identical output, and re-sending a back-fill is safe.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from meshlake.errors import DiscoveryError, require

if TYPE_CHECKING:
    from meshlake.contract.descriptor import OutputPort
    from meshlake.lineage.columns import ColumnEdge
    from meshlake.lineage.graph import LineageGraph, SnapshotRecord

NAMESPACE = "meshlake"
RUN_NAMESPACE = uuid.UUID("6d657368-6c61-6b65-8000-6f70656e6c69")
"""The UUID namespace run ids are derived in (uuid5 of the meshlake run id)."""
PRODUCER = "https://pypi.org/project/meshlake/"


@dataclass(frozen=True)
class ExportReport:
    """What an export wrote: how many events and runs, and where."""

    events: int
    runs: int
    failed_runs: int
    to: str

    def to_dict(self) -> dict[str, Any]:
        return {"events": self.events, "runs": self.runs, "failed_runs": self.failed_runs, "to": self.to}


def run_uuid(run_id: str) -> str:
    """The OpenLineage run id of a meshlake run: a UUID derived from it (the same on every export)."""
    return str(uuid.uuid5(RUN_NAMESPACE, run_id))


def event_lines(graph: LineageGraph, *, since: datetime | None = None) -> list[str]:
    """Every run since `since` (a zoned instant) as OpenLineage JSON events, one per line, in time order."""
    require("openlineage.client", extra="lineage", feature="the OpenLineage export")
    from openlineage.client.serde import Serde

    if since is not None and (not isinstance(since, datetime) or since.tzinfo is None):
        raise DiscoveryError(
            f"--since needs a zoned instant such as 2026-11-01T00:00:00Z (got {since!r})", value=str(since)
        )
    runs: dict[str, list[SnapshotRecord]] = {}
    for port in graph.ports.values():
        for record in port.snapshots.values():
            if since is not None and record.committed_at < since:
                continue
            key = record.run_id or f"{record.address}@{record.snapshot_id}"
            runs.setdefault(key, []).append(record)
    edges = _column_edges(graph)
    events: list[tuple[str, int, str, str]] = []
    for run_id, records in runs.items():
        records.sort(key=lambda r: (r.committed_at, r.address, r.snapshot_id))
        for order, event in enumerate(_run_events(graph, run_id, records, edges)):
            events.append((event.eventTime, order, event.run.runId, Serde.to_json(event)))
    events.sort()
    return [line for *_, line in events]


def export_events(
    graph: LineageGraph, to: str | os.PathLike[str], *, since: datetime | None = None, timeout: float = 10.0
) -> ExportReport:
    """Write the events to a file (JSON lines, replaced whole) or POST each to an `http(s)://` URL."""
    lines = event_lines(graph, since=since)
    target = os.fspath(to)
    failed = sum(1 for line in lines if '"eventType": "FAIL"' in line)
    runs = sum(1 for line in lines if '"eventType": "START"' in line)
    if "://" in target:
        _post(lines, target, timeout)
    else:
        _write(lines, Path(target))
    return ExportReport(len(lines), runs, failed, target)


def _write(lines: Sequence[str], path: Path) -> None:
    if not path.parent.is_dir():
        raise DiscoveryError(f"cannot write {path}: its folder does not exist; create it first", value=str(path))
    if path.is_dir():
        raise DiscoveryError(f"{path} is a folder; name a file such as {path / 'lineage.jsonl'}", value=str(path))
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    temporary.replace(path)


def _post(lines: Sequence[str], url: str, timeout: float) -> None:
    """POST each event as its own JSON document (what OpenLineage's HTTP endpoints take)."""
    import urllib.error
    import urllib.request

    if not url.startswith(("http://", "https://")):
        raise DiscoveryError(
            f"--to {url}: send to an http:// or https:// URL, or give a file path",
            value=url.split("://", maxsplit=1)[0],
        )
    for sent, line in enumerate(lines):
        request = urllib.request.Request(
            url, data=line.encode("utf-8"), headers={"Content-Type": "application/json"}, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise DiscoveryError(
                f"{url} refused event {sent + 1} of {len(lines)} with HTTP {exc.code}; {sent} were sent. "
                "Events are deterministic: export again to send them all",
                value=str(exc.code),
            ) from exc
        except (urllib.error.URLError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DiscoveryError(
                f"cannot send to {url}: {reason}; {sent} of {len(lines)} events were sent. Export again when it "
                "is reachable (re-sending is safe)",
                value=url,
            ) from exc


def _column_edges(graph: LineageGraph) -> dict[str, list[ColumnEdge]]:
    from meshlake.lineage.columns import column_lineage

    columns_of = {
        f"{name}.{port.name}": {c.name: c.type for c in port.columns}
        for name, descriptor in graph.descriptors.items()
        for port in descriptor.outputs
    }
    edges: dict[str, list[ColumnEdge]] = {}
    for descriptor in graph.descriptors.values():
        for edge in column_lineage(descriptor, columns_of).edges:  # without sqlglot: the declared lineage
            edges.setdefault(edge.target_port, []).append(edge)
    return edges


def _run_events(
    graph: LineageGraph, run_id: str, records: list[SnapshotRecord], edges: dict[str, list[ColumnEdge]]
) -> list[Any]:
    from openlineage.client.event_v2 import Job, Run, RunEvent, RunState

    first, last = records[0], records[-1]
    product = first.address.rsplit(".", 1)[0]
    run = Run(runId=run_uuid(run_id))
    job = Job(namespace=NAMESPACE, name=product)
    inputs: dict[tuple[str, int], Any] = {}
    for record in records:
        for address, snapshot_id in sorted(record.inputs.items()):
            inputs.setdefault((address, snapshot_id), _input(graph, address, snapshot_id))
    outputs = [_output(graph, record, edges.get(record.address, [])) for record in records]
    stopped = any(record.stopped for record in records)
    inputs_list = [inputs[key] for key in sorted(inputs)]
    return [
        RunEvent(
            eventType=RunState.START,
            eventTime=_time(first.committed_at),
            run=run,
            job=job,
            producer=PRODUCER,
            inputs=inputs_list,
            outputs=[],
        ),
        RunEvent(
            eventType=RunState.FAIL if stopped else RunState.COMPLETE,
            eventTime=_time(last.committed_at),
            run=run,
            job=job,
            producer=PRODUCER,
            inputs=inputs_list,
            outputs=outputs,
        ),
    ]


def _time(when: datetime) -> str:
    return when.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _naming(graph: LineageGraph, address: str) -> tuple[str, str]:
    """OpenLineage's (namespace, name) of a port: its storage location, or its address when it has none known."""
    location = graph.port(address).location
    if not location:
        return NAMESPACE, address
    scheme, _, rest = location.partition("://")
    if scheme == "file":
        return "file", rest
    bucket, _, path = rest.partition("/")
    return f"{scheme}://{bucket}", path


def _dataset_facets(graph: LineageGraph, address: str, snapshot_id: int) -> dict[str, Any]:
    from openlineage.client.generated.dataset_version_dataset import DatasetVersionDatasetFacet
    from openlineage.client.generated.symlinks_dataset import Identifier, SymlinksDatasetFacet

    return {
        "symlinks": SymlinksDatasetFacet(
            identifiers=[Identifier(namespace=NAMESPACE, name=address, type="TABLE")], producer=PRODUCER
        ),
        "version": DatasetVersionDatasetFacet(datasetVersion=str(snapshot_id), producer=PRODUCER),
    }


def _input(graph: LineageGraph, address: str, snapshot_id: int) -> Any:
    from openlineage.client.event_v2 import InputDataset

    namespace, name = _naming(graph, address)
    return InputDataset(namespace=namespace, name=name, facets=_dataset_facets(graph, address, snapshot_id))


def _output(graph: LineageGraph, record: SnapshotRecord, edges: Iterable[ColumnEdge]) -> Any:
    from openlineage.client.event_v2 import OutputDataset

    namespace, name = _naming(graph, record.address)
    facets = _dataset_facets(graph, record.address, record.snapshot_id)
    port = _port(graph, record.address)
    if port is not None:
        facets["schema"] = _schema(port)
        lineage = _column_facet(graph, list(edges))
        if lineage is not None:
            facets["columnLineage"] = lineage
        if record.quality is not None:
            facets["dataQualityAssertions"] = _assertions(port, record)
    return OutputDataset(namespace=namespace, name=name, facets=facets)


def _port(graph: LineageGraph, address: str) -> OutputPort | None:
    product, _, name = address.rpartition(".")
    descriptor = graph.descriptors.get(product)
    if descriptor is None:
        return None
    return next((port for port in descriptor.outputs if port.name == name), None)


def _schema(port: OutputPort) -> Any:
    from openlineage.client.generated.schema_dataset import SchemaDatasetFacet, SchemaDatasetFacetFields

    fields = [SchemaDatasetFacetFields(name=c.name, type=c.type, description=c.description) for c in port.columns]
    return SchemaDatasetFacet(fields=fields, producer=PRODUCER)


def _column_facet(graph: LineageGraph, edges: list[ColumnEdge]) -> Any:
    from openlineage.client.generated.column_lineage_dataset import (
        ColumnLineageDatasetFacet,
        Fields,
        InputField,
        Transformation,
    )

    if not edges:
        return None
    by_column: dict[str, dict[tuple[str, str, str], set[str]]] = {}
    for edge in edges:
        namespace, name = _naming(graph, edge.source_port)
        by_column.setdefault(edge.target_column, {}).setdefault((namespace, name, edge.source_column), set()).add(
            edge.transformation
        )
    fields = {
        column: Fields(
            inputFields=[
                InputField(
                    namespace=namespace,
                    name=name,
                    field=field,
                    transformations=[Transformation(type=kind) for kind in sorted(kinds)],
                )
                for (namespace, name, field), kinds in sorted(sources.items())
            ]
        )
        for column, sources in sorted(by_column.items())
    }
    return ColumnLineageDatasetFacet(fields=fields, producer=PRODUCER)


def _assertions(port: OutputPort, record: SnapshotRecord) -> Any:
    from openlineage.client.generated.data_quality_assertions_dataset import (
        Assertion,
        DataQualityAssertionsDatasetFacet,
    )

    quality = record.quality or {}
    failed = [str(name) for name in quality.get("failed", [])]
    warned = {str(name) for name in quality.get("warned", [])}
    assertions = []
    for expectation in port.expectation_list:
        column = expectation.kwargs.get("column")
        assertions.append(
            Assertion(
                assertion=expectation.type,
                success=expectation.type not in failed and expectation.type not in warned,
                column=str(column) if column is not None else None,
                severity=expectation.severity,
            )
        )
    known = {expectation.type for expectation in port.expectation_list}  # the stamp names types the port dropped
    assertions += [Assertion(assertion=name, success=False) for name in failed if name not in known]
    return DataQualityAssertionsDatasetFacet(assertions=assertions, producer=PRODUCER)
