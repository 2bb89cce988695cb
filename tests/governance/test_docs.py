"""docs/governance.md stays true: every built-in code is documented, and every example fails or passes as it says."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from meshlake.contract.descriptor import parse_descriptor
from meshlake.contract.yamlsource import YamlSource
from meshlake.governance.engine import evaluate
from meshlake.governance.policy import parse_policy
from meshlake.governance.rules import BUILTIN, META
from meshlake.governance.subjects import Subject

DOCS = Path(__file__).resolve().parents[2] / "docs"
EXAMPLE = re.compile(r"<!-- example (GOV\d{3}) (fails|passes) -->\n```yaml\n(.*?)```", re.DOTALL)


def _examples() -> list[tuple[str, str, str]]:
    return EXAMPLE.findall((DOCS / "governance.md").read_text(encoding="utf-8"))


def _check(code: str, text: str) -> list[str]:
    """The codes of the findings the example's first document gets, with only `code` switched on."""
    documents = text.split("\n---\n")
    subject_text, others = documents[0], documents[1:]
    descriptor = parse_descriptor(subject_text, file="example.yaml")
    deployed = None
    known = {}
    for other in others:
        parsed = parse_descriptor(other, file="other.yaml")
        if parsed.product_name == descriptor.product_name:
            deployed = parsed
        else:
            known[str(parsed.product_name)] = parsed
    rules = f"rules: {{{code}: error}}\n" if code in BUILTIN and code != "GOV013" else ""
    policy = parse_policy("defaults: false\n" + rules, file="docs.yaml")
    subject = Subject(descriptor, "example.yaml", YamlSource.parse(subject_text), deployed)
    report = evaluate([subject], policy=policy, known=known)
    return [f.code for f in report.findings]


def test_every_builtin_code_has_a_section_with_a_failing_and_a_passing_example() -> None:
    text = (DOCS / "governance.md").read_text(encoding="utf-8")
    examples = {(code, verdict) for code, verdict, _ in _examples()}
    for code, rule in BUILTIN.items():
        assert f"### {code} {rule.name}" in text, f"docs/governance.md has no section for {code}"
        assert {(code, "fails"), (code, "passes")} <= examples, f"{code} needs a failing and a passing example"
    for code, (name, _title) in META.items():
        assert f"**{code} {name}**" in text


@pytest.mark.parametrize(("code", "verdict", "text"), _examples(), ids=lambda v: v if len(v) < 10 else "")
def test_each_documented_example_fails_or_passes_as_documented(code: str, verdict: str, text: str) -> None:
    found = _check(code, text)
    if verdict == "fails":
        assert code in found, f"the failing example of {code} gets {found}"
    else:
        assert code not in found, f"the passing example of {code} gets {found}"


def test_the_mesh_json_schema_is_valid_and_describes_what_the_engine_builds() -> None:
    import jsonschema

    from meshlake.governance.mesh_json import mesh_document

    schema = json.loads((DOCS / "governance-mesh.schema.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    subjects, known = [], {}
    for _code, _verdict, text in _examples():
        documents = [parse_descriptor(doc, file="x.yaml") for doc in text.split("\n---\n")]
        subjects.append(Subject(documents[0], "x.yaml", None, documents[1] if len(documents) > 1 else None))
        known.update({str(d.product_name): d for d in documents[1:]})
    from datetime import date

    lineage = {"sales.orders.placed": {"snapshot_id": 12, "inputs": {"finance.ledger.payments": 7}}}
    document = mesh_document(subjects, producers=known, access_policy=None, today=date(2026, 12, 1), lineage=lineage)
    jsonschema.Draft202012Validator(schema).validate(json.loads(json.dumps(document)))
    assert document["grants"] and document["products"]
    assert any(p["lineage"] for product in document["products"] for p in product["ports"])
    broken = dict(document, products=[dict(document["products"][0], owner=None)])
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.Draft202012Validator(schema).validate(broken)


def test_the_doc_examples_parse_as_yaml() -> None:
    for _code, _verdict, text in _examples():
        for document in text.split("\n---\n"):
            assert isinstance(yaml.safe_load(document), dict)
