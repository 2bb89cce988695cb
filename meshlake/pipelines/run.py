"""Pipelines: a plain Python function receives a product's input ports and returns data for its outputs.

    # products/shipping/pipeline.py
    def build(inputs, context):
        orders = inputs.orders.to_polars()              # pinned to the snapshot current when the run began
        return {"deliveries": orders.filter(...)}       # or Output(data, mode="replace", where="day = '…'")

`lake.run(path)` (by one of the product's owners) pins every input port to its current snapshot (or to the
`snapshot:` / `release:` its descriptor pins it to), read as the
product's own principal `product:<domain>.<name>` (`context.lake` acts as it too), calls the function, and writes
each output through the quality gate, stamping the pinned snapshot ids on every snapshot it writes
(`meshlake.inputs`).
`lake.run(path, replay=RUN_OR_SNAPSHOT_ID)` runs again against the exact inputs (and parameters) of an
earlier run.

The pipeline module must lie inside the product's folder (its resolved path: a symbolic link out of the
folder is refused too), checked before anything is imported. An exception raised by the pipeline's own
code, while it is imported or while its function runs, becomes a `PipelineError` naming the product and
the pipeline file and line where it was raised (the original exception chained).
"""

from __future__ import annotations

import importlib.util
import inspect
import json
import sys
import traceback
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pyiceberg.exceptions import NoSuchTableError

from meshlake.contract.address import Address
from meshlake.contract.descriptor import Descriptor, InputPort, load_descriptor
from meshlake.contract.stamps import INPUT_RELEASES, INPUTS, PREFIX, RUN_ID, new_run_id
from meshlake.errors import DescriptorError, PipelineError, QualityGateError, SnapshotNotFoundError
from meshlake.write.modes import WriteMode

if TYPE_CHECKING:
    import duckdb

    from meshlake.lake import Lake
    from meshlake.product import Product
    from meshlake.snapshot import PortSnapshot
    from meshlake.write.results import StagedWrite, WriteResult

PARAMS = "meshlake.run-params"
REPLAY_OF = "meshlake.replay-of"


@dataclass(frozen=True)
class Output:
    """Data for one output port and how to write it (default: append)."""

    data: Any
    mode: WriteMode = "append"
    where: str | None = None


class Inputs(Mapping[str, "PortSnapshot"]):
    """A run's input ports by name, each pinned to one snapshot: `inputs.orders.to_polars()`."""

    def __init__(self, snapshots: Mapping[str, PortSnapshot]) -> None:
        self._snapshots = dict(snapshots)

    def __getitem__(self, name: str) -> PortSnapshot:
        try:
            return self._snapshots[name]
        except KeyError:
            raise KeyError(f"no input port '{name}'; inputs: {', '.join(self._snapshots) or 'none'}") from None

    def __getattr__(self, name: str) -> PortSnapshot:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self[name]
        except KeyError as exc:
            raise AttributeError(str(exc)) from None

    def __iter__(self) -> Iterator[str]:
        return iter(self._snapshots)

    def __len__(self) -> int:
        return len(self._snapshots)

    def duckdb(self) -> duckdb.DuckDBPyConnection:
        """A DuckDB connection where each input is a view named by its input name, read in place."""
        import duckdb

        from meshlake.query.engine import register_filesystems
        from meshlake.query.types import quote_ident

        con = duckdb.connect()
        for name, snapshot in self._snapshots.items():
            register_filesystems(con, snapshot.plan, snapshot.io)  # s3:// files read through s3fs
            con.execute(f"CREATE VIEW {quote_ident(name)} AS {snapshot.sql()}")
        return con

    @property
    def pins(self) -> dict[str, int]:
        """Input address → snapshot id read (inputs never written are left out)."""
        return {s.address: s.snapshot_id for s in self._snapshots.values() if s.snapshot_id is not None}


@dataclass(frozen=True)
class RunContext:
    """What a pipeline may want besides its inputs."""

    run_id: str
    started_at: datetime
    descriptor: Descriptor
    params: Mapping[str, str]
    lake: Lake
    replay_of: str | None = None


