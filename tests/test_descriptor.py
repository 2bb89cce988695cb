"""dataproduct.yaml: typed models, and errors that name the file, line and field."""

from __future__ import annotations

from pathlib import Path

import pytest
from pyiceberg.types import DecimalType, ListType, MapType, StructType, TimestamptzType

from meshlake.contract.descriptor import load_descriptor, parse_descriptor
from meshlake.contract.schema import port_partition_spec, port_schema
from meshlake.contract.types import format_type, parse_type
from meshlake.errors import DescriptorError

GOOD = """\
apiVersion: meshlake/v1
domain: logistics
name: shipments
version: 1.4.0
owner: {team: logistics_data, email: logistics-data@example.com}
description: Every parcel handed to a drone.
outputs:
  - name: daily
    columns:
      - {name: shipment_id, type: string, required: true, description: Unique shipment key}
      - {name: shipped_at, type: timestamptz, required: true}
      - {name: weight_kg, type: double}
    primary_key: [shipment_id]
    partition_by: [day(shipped_at)]
    expectations:
      - expect_column_values_to_not_be_null: {column: shipment_id}
"""


def error_for(text: str, tmp_path: Path) -> DescriptorError:
    path = tmp_path / "dataproduct.yaml"
    path.write_text(text)
    with pytest.raises(DescriptorError) as caught:
        load_descriptor(path)
    assert caught.value.file == str(path)
    return caught.value


def test_good_descriptor_parses() -> None:
    descriptor = parse_descriptor(GOOD)
    assert descriptor.product_name.namespace == ("logistics", "shipments")
    port = descriptor.output("daily")
    assert port.primary_key == ["shipment_id"]
    assert [c.name for c in port.columns] == ["shipment_id", "shipped_at", "weight_kg"]
    assert port.expectation_list[0].type == "expect_column_values_to_not_be_null"


def test_load_accepts_the_product_folder(tmp_path: Path) -> None:
    (tmp_path / "dataproduct.yaml").write_text(GOOD)
    assert load_descriptor(tmp_path).name == "shipments"


@pytest.mark.parametrize(
    ("change", "line", "field"),
    [
        (("    columns:", "    colums:"), 9, "outputs[0].colums"),
        (("type: double}", "type: dubble}"), 12, "outputs[0].columns[2].type"),
        (("name: weight_kg", "name: Weight-KG"), 12, "outputs[0].columns[2].name"),
        (("name: weight_kg", "name: shipped_at"), 12, "outputs[0].columns[2].name"),
        (("primary_key: [shipment_id]", "primary_key: [nope]"), 13, "outputs[0].primary_key[0]"),
        (("partition_by: [day(shipped_at)]", "partition_by: [day(nope)]"), 14, "outputs[0].partition_by[0]"),
        (
            ("partition_by: [day(shipped_at)]", "partition_by: [fortnight(shipped_at)]"),
            14,
            "outputs[0].partition_by[0]",
        ),
        (("{column: shipment_id}", "{column: ghost}"), 16, None),
        (("expect_column_values_to_not_be_null", "expect_column_values_to_be_purple"), 16, None),
        (("version: 1.4.0", "version: one"), 4, "version"),
        (("domain: logistics", "domain: ../etc"), 2, "domain"),
        (("apiVersion: meshlake/v1", "apiVersion: meshlake/v9"), 1, "apiVersion"),
    ],
)
def test_errors_name_file_line_and_field(change: tuple[str, str], line: int, field: str | None, tmp_path: Path) -> None:
    old, new = change
    assert old in GOOD
    error = error_for(GOOD.replace(old, new, 1), tmp_path)
    assert error.line == line
    if field is not None:
        assert error.field == field
    assert f":{line}:" in str(error)


def test_unknown_expectation_lists_what_is_supported(tmp_path: Path) -> None:
    error = error_for(GOOD.replace("expect_column_values_to_not_be_null", "expect_magic"), tmp_path)
    assert "expect_column_values_to_be_between" in error.problem
    assert "docs/expectations.md" in error.problem and "…" not in error.problem  # named whole, not shortened


def test_expectation_on_missing_column_names_it(tmp_path: Path) -> None:
    error = error_for(GOOD.replace("{column: shipment_id}", "{column: ghost}"), tmp_path)
    assert "ghost" in error.problem
    assert error.field is not None and error.field.endswith("column")


