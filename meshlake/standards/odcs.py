"""A descriptor as an ODCS 3.2 data contract, and back, losslessly.

Native ODCS fields hold what ODCS can say: `domain`, `dataProduct`, `version`, `description.purpose`, the team
(owner team, e-mail as an `owner` member), one `schema` object per output port (physical name = the port's
address, description, tags) with one property per column (`physicalType` = the meshlake type text, `logicalType`,
`required`, `description`, `classification`, `primaryKey`/`primaryKeyPosition`, `partitioned`/
`partitionKeyPosition`), quality rules (ODCS library metrics where an expectation is one — `nullValues`,
`duplicateValues`, `rowCount`, `invalidValues` — else `type: custom` with the Great Expectations type and
arguments), SLOs as `slaProperties` (`latency` for freshness, `minRows`, `maxRowChange`, `qualityPassRate`,
`window`, each with `element` = the port) and `roles` (one per reader principal). The server is `type: iceberg`.

What ODCS cannot hold goes to `customProperties` (vendor `meshlake`): inputs, pipeline, waivers and owner principals
of the product; partition transforms, quality options, retention, access, `serve` and `stream` of a port; a
column's mask; and each quality rule's exact expectation (with its position), so the import gives back the
descriptor it came from.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

from meshlake.contract.descriptor import Column, Descriptor, OutputPort
from meshlake.contract.types import parse_type
from meshlake.errors import StandardDocumentError

API_VERSION = "v3.2.0"
VENDOR = "meshlake"
LOGICAL = {
    "boolean": "boolean",
    "int": "integer",
    "long": "integer",
    "float": "number",
    "double": "number",
    "date": "date",
    "time": "time",
}
"""meshlake primitive types with an ODCS logical type other than the fallbacks below."""
FROM_LOGICAL = {"string": "string", "integer": "long", "number": "double", "boolean": "boolean", "date": "date",
                "timestamp": "timestamptz", "time": "time"}  # fmt: skip
"""The meshlake type of a foreign property that has a logical type only."""
SLA = {"freshness": "latency", "min_rows": "minRows", "max_row_change": "maxRowChange",
       "quality_pass_rate": "qualityPassRate", "window": "window"}  # fmt: skip


def custom(name: str, value: Any) -> dict[str, Any]:
    """An ODCS/ODPS custom property of meshlake's."""
    return {"property": name, "value": value, "vendor": VENDOR}


def logical_type(type_text: str) -> str:
    """The ODCS logical type of a meshlake column type."""
    head = type_text.split("<", 1)[0].split("(", 1)[0].split("[", 1)[0].strip().lower()
    if head.startswith("timestamp"):
        return "timestamp"
    if head == "decimal":
        return "number"
    return {"struct": "object", "list": "array", "map": "map"}.get(head) or LOGICAL.get(head, "string")


def _dump(model: Any) -> Any:
    return model.model_dump(mode="json", by_alias=True, exclude_defaults=True)


def export_odcs(
    descriptor: Descriptor, *, server: Mapping[str, str], ports: Sequence[str] | None = None
) -> dict[str, Any]:
    """The ODCS document of `descriptor` (of some `ports` only, when given); `server` is the lake's Iceberg server
    (`catalog`, `catalogUrl` and optionally `warehouse`)."""
    name = descriptor.product_name
    doc: dict[str, Any] = {
        "apiVersion": API_VERSION,
        "kind": "DataContract",
        "id": str(name),
        "name": descriptor.name,
        "version": descriptor.version,
        "status": "active",
        "domain": descriptor.domain,
        "dataProduct": descriptor.name,
    }
    if descriptor.description is not None:
        doc["description"] = {"purpose": descriptor.description}
    doc["servers"] = [{"server": VENDOR, "type": "iceberg", "namespace": str(name), **dict(server)}]
    outputs = [p for p in descriptor.outputs if ports is None or p.name in ports]
    doc["schema"] = [_schema_object(descriptor, port) for port in outputs]
    sla = [
        {"property": SLA[key], "value": value, "element": port.name}
        for port in outputs
        if port.slo is not None
        for key, value in _dump(port.slo).items()
    ]
    if sla:
        doc["slaProperties"] = sla
    doc["team"] = _team(descriptor)
    roles = _roles(outputs)
    if roles:
        doc["roles"] = roles
    extras = [
        custom("meshlakeInputs", [_dump(i) for i in descriptor.inputs]) if descriptor.inputs else None,
        custom("meshlakePipeline", _dump(descriptor.pipeline)) if _dump(descriptor.pipeline) else None,
        custom("meshlakeWaivers", [_dump(w) for w in descriptor.waivers]) if descriptor.waivers else None,
    ]
    if ports is not None:
        extras.append(custom("meshlakePortsExported", list(ports)))
    if any(extras):
        doc["customProperties"] = [e for e in extras if e]
    return doc


