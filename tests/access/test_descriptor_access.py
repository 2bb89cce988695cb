"""Descriptor policy fields: owners, port access, classifications and masks, checked at load with file/line/field."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from meshlake.contract.access import MASK_ACTIONS, ColumnMask
from meshlake.contract.descriptor import Descriptor, load_descriptor, parse_descriptor
from meshlake.contract.principals import EVERYONE, Principal
from meshlake.contract.row_filters import RowFilterError, validate_row_filter
from meshlake.errors import DescriptorError

POLICED = """\
apiVersion: meshlake/v1
domain: sales
name: customers
version: 1.0.0
owner: {team: sales_data, principals: [group:sales, user:alice]}
outputs:
  - name: accounts
    access:
      readers: [group:analytics, product:marketing.campaigns, "*"]
      unmasked: [group:support]
      row_filters:
        - {principals: [group:analytics], where: "region = 'eu'"}
        - {principals: ["*"], where: "active"}
    columns:
      - {name: customer_id, type: long, required: true}
      - {name: region, type: string}
      - {name: active, type: boolean}
      - {name: email, type: string, classification: pii, mask: mask-alphanum}
      - {name: card, type: string, classification: confidential, mask: show-last-4}
      - {name: born_on, type: date, classification: pii, mask: truncate-to-year}
      - {name: is_eu, type: string, mask: {apply-expression: "region = 'eu'"}}
      - {name: notes, type: string, classification: internal}
