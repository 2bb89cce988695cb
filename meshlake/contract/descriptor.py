"""The product descriptor (`dataproduct.yaml`): typed models and precise errors (file, line, field)."""

from __future__ import annotations

import json
import re
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pyiceberg.types import DoubleType, FloatType, PrimitiveType

from meshlake.contract.access import ClassificationField, ColumnMask, PortAccess, PrincipalField, mask_problem
from meshlake.contract.address import Address, ProductName, validate_name
from meshlake.contract.autocompact import MIN_FILES, AutoCompact
from meshlake.contract.durations import parse_duration
from meshlake.contract.expectations import Expectation, ExpectationConfigError, validate_expectation
from meshlake.contract.partitioning import PartitionClause, PartitionSyntaxError
from meshlake.contract.principals import EVERYONE, Principal, matches
from meshlake.contract.row_filters import RowFilterError, validate_row_filter
from meshlake.contract.types import TypeSyntaxError, format_type, parse_type
from meshlake.contract.writemodes import DEFAULT_ROW_CHANGE_MODE, RowChangeMode
from meshlake.contract.yamlsource import YamlSource, YamlSourceError, format_path
from meshlake.errors import DescriptorError, InvalidNameError

API_VERSION = "meshlake/v1"
_SEMVER = re.compile(r"^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
TEAM_MAX_LENGTH = 100
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_RULE_CODE = re.compile(r"^[A-Z]{2,10}[0-9]{3}$")


class _NamedPathError(ValueError):
    """A semantic error found after parsing, with the field path it concerns."""

    def __init__(self, problem: str, path: tuple[str | int, ...]) -> None:
        self.problem = problem
        self.path = path
        super().__init__(problem)


def _name(value: str) -> str:
    try:
        return validate_name(value)
    except InvalidNameError as exc:
        raise ValueError(str(exc)) from exc


def _type(value: str) -> str:
    try:
        parse_type(value)
    except TypeSyntaxError as exc:
        raise ValueError(str(exc)) from exc
    return value


def _semver(value: str) -> str:
    if not _SEMVER.match(value):
        raise ValueError(f"version {value!r} is not a semantic version like 1.4.0")
    return value


def _release_range(value: str) -> str:
    from meshlake.contract.semver import VersionRange

    VersionRange.parse(value)
    return value


def _duration(value: str) -> str:
    parse_duration(value)
    return value


def _address(value: str) -> str:
    try:
        address = Address.parse(value)
    except InvalidNameError as exc:
        raise ValueError(str(exc)) from exc
    if address.ref is not None:
        raise ValueError("an input port names a port without @ref; runs pin the snapshot themselves")
    return value


def _rule_code(value: str) -> str:
    if not _RULE_CODE.match(value):
        raise ValueError(f"{value!r} is not a rule code like GOV005 or ACME001 (2 to 10 capitals, then 3 digits)")
    return value


def _input_column(value: str) -> str:
    """`INPUT.COLUMN`: an input port's name and one of its port's columns (top-level)."""
    parts = value.split(".")
    if len(parts) != 2:
        raise ValueError(f"{value!r} is not INPUT.COLUMN (an input port's name, a dot, a column of that port)")
    for part in parts:
        _name(part)
    return value


def _some_text(value: str) -> str:
    if not value.strip():
        raise ValueError("this field must not be empty")
    return value


def _identifier(value: str) -> str:
    if not value.isidentifier():
        raise ValueError(f"{value!r} is not a Python function name")
    return value


def _team(value: str) -> str:
    """A team is a display name: letters, digits, spaces, '-', '_' and '.', starting with a letter or digit."""
    if not value.strip():
        raise ValueError("the owner team is empty")
    if len(value) > TEAM_MAX_LENGTH:
        raise ValueError(f"the owner team has {len(value)} characters (at most {TEAM_MAX_LENGTH})")
    bad = sorted({c for c in value if not (c.isalnum() or c in " -_.")})
    if bad:
        shown = ", ".join(repr(c) for c in bad[:5])
        raise ValueError(f"the owner team contains {shown}; use letters, digits, spaces, '-', '_' and '.'")
    if not value[0].isalnum() or value != value.strip():
        raise ValueError(f"the owner team {value!r} must start with a letter or digit and not end with a space")
    return value


def _email(value: str) -> str:
    if not _EMAIL.match(value):
        raise ValueError(f"{value!r} is not an e-mail address")
    return value


def _some_owner(value: list[Principal]) -> list[Principal]:
    if not value:
        raise ValueError("name at least one owner, or leave owner.principals out for product:<domain>.<name>")
    return value


Name = Annotated[str, AfterValidator(_name)]
TypeText = Annotated[str, AfterValidator(_type)]
Duration = Annotated[str, AfterValidator(_duration)]


class _Model(BaseModel):
    # infinities (a histogram's open ends in an expectation's bins) are stored as JSON's -Infinity/Infinity
    # constants, which Python and pydantic read back as they were; pydantic's default would store null
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True, ser_json_inf_nan="constants")