def _team(descriptor: Descriptor) -> dict[str, Any]:
    owner = descriptor.owner
    team: dict[str, Any] = {"name": owner.team}
    if owner.email:
        team["members"] = [{"username": owner.email, "role": "owner"}]
    if owner.principals:
        team["customProperties"] = [custom("meshlakePrincipals", [str(p) for p in owner.principals])]
    return team


def _roles(ports: Sequence[OutputPort]) -> list[dict[str, Any]]:
    readers: dict[str, list[str]] = {}
    for port in ports:
        for principal in (port.access.readers or []) if port.access else []:
            readers.setdefault(str(principal), []).append(port.name)
    return [
        {"role": principal, "access": "read", "description": f"reads {', '.join(names)}",
         "customProperties": [custom("meshlakePorts", names)]}
        for principal, names in readers.items()
    ]  # fmt: skip


def _schema_object(descriptor: Descriptor, port: OutputPort) -> dict[str, Any]:
    obj: dict[str, Any] = {
        "name": port.name,
        "physicalName": str(descriptor.product_name.port(port.name)),
        "physicalType": "table",
        "logicalType": "object",
    }
    if port.description is not None:
        obj["description"] = port.description
    if port.tags:
        obj["tags"] = list(port.tags)
    partitions = {clause.column: i for i, clause in enumerate(port.partition_clauses, start=1)}
    column_rules: dict[str, list[dict[str, Any]]] = {}
    table_rules: list[dict[str, Any]] = []
    for index, item in enumerate(port.expectations):
        rule, column = _quality_rule(index, item, {c.name for c in port.columns})
        (column_rules.setdefault(column, []) if column else table_rules).append(rule)
    obj["properties"] = [_property(port, column, partitions, column_rules.get(column.name)) for column in port.columns]
    if table_rules:
        obj["quality"] = table_rules
    extras = [
        custom("meshlakePartitionBy", list(port.partition_by)) if port.partition_by else None,
        custom("meshlakeQuality", _dump(port.quality)) if _dump(port.quality) else None,
        custom("meshlakeRetention", _dump(port.retention)) if port.retention is not None else None,
        custom("meshlakeAccess", _dump(port.access)) if port.access is not None else None,
        custom("meshlakeSlo", {}) if port.slo is not None and not _dump(port.slo) else None,
        custom("meshlakeServe", list(port.serve)) if list(port.serve) != ["table"] else None,
        custom("meshlakeStream", _dump(port.stream)) if port.stream is not None else None,
    ]
    if any(e is not None for e in extras):
        obj["customProperties"] = [e for e in extras if e is not None]
    return obj


def _property(
    port: OutputPort, column: Column, partitions: Mapping[str, int], rules: list[dict[str, Any]] | None
) -> dict[str, Any]:
    prop: dict[str, Any] = {
        "name": column.name,
        "logicalType": logical_type(column.type),
        "physicalType": column.type,
        "required": column.required,
    }
    if column.description is not None:
        prop["description"] = column.description
    if column.classification is not None:
        prop["classification"] = column.classification
    if column.name in port.primary_key:
        prop["primaryKey"] = True
        prop["primaryKeyPosition"] = port.primary_key.index(column.name) + 1
    if column.name in partitions:
        prop["partitioned"] = True
        prop["partitionKeyPosition"] = partitions[column.name]
    if column.mask is not None:
        prop["customProperties"] = [custom("meshlakeMask", column.model_dump(mode="json")["mask"])]
    if rules:
        prop["quality"] = rules
    return prop