@dataclass(frozen=True)
class RunResult:
    """What one run read and wrote."""

    run_id: str
    product: str
    inputs: dict[str, int]
    outputs: dict[str, WriteResult] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)
    replay_of: str | None = None
    input_releases: dict[str, str] = field(default_factory=dict)
    """Input address → the release version a `release:` pin (a version or range) resolved to."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "input_releases": self.input_releases,
            "run_id": self.run_id,
            "product": self.product,
            "inputs": self.inputs,
            "params": self.params,
            "replay_of": self.replay_of,
            "outputs": {name: result.to_dict() for name, result in self.outputs.items()},
        }


def run_product(
    lake: Lake,
    path: str | Path,
    *,
    replay: str | int | None = None,
    params: Mapping[str, str] | None = None,
    run_id: str | None = None,
) -> RunResult:
    """Run the pipeline of the product at `path` (its folder or dataproduct.yaml)."""
    file = Path(path) / "dataproduct.yaml" if Path(path).is_dir() else Path(path)
    descriptor = load_descriptor(file)
    product = lake.product(str(descriptor.product_name))
    if product.version != descriptor.version:
        raise DescriptorError(
            f"the descriptor is version {descriptor.version} but {product.name} {product.version} is deployed; "
            "run `meshlake deploy` first",
            file=str(file),
            field="version",
        )
    module_path = _module_path(file, descriptor)  # refused before anything is read or imported
    reader = lake.as_product(descriptor.product_name)  # owners only; inputs are read as the product
    lake.governance_gate_runtime(descriptor, point="run")  # e.g. an input the product may not read stops the run
    run = run_id or new_run_id()
    reader.log_reads_as("pipeline", query_id=run)
    pins: dict[str, int | None]
    releases: dict[str, str] = {}
    if replay is not None:
        pins, original_params = _earlier_run(lake, descriptor, str(replay))
        params = params if params is not None else original_params
    else:
        releases = _releases(lake, descriptor)  # each range resolved once: the pin below reads the same release
        pins = {i.port: _current(reader, i, releases.get(i.port)) for i in descriptor.inputs}
    snapshots = {i.name: _pinned(reader, i.port, pins.get(i.port)) for i in descriptor.inputs}
    inputs = Inputs(snapshots)
    context = RunContext(
        run, datetime.now(UTC), descriptor, dict(params or {}), reader, str(replay) if replay else None
    )
    produced = _call(_load_function(module_path, descriptor), module_path, inputs, context)
    extra = {PARAMS.removeprefix(PREFIX): json.dumps(dict(sorted(context.params.items())))}
    if replay is not None:
        extra[REPLAY_OF.removeprefix(PREFIX)] = str(replay)
    if releases:
        extra[INPUT_RELEASES.removeprefix(PREFIX)] = json.dumps(dict(sorted(releases.items())), separators=(",", ":"))
    staged = _stage_outputs(product, descriptor, produced, inputs.pins, run, extra)
    outputs = _publish_all(product, staged)
    return RunResult(
        run, str(descriptor.product_name), inputs.pins, outputs, dict(context.params), context.replay_of, releases
    )


def _stage_outputs(
    product: Product,
    descriptor: Descriptor,
    produced: Mapping[str, Any],
    pins: dict[str, int],
    run: str,
    extra: dict[str, str],
) -> dict[str, StagedWrite]:
    """Write and check every output the pipeline returned; on any error, drop what was staged."""
    staged: dict[str, StagedWrite] = {}
    writer = f"pipeline:{descriptor.product_name}"
    try:
        for port in descriptor.outputs:
            if port.name not in produced:
                continue
            item = produced[port.name]
            output = item if isinstance(item, Output) else Output(item)
            staged[port.name] = product.port(port.name).stage(
                output.data,
                mode=output.mode,
                where=output.where,
                inputs=pins,
                run_id=run,
                writer=writer,
                stamps=extra,
            )
    except BaseException:
        for write in staged.values():
            _discard(write)
        raise
    return staged


def _publish_all(product: Product, staged: dict[str, StagedWrite]) -> dict[str, WriteResult]:
    """Publish a run's outputs only if every one passed its gate; otherwise quarantine the failures.

    A run is then all or nothing as far as quality goes: consumers never see one output of a run next
    to the previous run's other output because a check failed. (A commit conflict on a later output can
    still leave earlier ones published: Iceberg has no transaction across tables.)
    """
    if all(write.passed for write in staged.values()):
        return {name: product.port(name).publish(write) for name, write in staged.items()}
    refused: list[QualityGateError] = []
    for name, write in staged.items():
        if write.passed:
            _discard(write)
            continue
        try:
            product.port(name).publish(write)  # commits to its quarantine branch and raises
        except QualityGateError as error:
            refused.append(error)
    held = sorted(name for name, write in staged.items() if write.passed)
    first = refused[0]
    if held:
        first.args = (f"{first.args[0]}\nThe run's other outputs ({', '.join(held)}) were not published either.",)
    raise first


def _discard(write: StagedWrite) -> None:
    from meshlake.write.flow import discard

    discard(write)


def _releases(lake: Lake, descriptor: Descriptor) -> dict[str, str]:
    """Input address → the newest release of its producer that the input's `release:` range matches."""
    from meshlake.contract.releases import find_release

    return {
        item.port: find_release(lake.catalog, str(item.address.product_name), item.release).version
        for item in descriptor.inputs
        if item.release is not None
    }