class Owner(_Model):
    team: Annotated[str, AfterValidator(_team)]
    email: Annotated[str, AfterValidator(_email)] | None = None
    principals: Annotated[list[PrincipalField], AfterValidator(_some_owner)] | None = None
    """Who owns the product (reads unmasked, writes); absent: `product:<domain>.<name>`."""


class InputPort(_Model):
    """A read of another product's output port; `snapshot` or `release` pins it (absent: the latest snapshot)."""

    name: Name
    port: Annotated[str, AfterValidator(_address)]
    snapshot: int | None = None
    """A snapshot id: every run reads exactly this snapshot."""
    release: Annotated[str, AfterValidator(_release_range)] | None = None
    """A release of the producer, or a range of them (`1.4.0`, `^1.4`, `~1.4.2`, `1.x`): every run reads the
    newest release that matches, and stamps its version in the run's provenance."""

    @property
    def address(self) -> Address:
        return Address.parse(self.port)

    @property
    def pin(self) -> str | None:
        """The ref a run reads (`<snapshot id>` or `release:<version>`), None when the input floats."""
        if self.snapshot is not None:
            return str(self.snapshot)
        return None if self.release is None else f"release:{self.release}"

    @model_validator(mode="after")
    def _one_pin(self) -> InputPort:
        if self.snapshot is not None and self.release is not None:
            raise _NamedPathError("pin an input to a snapshot or to a release, not both", ("release",))
        return self


class Column(_Model):
    name: Name
    type: TypeText
    required: bool = False
    description: str | None = None
    classification: ClassificationField | None = None
    mask: ColumnMask | None = None
    derived_from: list[Annotated[str, AfterValidator(_input_column)]] = Field(default_factory=list)
    """Input columns whose values this column's values are computed from (`INPUT.COLUMN`): DIRECT lineage."""
    influenced_by: list[Annotated[str, AfterValidator(_input_column)]] = Field(default_factory=list)
    """Input columns that decide which rows or groups exist but not the values (filters, joins, grouping):
    INDIRECT lineage."""

    @model_validator(mode="after")
    def _check_mask(self) -> Column:
        if self.mask is not None:
            problem = mask_problem(self.mask.action, parse_type(self.type), required=self.required)
            if problem is not None:
                raise _NamedPathError(problem, ("mask",))
        return self


class Slo(_Model):
    freshness: Duration | None = None
    min_rows: int | None = Field(default=None, ge=0)
    max_row_change: float | None = Field(default=None, ge=0)
    quality_pass_rate: float | None = Field(default=None, ge=0, le=1)
    window: Duration = "7d"


class QualityOptions(_Model):
    engine: Literal["native", "great_expectations"] = "native"
    sample_size: int = Field(default=5, ge=0, le=1000)


class Retention(_Model):
    time_travel: Duration = "7d"
    min_snapshots: int = Field(default=10, ge=1)


