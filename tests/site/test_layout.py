"""The pure-Python layered layout: edges point right, nothing overlaps, long edges get their own slots."""

from __future__ import annotations

import random

from meshlake.site.layout import layout


def test_edges_point_right_and_no_two_nodes_share_a_place() -> None:
    rng = random.Random(7)
    names = [f"n{i:03d}" for i in range(120)]
    edges = [(names[rng.randrange(0, i)], names[i]) for i in range(1, 120) for _ in range(2)]

    placed = layout(names, edges)

    assert set(placed.positions) == set(names)
    assert len(set(placed.positions.values())) == len(names)
    assert all(placed.positions[s][0] < placed.positions[t][0] for s, t in edges)
    slots = [slot for chain in placed.waypoints.values() for slot in chain]
    assert not set(slots) & set(placed.positions.values())  # a long edge never runs through a node's place


def test_a_long_edge_passes_through_a_slot_in_each_column_between() -> None:
    placed = layout(["a", "b", "c", "d"], [("a", "b"), ("b", "c"), ("c", "d"), ("a", "d")])

    xs = [x for x, _ in placed.waypoints[("a", "d")]]
    assert xs == sorted({placed.positions["b"][0], placed.positions["c"][0]})


def test_a_cycle_is_laid_out_and_the_layout_is_the_same_every_time() -> None:
    edges = [("a", "b"), ("b", "c"), ("c", "a"), ("c", "c")]

    first = layout(["a", "b", "c"], edges)
    assert first == layout(["c", "b", "a"], list(reversed(edges)))
    assert len(set(first.positions.values())) == 3