def _current(lake: Lake, item: InputPort, release: str | None = None) -> int | None:
    """The snapshot a run reads: the input's pin (`snapshot:`, or the `release:` resolved), else the latest."""
    port = lake.port(item.port)
    if release is not None:
        return port.at(release=release).snapshot_id
    return (port.at(item.pin) if item.pin is not None else port.latest()).snapshot_id


def _pinned(lake: Lake, address: str, snapshot_id: int | None) -> PortSnapshot:
    port = lake.port(address)
    return port.at(snapshot_id) if snapshot_id is not None else port.latest()


def _load_function(module_path: Path, descriptor: Descriptor) -> Callable[..., Any]:
    name = f"meshlake_pipeline_{descriptor.domain}_{descriptor.name}"
    spec = importlib.util.spec_from_file_location(name, module_path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load pipeline module {module_path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except Exception as exc:
        raise _pipeline_error(descriptor, module_path, exc) from exc
    function = getattr(module, descriptor.pipeline.function, None)
    if not callable(function):
        raise AttributeError(f"{module_path} has no function '{descriptor.pipeline.function}'")
    return function  # type: ignore[no-any-return]


def _module_path(file: Path, descriptor: Descriptor) -> Path:
    """The pipeline module, resolved; refused unless it lies inside the product folder (links resolved)."""
    folder = file.parent.resolve()
    module_path = (folder / descriptor.pipeline.module).resolve()
    if not module_path.is_relative_to(folder):
        raise DescriptorError(
            f"pipeline.module {descriptor.pipeline.module!r} resolves to {module_path}, outside the product "
            f"folder {folder}; a pipeline module must lie inside its product's folder",
            file=str(file),
            field="pipeline.module",
        )
    if not module_path.is_file():
        raise FileNotFoundError(f"pipeline module {module_path} does not exist (descriptor `pipeline.module`)")
    return module_path


def _call(function: Callable[..., Any], module_path: Path, inputs: Inputs, context: RunContext) -> Mapping[str, Any]:
    parameters = inspect.signature(function).parameters
    try:
        produced = function(inputs, context) if len(parameters) >= 2 else function(inputs)
    except Exception as exc:
        raise _pipeline_error(context.descriptor, module_path, exc) from exc
    if not isinstance(produced, Mapping):
        raise TypeError(
            f"the pipeline returned {type(produced).__name__}; return a dict of output port name → data (or Output)"
        )
    known = {port.name for port in context.descriptor.outputs}
    unknown = sorted(set(produced) - known)
    if unknown:
        raise ValueError(f"the pipeline returned data for unknown output port(s) {unknown}; outputs: {sorted(known)}")
    return produced


def _pipeline_error(descriptor: Descriptor, module_path: Path, exc: Exception) -> PipelineError:
    """`exc` raised by the pipeline, located at the innermost frame in the pipeline's own file."""
    line: int | None = None
    target = str(module_path.resolve())
    for frame in traceback.extract_tb(exc.__traceback__):
        if frame.filename and str(Path(frame.filename).resolve()) == target:
            line = frame.lineno
    if line is None and isinstance(exc, SyntaxError) and exc.filename and Path(exc.filename).resolve() == module_path:
        line = exc.lineno
    return PipelineError(str(descriptor.product_name), file=str(module_path), line=line, error=exc)


def _earlier_run(lake: Lake, descriptor: Descriptor, replay: str) -> tuple[dict[str, int | None], dict[str, str]]:
    """The input pins and parameters of an earlier run, found by run id or by a snapshot it wrote."""
    recent: list[str] = []
    for port in descriptor.outputs:
        try:
            table = lake.catalog.load_table(Address(descriptor.domain, descriptor.name, port.name).identifier)
        except NoSuchTableError:
            continue
        for snapshot in table.snapshots():
            props = snapshot.summary.additional_properties if snapshot.summary else {}
            run = props.get(RUN_ID)
            if run:
                recent.append(run)
            if replay in (run, str(snapshot.snapshot_id)) and INPUTS in props:
                pins = {str(k): int(v) for k, v in json.loads(props[INPUTS]).items()}
                params = {str(k): str(v) for k, v in json.loads(props.get(PARAMS, "{}")).items()}
                return dict(pins), params
    shown = ", ".join(dict.fromkeys(reversed(recent))) if recent else "none"
    raise SnapshotNotFoundError(
        str(descriptor.product_name), replay, exists=f"Runs that wrote its outputs (newest first): {shown[:400]}."
    )
