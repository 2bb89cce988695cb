"""Descriptors that attack the parser (alias bombs, deep nesting, bad bytes) fail fast with a `DescriptorError`."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from meshlake.contract import yamlsource
from meshlake.contract.descriptor import load_descriptor, parse_descriptor
from meshlake.errors import DescriptorError

HEAD = """\
apiVersion: meshlake/v1
domain: logistics
name: shipments
version: 1.0.0
owner: {team: logistics_data}
outputs:
  - name: daily
    columns:
      - {name: id, type: long, required: true}
"""


def alias_bomb(levels: int) -> str:
    """Each level is a list of nine aliases of the level below: 9**levels values in a few hundred bytes."""
    lines = ["x0: &x0 [a, a, a, a, a, a, a, a, a]"]
    lines += [f"x{i}: &x{i} [{', '.join([f'*x{i - 1}'] * 9)}]" for i in range(1, levels + 1)]
    return HEAD + "description:\n" + "\n".join(f"  {line}" for line in lines) + "\n"


def count_node_visits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count how many nodes the checks walk (the work, not the time it takes)."""
    visits = [0]
    children_of = yamlsource._children_of

    def counted(node: yaml.Node) -> list[tuple[str | int, yaml.Node]]:
        visits[0] += 1
        return children_of(node)

    monkeypatch.setattr(yamlsource, "_children_of", counted)
    return visits