def _quality_rule(index: int, item: Mapping[str, Any], columns: set[str]) -> tuple[dict[str, Any], str | None]:
    """An ODCS quality rule for expectation `item` (a library metric when it is exactly one), and its column."""
    ((kind, raw),) = item.items()
    kwargs = dict(raw or {})
    column = kwargs.get("column") if kwargs.get("column") in columns else None
    keys = set(kwargs)
    rule: dict[str, Any]
    if kind == "expect_column_values_to_not_be_null" and keys == {"column"}:
        rule = {"type": "library", "metric": "nullValues", "mustBe": 0}
    elif kind == "expect_column_values_to_be_unique" and keys == {"column"}:
        rule = {"type": "library", "metric": "duplicateValues", "mustBe": 0}
    elif kind == "expect_column_values_to_be_in_set" and keys == {"column", "value_set"}:
        rule = {"type": "library", "metric": "invalidValues", "arguments": {"validValues": kwargs["value_set"]},
                "mustBe": 0}  # fmt: skip
    elif kind == "expect_table_row_count_to_be_between" and _row_count_bounds(kwargs) is not None:
        rule = {"type": "library", "metric": "rowCount", **_row_count_bounds(kwargs)}  # type: ignore[dict-item]
    else:
        rule = {"type": "custom", "engine": "great-expectations",
                "implementation": {"expectation_type": kind, "kwargs": kwargs}}  # fmt: skip
    rule["customProperties"] = [custom("meshlakeExpectation", {"index": index, "expectation": {kind: raw}})]
    return rule, column


def _row_count_bounds(kwargs: Mapping[str, Any]) -> dict[str, Any] | None:
    if not set(kwargs) <= {"min_value", "max_value"}:
        return None
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if isinstance(low, int) and isinstance(high, int) and low < high:
        return {"mustBeBetween": [low, high]}
    if isinstance(low, int) and high is None and "max_value" not in kwargs:
        return {"mustBeGreaterOrEqualTo": low}
    if isinstance(high, int) and low is None and "min_value" not in kwargs:
        return {"mustBeLessOrEqualTo": high}
    return None


# -- import -------------------------------------------------------------------------------------------------------


def odcs_schema() -> dict[str, Any]:
    """The official ODCS JSON Schema, from the PyPI package `open-data-contract-standard` (the `standards` extra)."""
    import json
    from importlib import resources

    from meshlake.errors import require

    package = require("open_data_contract_standard", extra="standards", feature="ODCS import")
    text = resources.files(package).joinpath("schema.json").read_text(encoding="utf-8")
    schema: dict[str, Any] = json.loads(text)
    return schema


def schema_errors(document: Any, schema: Mapping[str, Any]) -> list[tuple[str, str]]:
    """Every error of `document` against a JSON Schema: (path like `schema[0].properties[2].logicalType`, message)."""
    from jsonschema import Draft201909Validator

    validator = Draft201909Validator(schema)
    found = sorted(validator.iter_errors(document), key=lambda e: [str(p) for p in e.absolute_path])
    return [(_json_path(error.absolute_path), _message(error)) for error in found]


def _json_path(parts: Sequence[Any]) -> str:
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _message(error: Any) -> str:
    if error.validator in ("oneOf", "anyOf") and error.context:
        best = min(error.context, key=lambda e: len(list(e.absolute_path)))
        return f"{error.message[:200]} (e.g. {best.message[:200]})"
    return str(error.message)[:300]


def validate_odcs(document: Any, *, file: str) -> None:
    """Raise `StandardDocumentError` listing every error of `document` against the official ODCS schema."""
    errors = schema_errors(document, odcs_schema())
    if errors:
        raise StandardDocumentError(file, errors, standard=f"ODCS {API_VERSION}")