class StreamOptions(_Model):
    """How the port consumes a stream (`meshlake stream`, `port.stream`)."""

    on_failure: Literal["stop", "skip"] = "stop"
    """A batch that fails the gate (or holds malformed messages) is quarantined with its offsets; then `stop`
    ends the stream there, `skip` consumes on."""


class AutoCompactOptions(_Model):
    """Whether each write compacts the port's small files once a partition holds `min_files` of them
    (docs/write-modes.md); `auto_compact: false` is short for `auto_compact: {enabled: false}`."""

    enabled: bool = True
    min_files: int = Field(default=MIN_FILES, ge=2)

    @model_validator(mode="before")
    @classmethod
    def _switch(cls, value: Any) -> Any:
        return {"enabled": value} if isinstance(value, bool) else value

    @property
    def setting(self) -> AutoCompact:
        return AutoCompact(enabled=self.enabled, min_files=self.min_files)


Serving = Literal["table", "stream"]


def _serve(value: list[Serving]) -> list[Serving]:
    if "table" not in value:
        raise ValueError("serve must include 'table': every output port is an Iceberg table")
    if len(set(value)) != len(value):
        raise ValueError("serve lists a way twice")
    return value


def _table_only() -> list[Serving]:
    return ["table"]


DEFAULT_RETENTION = Retention()
"""What maintenance keeps of a port that declares no `retention`."""


def _waiver_date(value: object) -> object:
    if value is None:
        raise ValueError("a waiver needs an expiry date (expires: YYYY-MM-DD); waivers without one are refused")
    return value


class Waiver(_Model):
    """A governance rule the product is excused from, for a reason, by an owner, until a date.

    `target` narrows it to one port (`daily`) or column (`daily.customer_email`); absent, it covers the product.
    """

    rule: Annotated[str, AfterValidator(_rule_code)]
    reason: Annotated[str, AfterValidator(_some_text)]
    owner: Annotated[str, AfterValidator(_some_text)]
    expires: Annotated[date, BeforeValidator(_waiver_date)]
    target: str | None = None

    @model_validator(mode="before")
    @classmethod
    def _expiry_required(cls, value: Any) -> Any:
        if isinstance(value, dict) and "expires" not in value:
            raise _NamedPathError(
                "a waiver needs an expiry date (expires: YYYY-MM-DD); waivers without one are refused", ()
            )
        return value