"""


def error_for(text: str, tmp_path: Path) -> DescriptorError:
    path = tmp_path / "dataproduct.yaml"
    path.write_text(text)
    with pytest.raises(DescriptorError) as caught:
        load_descriptor(path)
    assert caught.value.file == str(path)
    return caught.value


def test_policy_fields_parse_into_typed_models() -> None:
    descriptor = parse_descriptor(POLICED)
    assert descriptor.owners == (Principal.parse("group:sales"), Principal.parse("user:alice"))
    port = descriptor.output("accounts")
    assert port.access is not None
    assert port.access.readers == [
        Principal.parse("group:analytics"),
        Principal.parse("product:marketing.campaigns"),
        EVERYONE,
    ]
    assert port.access.unmasked == [Principal.parse("group:support")]
    assert [(r.principals, r.where) for r in port.access.row_filters] == [
        ([Principal.parse("group:analytics")], "region = 'eu'"),
        ([EVERYONE], "active"),
    ]
    assert port.column("email").classification == "pii"
    assert port.column("email").mask == ColumnMask(action="mask-alphanum")
    assert port.column("is_eu").mask == ColumnMask(action="apply-expression", expression="region = 'eu'")
    assert port.column("notes").mask is None


def test_policy_fields_survive_the_stored_json() -> None:
    descriptor = parse_descriptor(POLICED)
    stored = json.loads(descriptor.to_json())
    assert stored["owner"]["principals"] == ["group:sales", "user:alice"]
    assert stored["outputs"][0]["access"]["readers"] == ["group:analytics", "product:marketing.campaigns", "*"]
    assert stored["outputs"][0]["columns"][6]["mask"] == {"apply-expression": "region = 'eu'"}
    assert Descriptor.from_json(descriptor.to_json()) == descriptor


def test_owners_default_to_the_products_own_principal() -> None:
    descriptor = parse_descriptor(POLICED.replace(", principals: [group:sales, user:alice]", ""))
    assert descriptor.owners == (Principal.parse("product:sales.customers"),)


def test_descriptor_stored_before_policy_fields_existed_still_loads() -> None:
    data = json.loads(parse_descriptor(POLICED).to_json())
    del data["owner"]["principals"]
    del data["outputs"][0]["access"]
    for column in data["outputs"][0]["columns"]:
        del column["mask"]
        column["classification"] = None
    descriptor = Descriptor.from_json(json.dumps(data))
    assert descriptor.owners == (Principal.parse("product:sales.customers"),)
    assert descriptor.output("accounts").access is None


def test_port_without_access_block_leaves_it_to_the_mesh() -> None:
    text = POLICED.split("    access:", maxsplit=1)[0] + "    columns:" + POLICED.split("    columns:")[1]
    assert parse_descriptor(text).output("accounts").access is None


def test_empty_readers_list_means_owners_only_and_is_kept() -> None:
    text = POLICED.replace('readers: [group:analytics, product:marketing.campaigns, "*"]', "readers: []")
    access = parse_descriptor(text).output("accounts").access
    assert access is not None and access.readers == []


@pytest.mark.parametrize(
    ("old", "new", "line", "field", "problem"),
    [
        ("principals: [group:sales, user:alice]", "principals: []", 5, "owner.principals", "at least one owner"),
        ("principals: [group:sales, user:alice]", 'principals: ["*"]', 5, "owner.principals[0]", "only grant reading"),
        ("principals: [group:sales, user:alice]", "principals: [sales]", 5, "owner.principals[0]", "no kind"),
        ("readers: [group:analytics,", "readers: [team:analytics,", 9, "outputs[0].access.readers[0]", "unknown kind"),
        ("readers: [group:analytics,", "readers: [user:*,", 9, "outputs[0].access.readers[0]", "stands alone"),
        ("unmasked: [group:support]", 'unmasked: ["*"]', 10, "outputs[0].access.unmasked[0]", "only grant reading"),
        (
            "product:marketing.campaigns",
            "product:marketing",
            9,
            "outputs[0].access.readers[1]",
            "DOMAIN.PRODUCT",
        ),
        (
            "{principals: [group:analytics], where",
            "{principals: [], where",
            12,
            "outputs[0].access.row_filters[0].principals",
            "at least 1",
        ),
        ("where: \"region = 'eu'\"", 'where: ""', 12, "outputs[0].access.row_filters[0].where", "empty"),
        (
            "where: \"region = 'eu'\"",
            'where: "1=1; DROP TABLE sales.customers.accounts"',
            12,
            "outputs[0].access.row_filters[0].where",
            "';' is not allowed",
        ),
        ("    access:", "    acess:", 8, "outputs[0].acess", "unknown field"),
        ("      unmasked:", "      unmask:", 10, "outputs[0].access.unmask", "unknown field"),
        ("classification: pii, mask: mask-alphanum", "classification: secret", 18, None, "unknown classification"),
        ("mask: mask-alphanum", "mask: blur", 18, "outputs[0].columns[3].mask", "unknown mask action 'blur'"),
        ("mask: mask-alphanum", "mask: apply-expression", 18, "outputs[0].columns[3].mask", "needs its expression"),
        (
            "mask: {apply-expression: \"region = 'eu'\"}",
            'mask: {apply-expression: "true; DROP"}',
            21,
            "outputs[0].columns[6].mask.apply-expression",
            "';' is not allowed",
        ),
        (
            "mask: {apply-expression: \"region = 'eu'\"}",
            "mask: {apply-expression: \"region = 'eu'\", extra: 1}",
            21,
            "outputs[0].columns[6].mask",
            "action name",
        ),
        (
            "mask: {apply-expression: \"region = 'eu'\"}",
            "mask: {action: mask-alphanum, expression: x}",
            21,
            "outputs[0].columns[6].mask",
            "only apply-expression takes an expression",
        ),
        ("mask: truncate-to-year", "mask: mask-alphanum", 20, "outputs[0].columns[5].mask", "applies to string"),
    ],
)
def test_bad_policy_field_names_file_line_and_field(
    old: str, new: str, line: int, field: str | None, problem: str, tmp_path: Path
) -> None:
    assert old in POLICED
    error = error_for(POLICED.replace(old, new, 1), tmp_path)
    assert problem in error.problem
    assert error.line == line
    if field is not None:
        assert error.field == field


TYPES = [
    "boolean",
    "int",
    "long",
    "float",
    "double",
    "decimal(10,2)",
    "string",
    "binary",
    "date",
    "time",
    "timestamp",
    "timestamptz",
    "uuid",
    "list<string>",
    "map<string,long>",
    "struct<a: int, b: string>",
]
APPLICABLE = {
    "mask-alphanum": {"string"},
    "show-first-4": {"string"},
    "show-last-4": {"string"},
    "truncate-to-year": {"date", "timestamp", "timestamptz"},
    "truncate-to-month": {"date", "timestamp", "timestamptz"},
    "sha-256-global": {"string", "int", "long", "binary"},
    "sha-256-query-local": {"string", "int", "long", "binary"},
    "mask-to-default": set(TYPES),
    "replace-with-null": set(TYPES),
    "apply-expression": set(TYPES),
}
"""The Iceberg REST specification's "Applicable to" set of each action, over the contract's types."""


def _one_column(type_text: str, mask: Any, *, required: bool = False) -> str:
    column = {"name": "value", "type": type_text, "required": required, "mask": mask}
    data = {
        "apiVersion": "meshlake/v1",
        "domain": "sales",
        "name": "customers",
        "version": "1.0.0",
        "owner": {"team": "sales_data"},
        "outputs": [{"name": "accounts", "columns": [column]}],
    }
    return yaml.safe_dump(data, sort_keys=False)


def test_the_table_covers_every_action() -> None:
    assert set(APPLICABLE) == set(MASK_ACTIONS)


@pytest.mark.parametrize("action", MASK_ACTIONS)
@pytest.mark.parametrize("type_text", TYPES)
def test_mask_applies_exactly_to_the_specs_types(action: str, type_text: str) -> None:
    mask: Any = {"apply-expression": "value IS NULL"} if action == "apply-expression" else action
    text = _one_column(type_text, mask)
    if type_text in APPLICABLE[action]:
        column = parse_descriptor(text).output("accounts").column("value")
        assert column.mask is not None and column.mask.action == action
    else:
        with pytest.raises(DescriptorError) as caught:
            parse_descriptor(text)
        assert caught.value.field == "outputs[0].columns[0].mask"
        assert f"mask '{action}' applies to" in caught.value.problem


def test_replace_with_null_is_refused_on_a_required_column() -> None:
    with pytest.raises(DescriptorError) as caught:
        parse_descriptor(_one_column("string", "replace-with-null", required=True))
    assert caught.value.field == "outputs[0].columns[0].mask"
    assert "required" in caught.value.problem
    assert parse_descriptor(_one_column("string", "mask-to-default", required=True)).outputs[0].columns[0].mask


# -- the row-filter seam ----------------------------------------------------------------------------
COLUMNS = {"region": "string", "amount": "double", "active": "boolean"}


def test_validate_row_filter_returns_a_good_filter() -> None:
    assert validate_row_filter("region = 'eu' AND amount > 10", COLUMNS) == "region = 'eu' AND amount > 10"


@pytest.mark.parametrize(
    ("where", "problem"),
    [
        ("", "empty"),
        ("   ", "empty"),
        ("1=1; DROP TABLE x", "';' is not allowed"),
        ("region = 'eu';", "';' is not allowed"),
        ("region = 'eu'\x00", "control character U+0000"),
        (5, "is text"),
    ],
)
def test_validate_row_filter_refuses_what_is_never_a_filter(where: object, problem: str) -> None:
    with pytest.raises(RowFilterError) as caught:
        validate_row_filter(where, COLUMNS)
    assert problem in caught.value.problem
    assert isinstance(caught.value, ValueError)


def test_row_filter_naming_an_unknown_column_is_refused() -> None:
    with pytest.raises(RowFilterError) as caught:
        validate_row_filter("country = 'eu'", COLUMNS)
    assert caught.value.column == "country"


def test_row_filter_comparing_a_string_column_with_a_number_is_refused() -> None:
    with pytest.raises(RowFilterError) as caught:
        validate_row_filter("region = 5", COLUMNS)
    assert caught.value.column == "region"


def test_row_filter_calling_sql_functions_is_refused() -> None:
    with pytest.raises(RowFilterError):
        validate_row_filter("region = 'eu' OR length(read_text('/etc/passwd')) > 0", COLUMNS)


def test_row_filter_with_sql_comment_is_refused() -> None:
    with pytest.raises(RowFilterError):
        validate_row_filter("region = 'eu' OR 1=1 --", COLUMNS)


def test_descriptor_row_filter_on_unknown_column_names_the_field(tmp_path: Path) -> None:
    error = error_for(POLICED.replace("where: \"region = 'eu'\"", "where: \"country = 'eu'\""), tmp_path)
    assert error.field == "outputs[0].access.row_filters[0].where"


def test_descriptor_apply_expression_with_type_mismatch_names_the_field(tmp_path: Path) -> None:
    error = error_for(
        POLICED.replace("{apply-expression: \"region = 'eu'\"}", '{apply-expression: "region = 5"}'), tmp_path
    )
    assert error.field == "outputs[0].columns[6].mask.apply-expression"