def import_odcs(document: Any, *, file: str = "<odcs>") -> dict[str, Any]:
    """The descriptor (as a `dataproduct.yaml` mapping) an ODCS document describes; validated against the official
    schema first. `StandardDocumentError` lists every schema error, or every field meshlake cannot map."""
    validate_odcs(document, file=file)
    problems: list[tuple[str, str]] = []
    extras = _customs(document.get("customProperties"))
    domain = document.get("domain")
    name = document.get("dataProduct") or document.get("name")
    if not domain:
        problems.append(("domain", "a meshlake product needs a domain"))
    if not name:
        problems.append(("dataProduct", "a meshlake product needs a name (dataProduct or name)"))
    team = document.get("team") if isinstance(document.get("team"), dict) else {}
    owner: dict[str, Any] = {"team": team.get("name") or "unknown"}
    if not team.get("name"):
        problems.append(("team.name", "a meshlake product needs an owner team"))
    members = [m for m in team.get("members", []) if m.get("role") == "owner" and m.get("username")]
    if members:
        owner["email"] = members[0]["username"]
    principals = _customs(team.get("customProperties")).get("meshlakePrincipals")
    if principals:
        owner["principals"] = principals
    data: dict[str, Any] = {
        "apiVersion": "meshlake/v1",
        "domain": domain,
        "name": name,
        "version": document.get("version"),
        "owner": owner,
    }
    purpose = (document.get("description") or {}).get("purpose")
    if purpose is not None:
        data["description"] = purpose
    if "meshlakeInputs" in extras:
        data["inputs"] = extras["meshlakeInputs"]
    sla = [s for s in document.get("slaProperties", []) if s.get("element")]
    data["outputs"] = [
        _port(obj, f"schema[{i}]", [s for s in sla if s["element"] == obj.get("name")], problems)
        for i, obj in enumerate(document.get("schema", []))
    ]
    if "meshlakePipeline" in extras:
        data["pipeline"] = extras["meshlakePipeline"]
    if "meshlakeWaivers" in extras:
        data["waivers"] = extras["meshlakeWaivers"]
    if problems:
        raise StandardDocumentError(file, problems, standard="ODCS (as a meshlake descriptor)")
    return data


_ORDER = itertools.count()
"""Increasing numbers: rules without meshlake's position keep the order they are read in."""


def _customs(items: Any) -> dict[str, Any]:
    return {item["property"]: item.get("value") for item in items or [] if isinstance(item, dict)}


def _port(
    obj: Mapping[str, Any], where: str, sla: list[Mapping[str, Any]], problems: list[tuple[str, str]]
) -> dict[str, Any]:
    extras = _customs(obj.get("customProperties"))
    port: dict[str, Any] = {"name": obj.get("name")}
    if "description" in obj:
        port["description"] = obj["description"]
    props = obj.get("properties", [])
    port["columns"] = [_column(p, f"{where}.properties[{i}]", problems) for i, p in enumerate(props)]
    keyed = sorted((p.get("primaryKeyPosition", -1), i, p["name"]) for i, p in enumerate(props) if p.get("primaryKey"))
    if keyed:
        port["primary_key"] = [name for _, _, name in keyed]
    if "meshlakePartitionBy" in extras:
        port["partition_by"] = extras["meshlakePartitionBy"]
    else:
        parts = sorted(
            (p.get("partitionKeyPosition", -1), i, p["name"]) for i, p in enumerate(props) if p.get("partitioned")
        )
        if parts:
            port["partition_by"] = [name for _, _, name in parts]
    rules: list[tuple[str, Any, str | None]] = [
        (f"{where}.quality[{i}]", r, None) for i, r in enumerate(obj.get("quality", []))
    ]
    for i, p in enumerate(props):
        rules += [
            (f"{where}.properties[{i}].quality[{j}]", r, p.get("name")) for j, r in enumerate(p.get("quality", []))
        ]
    found = [e for e in (_expectation(rule, path, column, problems) for path, rule, column in rules) if e is not None]
    if found:
        port["expectations"] = [item for _, item in sorted(found, key=lambda e: e[0])]
    if "meshlakeQuality" in extras:
        port["quality"] = extras["meshlakeQuality"]
    slo = {key: s.get("value") for s in sla for key, name in SLA.items() if s.get("property") == name}
    if slo or "meshlakeSlo" in extras:
        port["slo"] = slo
    if "meshlakeRetention" in extras:
        port["retention"] = extras["meshlakeRetention"]
    if "meshlakeAccess" in extras:
        port["access"] = extras["meshlakeAccess"]
    if "meshlakeServe" in extras:
        port["serve"] = extras["meshlakeServe"]
    if "meshlakeStream" in extras:
        port["stream"] = extras["meshlakeStream"]
    if "tags" in obj:
        port["tags"] = obj["tags"]
    return port