class OutputPort(_Model):
    name: Name
    description: str | None = None
    columns: list[Column] = Field(min_length=1)
    primary_key: list[Name] = Field(default_factory=list)
    partition_by: list[str] = Field(default_factory=list)
    expectations: list[dict[str, dict[str, Any] | None]] = Field(default_factory=list)
    quality: QualityOptions = QualityOptions()
    slo: Slo | None = None
    retention: Retention | None = None
    """What maintenance keeps; absent: `DEFAULT_RETENTION` (governance rule GOV012 asks for it declared)."""
    access: PortAccess | None = None
    tags: list[Name] = Field(default_factory=list)
    """Labels that governance rules may be scoped by (`scope: {tags: [finance]}`)."""
    source_sql: Annotated[str, AfterValidator(_some_text)] | None = None
    """The SELECT the pipeline runs over its inputs (tables named by input name) to make this port; meshlake only
    parses it (with sqlglot) for column lineage, and never runs it."""
    stream: StreamOptions | None = None
    """How a stream consumed into this port treats a failing batch; absent: `on_failure: stop`."""
    serve: Annotated[list[Serving], AfterValidator(_serve)] = Field(default_factory=_table_only)
    """`[table, stream]`: each committed snapshot's new rows are also published to a stream (docs/streaming.md)."""
    write_mode: RowChangeMode = DEFAULT_ROW_CHANGE_MODE
    """How upserts, replaces and deletes remove old rows: `copy-on-write` (rewrite the files holding them),
    `merge-on-read` (record them in position delete files) or `auto` (docs/write-modes.md)."""
    auto_compact: AutoCompactOptions = AutoCompactOptions()
    """Compact small files right after a write (on by default; table properties `meshlake.auto-compact.*`)."""

    @property
    def stream_options(self) -> StreamOptions:
        return self.stream or StreamOptions()

    @model_validator(mode="after")
    def _served_streams_reach_only_readers(self) -> OutputPort:
        """A served stream is read by the port's `broker_readers` (default `*`): each must be one of its readers,
        or the broker would hand the port to principals who may not read it."""
        audience = self.access.broker_readers if self.access is not None else None
        if "stream" not in self.serve:
            if audience is not None:
                raise _NamedPathError(
                    "broker_readers says who reads the port's served stream, but the port serves none; add "
                    "`serve: [table, stream]` or remove broker_readers",
                    ("access", "broker_readers"),
                )
            return self
        readers = self.access.readers if self.access is not None else None
        if readers is None:
            return self  # the mesh policy's default readers: checked when the stream is served
        outside = [str(p) for p in (audience or [EVERYONE]) if matches(readers, [p]) is None]
        if outside:
            raise _NamedPathError(
                f"the port serves a stream that {', '.join(outside)} can read on the broker, but its readers are "
                f"{', '.join(str(r) for r in readers) or 'only its owners'}; a broker's subscribers are outside "
                "meshlake's access control, so name the principals that can read the stream in "
                "`access.broker_readers` (each one of the port's readers)",
                ("access", "broker_readers"),
            )
        return self

    @property
    def retention_policy(self) -> Retention:
        """The declared retention, else `DEFAULT_RETENTION`."""
        return self.retention or DEFAULT_RETENTION

    def column(self, name: str) -> Column:
        return next(column for column in self.columns if column.name == name)

    @property
    def partition_clauses(self) -> list[PartitionClause]:
        return [PartitionClause.parse(text) for text in self.partition_by]

    @property
    def expectation_list(self) -> list[Expectation]:
        return [
            Expectation(type=key, kwargs=dict(value or {})) for item in self.expectations for key, value in item.items()
        ]

    @model_validator(mode="after")
    def _check_references(self) -> OutputPort:
        columns = {column.name: column for column in self.columns}
        for index, column in enumerate(self.columns):
            if [c.name for c in self.columns].index(column.name) != index:
                raise _NamedPathError(f"duplicate column '{column.name}'", ("columns", index, "name"))
        for index, key in enumerate(self.primary_key):
            if self.primary_key.index(key) != index:
                raise _NamedPathError(f"primary key column '{key}' is named twice", ("primary_key", index))
            if key not in columns:
                raise _NamedPathError(
                    f"primary key column '{key}' is not a column of port '{self.name}'",
                    ("primary_key", index),
                )
            if not columns[key].required:
                raise _NamedPathError(
                    f"primary key column '{key}' must be declared required: true", ("primary_key", index)
                )
            key_type = parse_type(columns[key].type)
            if not isinstance(key_type, PrimitiveType) or isinstance(key_type, (FloatType, DoubleType)):
                raise _NamedPathError(
                    f"primary key column '{key}' is {format_type(key_type)}: a key must be a primitive type "
                    "other than float and double (Iceberg identifier fields)",
                    ("primary_key", index),
                )
        partitioned: dict[str, str] = {}
        for index, text in enumerate(self.partition_by):
            try:
                clause = PartitionClause.parse(text)
                if clause.column not in columns:
                    raise PartitionSyntaxError(
                        f"partition column '{clause.column}' is not a column of port '{self.name}'"
                    )
                clause.check_source(parse_type(columns[clause.column].type))
            except PartitionSyntaxError as exc:
                raise _NamedPathError(str(exc), ("partition_by", index)) from exc
            if clause.column in partitioned:
                raise _NamedPathError(
                    f"column '{clause.column}' is already partitioned by {partitioned[clause.column]}; "
                    "partition a column once (pyiceberg cannot write redundant partitions)",
                    ("partition_by", index),
                )
            partitioned[clause.column] = str(clause)
            if clause.transform != "identity" and clause.field_name in columns:
                raise _NamedPathError(
                    f"{clause} makes a partition field named '{clause.field_name}', which is also a column; "
                    "rename the column",
                    ("partition_by", index),
                )
        types = {column.name: column.type for column in self.columns}
        for index, item in enumerate(self.expectations):
            if len(item) != 1:
                raise _NamedPathError(
                    "each expectation is one mapping {expect_…: {arguments}}", ("expectations", index)
                )
            ((kind, kwargs),) = item.items()
            try:
                validate_expectation(Expectation(type=kind, kwargs=dict(kwargs or {})), types)
            except ExpectationConfigError as exc:
                path: tuple[str | int, ...] = ("expectations", index, kind)
                raise _NamedPathError(exc.problem, (*path, exc.field) if exc.field else path) from exc
        return self

    @model_validator(mode="after")
    def _check_filters(self) -> OutputPort:
        """Row filters and apply-expression masks are filters over this port's columns."""
        types = {column.name: column.type for column in self.columns}
        texts: list[tuple[str | None, tuple[str | int, ...]]] = [
            (c.mask.expression, ("columns", i, "mask", "apply-expression"))
            for i, c in enumerate(self.columns)
            if c.mask is not None and c.mask.action == "apply-expression"
        ]
        if self.access is not None:
            texts += [(r.where, ("access", "row_filters", i, "where")) for i, r in enumerate(self.access.row_filters)]
        for text, path in texts:
            try:
                validate_row_filter(text, types)
            except RowFilterError as exc:
                raise _NamedPathError(exc.problem, path) from exc
        return self