@pytest.mark.parametrize("levels", [8, 12])
def test_an_alias_bomb_is_refused_after_walking_each_node_once(
    levels: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "dataproduct.yaml"
    path.write_text(alias_bomb(levels), encoding="utf-8")
    visits = count_node_visits(monkeypatch)
    with pytest.raises(DescriptorError) as caught:
        load_descriptor(path)
    assert caught.value.file == str(path)
    assert caught.value.line is not None and caught.value.line > 9
    assert "aliases expand" in caught.value.problem
    distinct_nodes = 2 + 10 + 20 * (levels + 1) + 10 * (levels + 1)  # far fewer than 9**levels
    assert visits[0] <= 2 * distinct_nodes


def test_aliases_that_expand_a_little_are_accepted() -> None:
    text = HEAD + "      - {name: day, type: date, required: true}\n    primary_key: &key [id, day]\n"
    text += "    expectations:\n      - expect_compound_columns_to_be_unique: {column_list: *key}\n"
    port = parse_descriptor(text).output("daily")
    assert port.primary_key == ["id", "day"]
    assert port.expectations[0]["expect_compound_columns_to_be_unique"] == {"column_list": ["id", "day"]}


def test_an_alias_chain_nesting_past_the_bound_is_refused() -> None:
    lines = ["x0: &x0 [a]"] + [f"x{i}: &x{i} [*x{i - 1}]" for i in range(1, 200)]
    text = HEAD + "description:\n" + "\n".join(f"  {line}" for line in lines) + "\n"
    with pytest.raises(DescriptorError) as caught:
        parse_descriptor(text, file="chain.yaml")
    assert caught.value.file == "chain.yaml"
    assert "nests deeper" in caught.value.problem


def test_a_recursive_alias_is_refused() -> None:
    text = HEAD + "description: &loop [a, *loop]\n"
    with pytest.raises(DescriptorError) as caught:
        parse_descriptor(text, file="loop.yaml")
    assert caught.value.line == 10


@pytest.mark.parametrize(
    ("nested", "line"),
    [
        ("description: " + "[" * 1000 + "]" * 1000 + "\n", 10),
        ("description: " + "{a: " * 1000 + "b" + "}" * 1000 + "\n", 10),
        ("description:\n" + "".join("  " * depth + f"k{depth}:\n" for depth in range(1, 1000)), 10 + 31),
    ],
    ids=["flow-lists", "flow-mappings", "block-mappings"],
)
def test_yaml_nested_a_thousand_levels_is_a_descriptor_error(nested: str, line: int, tmp_path: Path) -> None:
    path = tmp_path / "dataproduct.yaml"
    path.write_text(HEAD + nested, encoding="utf-8")
    with pytest.raises(DescriptorError) as caught:
        load_descriptor(path)
    assert caught.value.file == str(path)
    assert caught.value.line == line
    assert "nests deeper" in caught.value.problem


def test_a_non_utf8_descriptor_names_the_file_line_and_byte(tmp_path: Path) -> None:
    path = tmp_path / "dataproduct.yaml"
    path.write_bytes(HEAD.encode() + b"description: caf\x80\n")
    with pytest.raises(DescriptorError) as caught:
        load_descriptor(path)
    assert caught.value.file == str(path)
    assert caught.value.line == 10
    assert "0x80" in caught.value.problem
    assert f"byte offset {len(HEAD) + len('description: caf')}" in caught.value.problem


def test_a_control_character_names_its_line(tmp_path: Path) -> None:
    path = tmp_path / "dataproduct.yaml"
    path.write_text(HEAD + "description: a\x07b\n", encoding="utf-8")
    with pytest.raises(DescriptorError) as caught:
        load_descriptor(path)
    assert caught.value.line == 10


@pytest.mark.parametrize(
    ("scalar", "field"),
    [
        ('description: "caf\\uD800"', "description"),
        (
            'outputs: [{name: daily, description: "\\uDC00", columns: [{name: id, type: long}]}]',
            "outputs[0].description",
        ),
    ],
)
def test_a_lone_surrogate_escape_is_refused_where_it_is_written(scalar: str, field: str) -> None:
    """Half a UTF-16 surrogate pair is no character: stored, it made the product unreadable for every command."""
    head = HEAD if scalar.startswith("description") else HEAD[: HEAD.index("outputs:")]
    with pytest.raises(DescriptorError) as caught:
        parse_descriptor(head + scalar + "\n", file="surrogate.yaml")
    assert caught.value.line == head.count("\n") + 1
    assert caught.value.field == field
    assert "surrogate" in caught.value.problem


@pytest.mark.parametrize(
    ("expectation", "argument"),
    [
        ("expect_column_values_to_be_between: {column: id, min_value: .nan}", "min_value"),
        ("expect_table_columns_to_match_set: {column_set: [id, !!binary /wA=]}", "column_set"),
    ],
)
def test_an_expectation_argument_json_cannot_hold_is_refused_not_stored_changed(
    expectation: str, argument: str
) -> None:
    """The catalog stores the descriptor as JSON, which has no NaN or bytes: a NaN bound was stored as null (a
    lone bound left a product no command could read), and bytes failed the deploy with a bare
    UnicodeDecodeError (or were stored as text)."""
    text = HEAD + f"    expectations:\n      - {expectation}\n"
    with pytest.raises(DescriptorError) as caught:
        parse_descriptor(text, file="arguments.yaml")
    assert caught.value.line == 11
    assert caught.value.field is not None and caught.value.field.endswith(argument)


def test_an_infinite_expectation_argument_is_stored_as_it_was() -> None:
    """Infinities bound a histogram's open ends (GE's partition objects); pydantic stored them as null."""
    text = HEAD + "    expectations:\n      - expect_column_values_to_be_between: {column: id, min_value: -.inf}\n"
    descriptor = parse_descriptor(text, file="open.yaml")
    stored = type(descriptor).from_json(descriptor.to_json())
    assert stored.outputs[0].expectations[0]["expect_column_values_to_be_between"]["min_value"] == float("-inf")
    assert stored == descriptor


def test_a_value_set_holding_nan_is_refused() -> None:
    text = HEAD + "      - {name: x, type: double}\n"
    text += "    expectations:\n      - expect_column_values_to_be_in_set: {column: x, value_set: [1.5, .nan]}\n"
    with pytest.raises(DescriptorError) as caught:
        parse_descriptor(text, file="set.yaml")
    assert caught.value.field == "outputs[0].expectations[0].expect_column_values_to_be_in_set.value_set"


def test_a_primary_key_naming_a_column_twice_is_refused(tmp_path: Path) -> None:
    """Accepted, it deployed, and then deploying the same file again was refused as a breaking change."""
    text = HEAD + "      - {name: day, type: date, required: true}\n    primary_key: [id, day, id]\n"
    with pytest.raises(DescriptorError) as caught:
        parse_descriptor(text, file="key.yaml")
    assert caught.value.field == "outputs[0].primary_key[2]"
    assert caught.value.line == 11


def test_a_descriptor_error_shortens_a_huge_value_it_quotes() -> None:
    text = HEAD.replace("type: long", "type: " + "x" * 70_000)
    with pytest.raises(DescriptorError) as caught:
        parse_descriptor(text, file="huge.yaml")
    message = str(caught.value)
    assert len(message) < 2_000
    assert message.startswith("huge.yaml:9: unknown type 'xxx")
    assert message.endswith("(field 'outputs[0].columns[0].type'). Fix the descriptor and run the command again.")
    assert " … " in caught.value.problem


def test_the_designs_own_owner_is_accepted() -> None:
    text = HEAD.replace("{team: logistics_data}", "{team: logistics-data, email: logistics-data@example.com}")
    assert parse_descriptor(text).owner.team == "logistics-data"


@pytest.mark.parametrize("team", ["Logistics Data", "logistics.data", "team_42", "Équipe logistique", "7 seas"])
def test_a_team_is_a_display_name(team: str) -> None:
    assert parse_descriptor(HEAD.replace("logistics_data", f"'{team}'")).owner.team == team


@pytest.mark.parametrize(
    "team",
    ["", "   ", " leading", "trailing ", "ops\x1b[2J", "ops\nteam", "ops;drop", "x" * 101, "-dash"],
    ids=["empty", "blank", "leading-space", "trailing-space", "escape", "newline", "semicolon", "long", "dash-first"],
)
def test_an_unreasonable_team_name_is_refused(team: str, tmp_path: Path) -> None:
    data: dict[str, Any] = yaml.safe_load(HEAD)
    data["owner"]["team"] = team
    path = tmp_path / "dataproduct.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    with pytest.raises(DescriptorError) as caught:
        load_descriptor(path)
    assert caught.value.field == "owner.team"
    assert caught.value.line is not None


@pytest.mark.parametrize(
    "regex",
    ["a{4294967296}", "x{1,99999999999}", "(" * 1000 + "a" + ")" * 1000],
    ids=["repeat-count-past-2**32", "repeat-range-past-2**32", "groups-nested-1000-deep"],
)
def test_a_regex_python_cannot_compile_is_a_descriptor_error(regex: str) -> None:
    """Python's parser raises OverflowError and RecursionError (not re.error) for these: they escaped as such."""
    text = HEAD + "      - {name: code, type: string}\n    expectations:\n"
    text += f"      - expect_column_values_to_match_regex: {{column: code, regex: '{regex}'}}\n"
    with pytest.raises(DescriptorError) as caught:
        parse_descriptor(text, file="regex.yaml")
    assert caught.value.field == "outputs[0].expectations[0].expect_column_values_to_match_regex.regex"
    assert caught.value.line == 12
