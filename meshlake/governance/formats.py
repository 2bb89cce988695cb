"""A governance report as CI tools read it: text, JSON, JUnit XML, SARIF 2.1.0, GitHub workflow annotations."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Final

from meshlake.governance.rules import BUILTIN, META

if TYPE_CHECKING:
    from meshlake.governance.engine import Report
    from meshlake.governance.findings import Finding

FORMATS: Final = ("text", "json", "junit", "sarif", "github")
SARIF_SCHEMA: Final = "https://json.schemastore.org/sarif-2.1.0.json"
DOCS: Final = "docs/governance.md"


def render(report: Report, fmt: str) -> str:
    renderers: dict[str, Callable[[Report], str]] = {
        "text": text,
        "json": lambda r: json.dumps(r.to_dict(), indent=2),
        "junit": junit,
        "sarif": sarif,
        "github": github,
    }
    return renderers[fmt](report)


def text(report: Report) -> str:
    lines = [str(f) for f in report.findings]
    verdict = "passed" if report.passed else "failed"
    lines.append(
        f"{len(report.products)} product(s) checked against {report.policy.label}: {verdict} — "
        f"{len(report.blocking)} error(s), {len(report.warnings)} warning(s), {len(report.waived)} waived"
    )
    return "\n".join(lines)


def junit(report: Report) -> str:
    """One test case per product; its blocking findings are the failure, the rest its output."""
    from xml.etree import ElementTree as ET

    suites = ET.Element("testsuites", name="meshlake lint")
    suite = ET.SubElement(
        suites,
        "testsuite",
        name=f"governance ({report.policy.label})",
        tests=str(len(report.products) + len(_unnamed(report))),
        failures=str(len({f.product for f in report.blocking})),
        errors="0",
    )
    names = list(report.products) + _unnamed(report)
    for product in names:
        case = ET.SubElement(suite, "testcase", classname=product, name="governance")
        findings = report.for_product(product)
        blocking = [f for f in findings if f.blocking]
        if blocking:
            failure = ET.SubElement(case, "failure", message=f"{len(blocking)} governance error(s)", type="governance")
            failure.text = "\n".join(str(f) for f in blocking)
        others = [f for f in findings if not f.blocking]
        if others:
            ET.SubElement(case, "system-out").text = "\n".join(str(f) for f in others)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True)


def _unnamed(report: Report) -> list[str]:
    """Products of findings outside the checked list (descriptor files that could not be read)."""
    return sorted({f.product for f in report.findings} - set(report.products))


def sarif(report: Report) -> str:
    """A SARIF 2.1.0 log: one run of the `meshlake` tool, one result per finding (waived ones suppressed)."""
    from meshlake import __version__

    codes = sorted({f.code for f in report.findings} | set(BUILTIN))
    rules = [_sarif_rule(code, report) for code in codes]
    index = {code: i for i, code in enumerate(codes)}
    log = {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "meshlake",
                        "version": __version__,
                        "rules": rules,
                    }
                },
                "properties": {"policy": report.policy.label, "policyVersion": report.policy.version},
                "results": [_sarif_result(f, index[f.code]) for f in report.findings],
            }
        ],
    }
    return json.dumps(log, indent=2)


def _sarif_rule(code: str, report: Report) -> dict[str, object]:
    if code in BUILTIN:
        name, title, level = BUILTIN[code].name, BUILTIN[code].title, BUILTIN[code].default
    elif code in META:
        (name, title), level = META[code], "error"
    else:
        custom = next((rule for _, rule, _ in report.policy.custom_rules() if rule.code == code), None)
        name, title = "custom", custom.title if custom else code
        level = custom.severity if custom else "error"
    return {
        "id": code,
        "name": name,
        "shortDescription": {"text": title},
        "help": {"text": f"See {DOCS}, section {code}."},
        "defaultConfiguration": {"level": "none" if level == "off" else _level(level)},
    }


def _level(severity: str) -> str:
    return "error" if severity == "error" else "warning"


def _sarif_result(finding: Finding, rule_index: int) -> dict[str, object]:
    logical = {
        "fullyQualifiedName": finding.address + (f".{finding.column}" if finding.column else ""),
        "kind": "member",
    }
    location: dict[str, object] = {"logicalLocations": [logical]}
    if finding.file:
        physical: dict[str, object] = {"artifactLocation": {"uri": finding.file.replace("\\", "/")}}
        if finding.line:
            physical["region"] = {"startLine": finding.line}
        location["physicalLocation"] = physical
    result: dict[str, object] = {
        "ruleId": finding.code,
        "ruleIndex": rule_index,
        "level": _level(finding.severity),
        "message": {"text": finding.message},
        "locations": [location],
    }
    if finding.waived is not None:
        result["suppressions"] = [
            {
                "kind": "inSource",
                "justification": f"{finding.waived.reason} (waived by {finding.waived.owner} until "
                f"{finding.waived.expires})",
            }
        ]
    return result


def github(report: Report) -> str:
    """GitHub Actions workflow commands: `::error file=…,line=…,title=…::message` per finding not waived."""
    lines = []
    for finding in report.findings:
        if finding.waived is not None:
            continue
        kind = "error" if finding.severity == "error" else "warning"
        properties = []
        if finding.file:
            properties.append(f"file={_property(finding.file)}")
            if finding.line:
                properties.append(f"line={finding.line}")
        properties.append(f"title={_property(f'{finding.code} {finding.name}')}")
        where = finding.address + (f".{finding.column}" if finding.column else "")
        lines.append(f"::{kind} {','.join(properties)}::{_data(f'{where}: {finding.message}')}")
    lines.append(text(report).splitlines()[-1])
    return "\n".join(lines)


def _data(value: str) -> str:
    return value.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(value: str) -> str:
    return _data(value).replace(":", "%3A").replace(",", "%2C")