class Pipeline(_Model):
    """Where the product's pipeline function lives, relative to the descriptor."""

    module: str = "pipeline.py"
    function: Annotated[str, AfterValidator(_identifier)] = "build"


class Descriptor(_Model):
    api_version: Literal["meshlake/v1"] = Field(alias="apiVersion")
    domain: Name
    name: Name
    version: Annotated[str, AfterValidator(_semver)]
    owner: Owner
    description: str | None = None
    inputs: list[InputPort] = Field(default_factory=list)
    outputs: list[OutputPort] = Field(min_length=1)
    pipeline: Pipeline = Pipeline()
    waivers: list[Waiver] = Field(default_factory=list)
    """Governance rules this product is excused from until a date (see docs/governance.md)."""

    @property
    def product_name(self) -> ProductName:
        return ProductName(self.domain, self.name)

    @property
    def major_version(self) -> int:
        return int(self.version.split(".")[0])

    def output(self, name: str) -> OutputPort:
        return next(port for port in self.outputs if port.name == name)

    @property
    def owners(self) -> tuple[Principal, ...]:
        """`owner.principals`, or the product's own principal `product:<domain>.<name>` when none are named."""
        return tuple(self.owner.principals or [Principal.product(self.product_name)])

    @model_validator(mode="after")
    def _check_unique_names(self) -> Descriptor:
        for kind, items in (("output", self.outputs), ("input", self.inputs)):
            names = [item.name for item in items]
            for index, name in enumerate(names):
                if names.index(name) != index:
                    raise _NamedPathError(f"duplicate {kind} port '{name}'", (f"{kind}s", index, "name"))
        inputs = {item.name for item in self.inputs}
        for p, port in enumerate(self.outputs):
            for c, column in enumerate(port.columns):
                for field_name in ("derived_from", "influenced_by"):
                    for i, source in enumerate(getattr(column, field_name)):
                        if source.split(".")[0] not in inputs:
                            raise _NamedPathError(
                                f"{source!r} names no input port of this product (inputs: "
                                f"{', '.join(sorted(inputs)) or 'none'}); write INPUT.COLUMN",
                                ("outputs", p, "columns", c, field_name, i),
                            )
        return self

    def to_json(self) -> str:
        """Canonical JSON of the descriptor (what is stored in the catalog)."""
        return json.dumps(self.model_dump(mode="json", by_alias=True, exclude_defaults=False), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> Descriptor:
        return cls.model_validate_json(text)


def load_descriptor(path: str | Path) -> Descriptor:
    """Read and validate a `dataproduct.yaml`; every error names the file, line and field."""
    file = Path(path)
    if file.is_dir():
        file = file / "dataproduct.yaml"
    return parse_descriptor(read_descriptor_text(file), file=str(file))


def read_descriptor_text(file: Path) -> str:
    """The descriptor file's text; a file that cannot be read or is not UTF-8 is a `DescriptorError`."""
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise DescriptorError(f"cannot read the descriptor: {exc.strerror}", file=str(file)) from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise DescriptorError(
            f"the file is not UTF-8 text: byte 0x{raw[exc.start]:02x} at byte offset {exc.start} "
            f"(column {column}) cannot be decoded; save the descriptor as UTF-8",
            file=str(file),
            line=line,
        ) from None


def line_in_file(file: str, path: tuple[str | int, ...]) -> int | None:
    """The line of a field in a descriptor file (or folder), for errors found after parsing; None if unreadable."""
    where = Path(file)
    try:
        where = where / "dataproduct.yaml" if where.is_dir() else where
        return YamlSource.parse(where.read_text(encoding="utf-8")).line_of(path)
    except (OSError, ValueError):
        return None


def parse_descriptor(text: str, *, file: str = "<descriptor>") -> Descriptor:
    """Validate descriptor YAML text."""
    source = parse_descriptor_yaml(text, file=file)
    if not isinstance(source.data, dict):
        raise DescriptorError("the descriptor must be a mapping with apiVersion, domain, name, …", file=file, line=1)
    try:
        return Descriptor.model_validate(source.data)
    except ValidationError as exc:
        raise _descriptor_error(exc, source, file) from None


def parse_descriptor_yaml(text: str, *, file: str) -> YamlSource:
    """The descriptor's YAML document, not validated yet; malformed YAML is a `DescriptorError`."""
    try:
        return YamlSource.parse(text)
    except YamlSourceError as exc:
        problem = exc.problem
        line_text = text.splitlines()[exc.line - 1] if exc.line and exc.line <= len(text.splitlines()) else ""
        if re.search(r"(bucket|truncate)\[", line_text):
            problem += "; quote partition clauses with brackets, e.g. partition_by: ['bucket[16](id)']"
        raise DescriptorError(problem, file=file, line=exc.line, field=exc.field) from exc


def _descriptor_error(exc: ValidationError, source: YamlSource, file: str) -> DescriptorError:
    errors = exc.errors(include_url=False)
    first = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])  # a typo explains the rest
    loc = tuple(part for part in first["loc"] if not (isinstance(part, str) and part.startswith("function-")))
    context = first.get("ctx", {}) or {}
    original = context.get("error")
    if isinstance(original, _NamedPathError):
        path = (*loc, *original.path)
        problem = original.problem
    else:
        path = loc
        problem = _problem_text(first, loc)
    more = len(errors) - 1
    suffix = f" (and {more} more problem{'s' if more > 1 else ''})" if more > 0 else ""
    return DescriptorError(problem + suffix, file=file, line=source.line_of(path), field=format_path(path) or None)


def _problem_text(error: Any, loc: tuple[Any, ...]) -> str:
    kind = error["type"]
    field = str(loc[-1]) if loc else "descriptor"
    if kind == "extra_forbidden":
        if any(mark in field for mark in ")>:"):
            return (
                f"unknown field '{field}': a comma inside {{…}} split a value; quote types that contain commas, "
                "e.g. type: 'decimal(10,2)' or type: 'map<string,long>'"
            )
        return f"unknown field '{field}'"
    if kind == "missing":
        return f"missing required field '{field}'"
    if kind == "literal_error" and field == "apiVersion":
        return f"apiVersion must be '{API_VERSION}'"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")
