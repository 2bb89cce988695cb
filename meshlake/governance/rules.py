"""The built-in rules, by stable code. Each is documented with a failing and a passing example in docs/governance.md.

A rule is a function of one product (`Subject`) and what is known of the mesh (`Context`) yielding `Hit`s: the
field path in the descriptor (for the file and line), the message, and the port and column concerned. The engine
turns hits into findings with the severity the policy gives them. Codes never change meaning; a retired rule's
code is never reused.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Final

from meshlake.contract.descriptor import Descriptor, OutputPort
from meshlake.governance.findings import Severity

if TYPE_CHECKING:
    from meshlake.access.policy import MeshPolicy
    from meshlake.governance.policy import GovernancePolicy
    from meshlake.governance.subjects import Subject

SENSITIVE: Final = frozenset({"pii", "confidential"})


@dataclass(frozen=True)
class Hit:
    """One place a product does not meet a rule."""

    path: tuple[str | int, ...]
    message: str
    port: str | None = None
    column: str | None = None


@dataclass
class Context:
    """What the rules may know beyond the product: the mesh's other products, its access policy, the date."""

    policy: GovernancePolicy
    producers: Mapping[str, Descriptor]
    """Every product known by `domain.product`: the deployed mesh and the products being checked."""
    access_policy: MeshPolicy | None
    today: date
    names: Mapping[tuple[str, str], bool] = field(default_factory=dict)
    """(pattern, name) → whether the name fully matches (computed in one pass by the engine)."""


Check = Callable[["Subject", Context], Iterator[Hit]]


@dataclass(frozen=True)
class Rule:
    code: str
    name: str
    title: str
    default: Severity
    check: Check
    level: str
    """`product`, `port`, `column` or `input`: what a finding of this rule is about."""
    runtime: bool = False
    """Also checked when a pipeline runs or a write names its inputs."""


def owner_contact(subject: Subject, ctx: Context) -> Iterator[Hit]:
    owner = subject.descriptor.owner
    if not owner.team.strip():
        yield Hit(("owner", "team"), "the product names no owner team")
    if not owner.email:
        yield Hit(("owner",), f"owner {owner.team} gives no contact: add owner.email")


def product_description(subject: Subject, ctx: Context) -> Iterator[Hit]:
    if not (subject.descriptor.description or "").strip():
        yield Hit(("description",), "the product has no description")


def port_description(subject: Subject, ctx: Context) -> Iterator[Hit]:
    for index, port in enumerate(subject.descriptor.outputs):
        if not (port.description or "").strip():
            yield Hit(("outputs", index, "name"), f"output port {port.name} has no description", port.name)


def column_description(subject: Subject, ctx: Context) -> Iterator[Hit]:
    for p, port in enumerate(subject.descriptor.outputs):
        for c, column in enumerate(port.columns):
            if not (column.description or "").strip():
                yield Hit(
                    ("outputs", p, "columns", c), f"column {column.name} has no description", port.name, column.name
                )


def column_classification(subject: Subject, ctx: Context) -> Iterator[Hit]:
    for p, port in enumerate(subject.descriptor.outputs):
        for c, column in enumerate(port.columns):
            if column.classification is None:
                yield Hit(
                    ("outputs", p, "columns", c),
                    f"column {column.name} has no classification (public, internal, confidential or pii)",
                    port.name,
                    column.name,
                )


def sensitive_masked(subject: Subject, ctx: Context) -> Iterator[Hit]:
    from meshlake.access.policy import MeshPolicy
    from meshlake.access.rights import column_mask

    policy = ctx.access_policy or MeshPolicy()
    for p, port in enumerate(subject.descriptor.outputs):
        if port.access is not None and port.access.readers == []:
            continue  # only owners and admins read it: nobody reads it masked or not
        for c, column in enumerate(port.columns):
            if column.classification in SENSITIVE and column_mask(column, policy) is None:
                yield Hit(
                    ("outputs", p, "columns", c),
                    f"column {column.name} is {column.classification} but readers outside access.unmasked would "
                    "read it as it is: give it a mask (or map the classification to one in the mesh policy)",
                    port.name,
                    column.name,
                )


def output_slo(subject: Subject, ctx: Context) -> Iterator[Hit]:
    for index, port in enumerate(subject.descriptor.outputs):
        slo = port.slo
        if slo is None or all(
            value is None for value in (slo.freshness, slo.min_rows, slo.max_row_change, slo.quality_pass_rate)
        ):
            yield Hit(
                ("outputs", index, "name"),
                f"output port {port.name} declares no SLO (slo: {{freshness: 24h, min_rows: 1}})",
                port.name,
            )


