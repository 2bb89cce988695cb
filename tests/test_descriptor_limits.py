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
