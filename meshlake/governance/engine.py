"""The governance engine: one evaluation for `meshlake lint`, `meshlake deploy`, runs and writes.

`evaluate(subjects, ...)` runs every built-in rule (`rules`) and custom Rego rule (`rego`) the policy turns on
over the products checked, gives each finding the severity the policy's entries and the product's domain give it,
then applies the products' waivers: a current waiver excuses the findings of its rule (and target); an expired one,
or one naming a rule the policy does not have, is an error finding of its own. A report's `blocking` findings are
exactly what refuses a deploy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from meshlake.contract.descriptor import Column, Descriptor, OutputPort
from meshlake.contract.yamlsource import format_path
from meshlake.governance.findings import Finding, Waived
from meshlake.governance.policy import DEFAULT_POLICY, CustomRule, GovernancePolicy
from meshlake.governance.rules import (
    BUILTIN,
    CUSTOM_FAILED,
    FIXED,
    META,
    WAIVER_EXPIRED,
    WAIVER_UNKNOWN,
    Context,
    Hit,
    Rule,
    named_things,
    patterns_for,
)
from meshlake.governance.subjects import Subject

if TYPE_CHECKING:
    from meshlake.access.policy import MeshPolicy
    from meshlake.governance.rego import RuleRun


@dataclass
class Report:
    """The findings of one check, and what was checked against which policy."""

    policy: GovernancePolicy
    products: list[str]
    findings: list[Finding] = field(default_factory=list)

    @property
    def policy_version(self) -> int | None:
        return self.policy.version

    @property
    def blocking(self) -> list[Finding]:
        """Errors nobody waived: what refuses a deploy (and makes `meshlake lint` exit 1)."""
        return [f for f in self.findings if f.blocking]

    @property
    def warnings(self) -> list[Finding]:
        return [f for f in self.findings if f.severity == "warn" and f.waived is None]

    @property
    def waived(self) -> list[Finding]:
        return [f for f in self.findings if f.waived is not None]

    @property
    def passed(self) -> bool:
        return not self.blocking

    def for_product(self, name: str) -> list[Finding]:
        return [f for f in self.findings if f.product == name]

    def to_dict(self) -> dict[str, Any]:
        return {
            "policy": self.policy.label,
            "policy_version": self.policy.version,
            "products": self.products,
            "passed": self.passed,
            "errors": len(self.blocking),
            "warnings": len(self.warnings),
            "waived": len(self.waived),
            "findings": [f.to_dict() for f in self.findings],
        }


def evaluate(
    subjects: Sequence[Subject],
    *,
    policy: GovernancePolicy | None = None,
    known: Mapping[str, Descriptor] | None = None,
    access_policy: MeshPolicy | None = None,
    today: date | None = None,
    invalid: Iterable[Finding] = (),
    runtime: bool = False,
    lineage: Mapping[str, Mapping[str, Any]] | None = None,
) -> Report:
    """Check `subjects` against `policy` (default: the built-in rules at their default severities).

    `known` are the other products of the mesh by name (producers of inputs); `invalid` are findings about
    descriptors that could not be read; `runtime` checks only the rules that hold when a pipeline runs.
    """
    chosen = policy or DEFAULT_POLICY
    producers = dict(known or {})
    producers.update({s.name: s.descriptor for s in subjects})
    ctx = Context(chosen, producers, access_policy, today or datetime.now(UTC).date())
    rules = [rule for rule in BUILTIN.values() if rule.runtime or not runtime]
    if any(rule.code == "GOV011" for rule in rules):
        ctx.names = _names(subjects, chosen)
    custom = _start_custom(subjects, ctx, lineage) if not runtime and chosen.custom_rules() else None
    findings = list(invalid)
    for subject in subjects:
        for rule in rules:
            findings += _builtin_findings(rule, subject, ctx)
    if custom is not None:
        findings += _custom_findings(subjects, ctx, custom)
    by_name = {s.name: s for s in subjects}
    findings = _apply_waivers(findings, subjects, chosen, ctx.today)
    findings.sort(key=lambda f: (f.product, f.line or 0, f.code, f.port or "", f.column or ""))
    return Report(chosen, sorted(by_name), findings)


def _names(subjects: Sequence[Subject], policy: GovernancePolicy) -> dict[tuple[str, str], bool]:
    from meshlake.governance.naming import full_matches

    pairs = [
        (pattern, name)
        for s in subjects
        for kind, name, *_ in named_things(s.descriptor)
        for pattern in patterns_for(policy, s.descriptor.domain, kind)
    ]
    return full_matches(pairs)


def _builtin_findings(rule: Rule, subject: Subject, ctx: Context) -> list[Finding]:
    found = []
    for hit in rule.check(subject, ctx):
        port, column = _located(subject.descriptor, hit.port, hit.column)
        severity = ctx.policy.severity(rule.code, rule.default, subject.descriptor, port, column)
        if severity != "off":
            found.append(_finding(rule.code, rule.name, severity, subject, hit))
    return found


def _finding(code: str, name: str, severity: str, subject: Subject, hit: Hit) -> Finding:
    assert severity in ("error", "warn")
    return Finding(
        code,
        name,
        severity,  # type: ignore[arg-type]
        subject.name,
        hit.message,
        port=hit.port,
        column=hit.column,
        file=subject.file,
        line=subject.line_of(hit.path),
        field=format_path(hit.path) or None,
    )


def _located(
    descriptor: Descriptor, port_name: str | None, column_name: str | None
) -> tuple[OutputPort | None, Column | None]:
    port = next((p for p in descriptor.outputs if p.name == port_name), None)
    column = next((c for c in port.columns if c.name == column_name), None) if port is not None else None
    return port, column


def _start_custom(
    subjects: Sequence[Subject], ctx: Context, lineage: Mapping[str, Mapping[str, Any]] | None
) -> RuleRun:
    """Hand the mesh JSON to the Rego worker, which reads it while the built-in rules run here."""
    from meshlake.governance.mesh_json import mesh_document
    from meshlake.governance.rego import start_rules

    document = mesh_document(
        subjects, producers=ctx.producers, access_policy=ctx.access_policy, today=ctx.today, lineage=lineage
    )
    return start_rules(ctx.policy, [rule for _, rule, _ in ctx.policy.custom_rules()], document)


def _custom_findings(subjects: Sequence[Subject], ctx: Context, run: RuleRun) -> list[Finding]:
    policy = ctx.policy
    listed = policy.custom_rules()
    outcomes = run.outcomes()
    by_name = {s.name: s for s in subjects}
    found: list[Finding] = []
    for (path, rule, domain), outcome in zip(listed, outcomes, strict=True):
        in_scope = [s for s in subjects if _custom_applies(rule, domain, s.descriptor, None, None)]
        line = policy.line_of(path)
        where = f"{policy.file}:{line}" if line else policy.file
        if outcome.error is not None:
            found += [_failed(rule, s, outcome.error, where) for s in in_scope]
            continue
        assert outcome.results is not None
        hits, problem = _custom_hits(rule, outcome.results, by_name)
        if problem is not None:
            found += [_failed(rule, s, problem, where) for s in in_scope]
            continue
        for subject, hit in hits:
            port, column = _located(subject.descriptor, hit.port, hit.column)
            if _custom_applies(rule, domain, subject.descriptor, port, column):
                found.append(_finding(rule.code, "custom", rule.severity, subject, hit))
    return found


def _custom_applies(
    rule: CustomRule, domain: str | None, descriptor: Descriptor, port: OutputPort | None, column: Column | None
) -> bool:
    if domain is not None and descriptor.domain != domain:
        return False
    return rule.scope is None or rule.scope.matches(descriptor, port, column)


def _custom_hits(
    rule: CustomRule, results: list[Any], subjects: Mapping[str, Subject]
) -> tuple[list[tuple[Subject, Hit]], str | None]:
    """The findings a custom rule returned, placed in the products checked; or why they cannot be read."""
    hits: list[tuple[Subject, Hit]] = []
    for result in results:
        item = (
            {"product": next(iter(subjects)), "message": result}
            if isinstance(result, str) and len(subjects) == 1
            else result
        )
        if not isinstance(item, dict) or not isinstance(item.get("product"), str):
            return [], f"it returned {json_text(item)}: each finding is an object with a product (domain.product)"
        product = item["product"]
        subject = subjects.get(product)
        if subject is None:
            continue  # a product of the mesh that is not being checked now
        port_name = item.get("port")
        column_name = item.get("column")
        descriptor = subject.descriptor
        ports = [p.name for p in descriptor.outputs]
        if port_name is not None and port_name not in ports:
            return [], f"it returned a finding for port {port_name!r}, which {product} does not have"
        path: tuple[str | int, ...] = ()
        if port_name is not None:
            index = ports.index(port_name)
            path = ("outputs", index, "name")
            columns = [c.name for c in descriptor.outputs[index].columns]
            if column_name is not None:
                if column_name not in columns:
                    return [], f"it returned a finding for column {port_name}.{column_name!r}, which does not exist"
                path = ("outputs", index, "columns", columns.index(column_name))
        elif column_name is not None:
            return [], "it returned a finding with a column but no port"
        elif item.get("input") is not None:
            inputs = [i.name for i in descriptor.inputs]
            if item["input"] not in inputs:
                return [], f"it returned a finding for input {item['input']!r}, which {product} does not have"
            path = ("inputs", inputs.index(item["input"]), "port")
        message = item.get("message")
        hits.append((subject, Hit(path, str(message) if message is not None else rule.title, port_name, column_name)))
    return hits, None


def json_text(value: Any) -> str:
    import json

    text = json.dumps(value, default=str)
    return text if len(text) <= 120 else text[:117] + "..."


def _failed(rule: CustomRule, subject: Subject, reason: str, where: str) -> Finding:
    code, name = CUSTOM_FAILED
    return Finding(
        code,
        name,
        "error",
        subject.name,
        f"custom rule {rule.code} ({rule.title}, {where}) could not be evaluated, so it does not pass: {reason}",
        file=subject.file,
    )


def _apply_waivers(
    findings: list[Finding], subjects: Sequence[Subject], policy: GovernancePolicy, today: date
) -> list[Finding]:
    custom_codes = {rule.code for _, rule, _ in policy.custom_rules()}
    result = list(findings)
    for subject in subjects:
        for index, waiver in enumerate(subject.descriptor.waivers):
            path = ("waivers", index)
            if (waiver.rule not in BUILTIN and waiver.rule not in custom_codes) or waiver.rule in FIXED:
                why = "cannot be waived" if waiver.rule in FIXED else "is not a rule of this policy"
                result.append(_meta(WAIVER_UNKNOWN, subject, f"the waiver of {waiver.rule} {why}", path))
                continue
            if waiver.expires < today:
                result.append(
                    _meta(
                        WAIVER_EXPIRED,
                        subject,
                        f"the waiver of {waiver.rule} (owner {waiver.owner}) expired on {waiver.expires}: fix the "
                        "findings it excused, or renew it with a new expiry date",
                        path,
                    )
                )
                continue
            covered = Waived(waiver.owner, waiver.reason, waiver.expires)
            for position, finding in enumerate(result):
                if (
                    finding.product == subject.name
                    and finding.code == waiver.rule
                    and finding.waived is None
                    and _covers(waiver.target, finding)
                ):
                    result[position] = finding.waive(covered)
    return result


def _covers(target: str | None, finding: Finding) -> bool:
    if target is None:
        return True
    if "." in target:
        return finding.target == target
    return finding.port == target


def _meta(kind: tuple[str, str], subject: Subject, message: str, path: tuple[str | int, ...]) -> Finding:
    code, name = kind
    assert code in META
    return Finding(
        code,
        name,
        "error",
        subject.name,
        message,
        file=subject.file,
        line=subject.line_of(path),
        field=format_path(path),
    )