def primary_key_unique(subject: Subject, ctx: Context) -> Iterator[Hit]:
    for index, port in enumerate(subject.descriptor.outputs):
        if port.primary_key and not _uniqueness_checked(port):
            key = ", ".join(port.primary_key)
            example = (
                f"expect_column_values_to_be_unique: {{column: {key}}}"
                if len(port.primary_key) == 1
                else f"expect_compound_columns_to_be_unique: {{column_list: [{key}]}}"
            )
            yield Hit(
                ("outputs", index, "primary_key"),
                f"output port {port.name} has the primary key ({key}) but no expectation checks it is unique "
                f"({example})",
                port.name,
            )


def _uniqueness_checked(port: OutputPort) -> bool:
    key = set(port.primary_key)
    for expectation in port.expectation_list:
        kwargs = expectation.kwargs
        if kwargs.get("mostly", 1) != 1:
            continue
        if expectation.type == "expect_column_values_to_be_unique" and kwargs.get("column") in key:
            return True
        columns = kwargs.get("column_list")
        if (
            expectation.type == "expect_compound_columns_to_be_unique"
            and isinstance(columns, list)
            and columns
            and set(columns) <= key
        ):
            return True
    return False


def inputs_granted(subject: Subject, ctx: Context) -> Iterator[Hit]:
    from meshlake.access.identity import Identity
    from meshlake.access.rights import decide
    from meshlake.contract.principals import Principal

    descriptor = subject.descriptor
    reader = Identity(Principal.product(descriptor.product_name), frozenset(), verified=False, source="pipeline")
    for index, item in enumerate(descriptor.inputs):
        address = item.address
        producer = descriptor if address.product_name == descriptor.product_name else None
        producer = producer or ctx.producers.get(str(address.product_name))
        if producer is None or address.port not in {p.name for p in producer.outputs}:
            continue  # not deployed yet (deploy warns), or no such port (deploy refuses): nothing to decide
        decision = decide(reader, producer, address.port, ctx.access_policy)
        if not decision.read:
            yield Hit(
                ("inputs", index, "port"),
                f"input {item.name} reads {address}, but {reader.principal} may not: {decision.missing_read}",
                column=None,
            )


def inputs_pinned(subject: Subject, ctx: Context) -> Iterator[Hit]:
    for index, item in enumerate(subject.descriptor.inputs):
        if item.pin is None:
            yield Hit(
                ("inputs", index, "port"),
                f"input {item.name} reads {item.port} at whatever snapshot is latest: pin it (snapshot: ID or "
                "release: VERSION)",
            )


def naming_conventions(subject: Subject, ctx: Context) -> Iterator[Hit]:
    descriptor = subject.descriptor
    for kind, name, path, port, column in named_things(descriptor):
        for pattern in patterns_for(ctx.policy, descriptor.domain, kind):
            if not ctx.names.get((pattern, name), True):
                yield Hit(path, f"{kind} name {name!r} does not match the convention {pattern!r}", port, column)


def named_things(
    descriptor: Descriptor,
) -> Iterator[tuple[str, str, tuple[str | int, ...], str | None, str | None]]:
    """Every name a descriptor gives: (kind, name, path, port, column)."""
    yield "domain", descriptor.domain, ("domain",), None, None
    yield "product", descriptor.name, ("name",), None, None
    for i, item in enumerate(descriptor.inputs):
        yield "input", item.name, ("inputs", i, "name"), None, None
    for p, port in enumerate(descriptor.outputs):
        yield "port", port.name, ("outputs", p, "name"), port.name, None
        for t, tag in enumerate(port.tags):
            yield "tag", tag, ("outputs", p, "tags", t), port.name, None
        for c, column in enumerate(port.columns):
            yield "column", column.name, ("outputs", p, "columns", c, "name"), port.name, column.name


def patterns_for(policy: GovernancePolicy, domain: str, kind: str) -> list[str]:
    """The mesh's pattern for `kind`, and the domain's own when it adds one (both must match)."""
    found = [policy.pattern(kind)]
    section = policy.domains.get(domain)
    if section is not None and kind in section.naming:
        found.append(section.naming[kind])
    return found


def retention_declared(subject: Subject, ctx: Context) -> Iterator[Hit]:
    for index, port in enumerate(subject.descriptor.outputs):
        if port.retention is None:
            yield Hit(
                ("outputs", index, "name"),
                f"output port {port.name} declares no retention (retention: {{time_travel: 7d, min_snapshots: 10}}); "
                "maintenance would apply the defaults",
                port.name,
            )