def _column(prop: Mapping[str, Any], where: str, problems: list[tuple[str, str]]) -> dict[str, Any]:
    column: dict[str, Any] = {"name": prop.get("name")}
    physical, logical = prop.get("physicalType"), prop.get("logicalType")
    kind = None
    if isinstance(physical, str):
        try:
            parse_type(physical)
            kind = physical
        except ValueError:
            kind = None
    if kind is None:
        kind = FROM_LOGICAL.get(str(logical))
    if kind is None:
        hint = "give a meshlake type (e.g. long, string, struct<a:int>) as physicalType"
        problems.append((f"{where}.physicalType", f"no meshlake type for {physical!r} / {logical!r}; {hint}"))
        kind = "string"
    column["type"] = kind
    if prop.get("required"):
        column["required"] = True
    for key in ("description", "classification"):
        if key in prop:
            column[key] = prop[key]
    mask = _customs(prop.get("customProperties")).get("meshlakeMask")
    if mask is not None:
        column["mask"] = mask
    return column


def _expectation(
    rule: Any, where: str, column: str | None, problems: list[tuple[str, str]]
) -> tuple[tuple[int, int], dict[str, Any]] | None:
    """(order, expectation) of an ODCS quality rule: meshlake's own when it carries one, else mapped (after them,
    in document order)."""
    if not isinstance(rule, dict):
        return None
    own = _customs(rule.get("customProperties")).get("meshlakeExpectation")
    if isinstance(own, dict) and "expectation" in own:
        return (0, int(own.get("index", 0))), own["expectation"]
    order = (1, _ORDER.__next__())
    metric, kind = rule.get("metric"), rule.get("type", "library")
    with_column = {"column": column} if column else {}
    if metric == "nullValues" and rule.get("mustBe") == 0 and column:
        return order, {"expect_column_values_to_not_be_null": with_column}
    if metric == "duplicateValues" and rule.get("mustBe") == 0 and column:
        return order, {"expect_column_values_to_be_unique": with_column}
    if metric == "invalidValues" and rule.get("mustBe") == 0 and column and "validValues" in rule.get("arguments", {}):
        return order, {
            "expect_column_values_to_be_in_set": with_column | {"value_set": rule["arguments"]["validValues"]}
        }
    if metric == "rowCount":
        if "mustBeBetween" in rule:
            low, high = rule["mustBeBetween"]
            return order, {"expect_table_row_count_to_be_between": {"min_value": low, "max_value": high}}
        if "mustBeGreaterOrEqualTo" in rule:
            return order, {"expect_table_row_count_to_be_between": {"min_value": rule["mustBeGreaterOrEqualTo"]}}
        if "mustBeLessOrEqualTo" in rule:
            return order, {"expect_table_row_count_to_be_between": {"max_value": rule["mustBeLessOrEqualTo"]}}
    implementation = rule.get("implementation")
    if kind == "custom" and isinstance(implementation, dict) and "expectation_type" in implementation:
        return order, {implementation["expectation_type"]: implementation.get("kwargs") or None}
    if kind == "text":
        return None  # a description for humans: nothing to check
    problems.append((where, "meshlake cannot check this quality rule: use a library metric (nullValues, "
                     "duplicateValues, invalidValues with validValues, rowCount) or type custom with "
                     "implementation {expectation_type, kwargs}"))  # fmt: skip
    return None