def test_malformed_yaml_names_the_line(tmp_path: Path) -> None:
    error = error_for(GOOD.replace("  - name: daily", "  - name: [daily"), tmp_path)
    assert error.line is not None and error.line >= 8


def test_duplicate_yaml_key_is_refused(tmp_path: Path) -> None:
    error = error_for(GOOD + "domain: again\n", tmp_path)
    assert error.line == 17
    assert "duplicate" in error.problem


def test_missing_field_is_named(tmp_path: Path) -> None:
    error = error_for(GOOD.replace("version: 1.4.0\n", ""), tmp_path)
    assert error.field == "version"
    assert "missing" in error.problem


def test_primary_key_must_be_required(tmp_path: Path) -> None:
    error = error_for(GOOD.replace("primary_key: [shipment_id]", "primary_key: [weight_kg]"), tmp_path)
    assert "required" in error.problem


def test_missing_file_is_a_descriptor_error(tmp_path: Path) -> None:
    with pytest.raises(DescriptorError):
        load_descriptor(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    "text",
    [
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
        "struct<a: int, b: list<double>>",
        "list<struct<x: decimal(38,0), y: map<string,timestamptz>>>",
    ],
)
def test_every_contract_type_round_trips(text: str) -> None:
    assert format_type(parse_type(text)).replace(" ", "") == text.replace(" ", "")


def test_nested_types_parse_to_iceberg_types() -> None:
    parsed = parse_type("struct<a: list<decimal(9,3)>, m: map<string,timestamptz>>")
    assert isinstance(parsed, StructType)
    inner = parsed.fields[0].field_type
    assert isinstance(inner, ListType) and inner.element_type == DecimalType(9, 3)
    mapping = parsed.fields[1].field_type
    assert isinstance(mapping, MapType) and mapping.value_type == TimestamptzType()


@pytest.mark.parametrize("text", ["decimal(40,2)", "list<>", "struct<a int>", "map<string>", "varchar", "list<string"])
def test_bad_types_are_refused(text: str, tmp_path: Path) -> None:
    error = error_for(GOOD.replace("type: double}", f"type: '{text}'}}"), tmp_path)
    assert error.field == "outputs[0].columns[2].type"


@pytest.mark.parametrize(
    ("clause", "transform"),
    [
        ("shipment_id", "identity"),
        ("identity(shipment_id)", "identity"),
        ("year(shipped_at)", "year"),
        ("month(shipped_at)", "month"),
        ("day(shipped_at)", "day"),
        ("hour(shipped_at)", "hour"),
        ("bucket[16](shipment_id)", "bucket[16]"),
        ("truncate[4](shipment_id)", "truncate[4]"),
    ],
)
def test_partition_transforms_build_specs(clause: str, transform: str) -> None:
    port = parse_descriptor(GOOD.replace("[day(shipped_at)]", f"['{clause}']")).output("daily")
    schema = port_schema(port)
    spec = port_partition_spec(port, schema)
    assert str(spec.fields[0].transform) == transform
    assert schema.find_field(spec.fields[0].source_id).name == clause.rsplit("(", maxsplit=1)[-1].rstrip(")")


def test_schema_carries_required_docs_and_identifier_fields() -> None:
    schema = port_schema(parse_descriptor(GOOD).output("daily"))
    assert schema.find_field("shipment_id").required
    assert schema.find_field("shipment_id").doc == "Unique shipment key"
    assert not schema.find_field("weight_kg").required
    assert schema.identifier_field_names() == {"shipment_id"}


def test_unquoted_bracket_clause_gets_a_quoting_hint(tmp_path: Path) -> None:
    error = error_for(GOOD.replace("day(shipped_at)", "bucket[16](shipment_id)"), tmp_path)
    assert error.line == 14
    assert "quote" in error.problem


def test_day_transform_on_a_string_is_refused(tmp_path: Path) -> None:
    from meshlake.contract.partitioning import PartitionClause

    error = error_for(GOOD.replace("day(shipped_at)", "day(shipment_id)"), tmp_path)
    assert (error.line, error.field) == (14, "outputs[0].partition_by[0]")
    assert PartitionClause.parse("bucket[8](x)").param == 8