def breaking_change_major(subject: Subject, ctx: Context) -> Iterator[Hit]:
    from meshlake.contract.deploy import breaking_changes

    changes = breaking_changes(subject.descriptor, subject.deployed)
    if changes:
        deployed = subject.deployed.version if subject.deployed else "?"
        yield Hit(
            ("version",),
            f"version {subject.descriptor.version} over the deployed {deployed} is not the version bump the change "
            f"needs: {'; '.join(changes)}",
        )


def column_lineage_known(subject: Subject, ctx: Context) -> Iterator[Hit]:
    """`derived_from` / `influenced_by` name columns the input's port declares (when its producer is known)."""
    descriptor = subject.descriptor
    inputs = {item.name: item.address for item in descriptor.inputs}
    for p, port in enumerate(descriptor.outputs):
        for c, column in enumerate(port.columns):
            for field_name in ("derived_from", "influenced_by"):
                for i, source in enumerate(getattr(column, field_name)):
                    name, source_column = source.split(".")
                    address = inputs[name]
                    producer = descriptor if address.product_name == descriptor.product_name else None
                    producer = producer or ctx.producers.get(str(address.product_name))
                    read = next((o for o in producer.outputs if o.name == address.port), None) if producer else None
                    if read is None or source_column in {col.name for col in read.columns}:
                        continue  # producer not deployed yet, or no such port (GOV009 and deploy say so)
                    yield Hit(
                        ("outputs", p, "columns", c, field_name, i),
                        f"{field_name} names {source}, but {address} declares no column '{source_column}'",
                        port=port.name,
                        column=column.name,
                    )


_RULES: Final = (
    Rule("GOV001", "owner-contact", "The owner team and a contact e-mail are given", "error", owner_contact, "product"),
    Rule("GOV002", "product-description", "The product has a description", "error", product_description, "product"),
    Rule("GOV003", "port-description", "Every output port has a description", "error", port_description, "port"),
    Rule("GOV004", "column-description", "Every column has a description", "warn", column_description, "column"),
    Rule(
        "GOV005", "column-classification", "Every column has a classification", "error", column_classification, "column"
    ),
    Rule(
        "GOV006",
        "sensitive-columns-masked",
        "pii and confidential columns are masked for readers not granted them unmasked",
        "error",
        sensitive_masked,
        "column",
    ),
    Rule("GOV007", "output-slo", "Every output port declares an SLO", "error", output_slo, "port"),
    Rule(
        "GOV008",
        "primary-key-unique",
        "A port with a primary key has an expectation that it is unique",
        "error",
        primary_key_unique,
        "port",
    ),
    Rule(
        "GOV009",
        "inputs-granted",
        "Inputs read only ports the product is granted to read",
        "error",
        inputs_granted,
        "input",
        runtime=True,
    ),
    Rule("GOV010", "inputs-pinned", "Inputs are pinned to a snapshot or a release", "warn", inputs_pinned, "input"),
    Rule("GOV011", "naming-conventions", "Names follow the mesh's conventions", "error", naming_conventions, "product"),
    Rule(
        "GOV012", "retention-declared", "Every output port declares its retention", "error", retention_declared, "port"
    ),
    Rule(
        "GOV013",
        "breaking-change-major",
        "A breaking change comes with a major version bump",
        "error",
        breaking_change_major,
        "product",
    ),
    Rule(
        "GOV014",
        "column-lineage-known",
        "Column lineage names columns its inputs declare",
        "warn",
        column_lineage_known,
        "column",
    ),
)
BUILTIN: Final[dict[str, Rule]] = {rule.code: rule for rule in _RULES}
FIXED: Final = frozenset({"GOV000", "GOV013", "GOV090", "GOV091", "GOV099"})
"""Rules that are errors everywhere: a policy can neither lower nor scope them, nor a waiver excuse them."""
WAIVER_EXPIRED: Final = ("GOV090", "waiver-expired")
WAIVER_UNKNOWN: Final = ("GOV091", "waiver-unknown-rule")
CUSTOM_FAILED: Final = ("GOV099", "custom-rule-failed")
META: Final = {
    "GOV000": ("descriptor-valid", "The descriptor is valid"),
    WAIVER_EXPIRED[0]: (WAIVER_EXPIRED[1], "A waiver has not expired"),
    WAIVER_UNKNOWN[0]: (WAIVER_UNKNOWN[1], "A waiver names a rule the policy has"),
    CUSTOM_FAILED[0]: (CUSTOM_FAILED[1], "Every custom rule could be evaluated"),
}
"""Findings about governance itself: always errors, never waived."""
