"""`lake.search` and `meshlake search`: one ranking over names, owners, tags, classifications, descriptions."""

from __future__ import annotations

import json

import pytest

from meshlake.errors import DiscoveryError
from meshlake.site.search import build_index, score, search, words
from tests.access.conftest import run_cli
from tests.lineage.mesh import ORDERS, PICKING, REPORT, Mesh


def _found(mesh: Mesh, text: str) -> list[tuple[str, str]]:
    return [(h.kind, h.address) for h in mesh.lake.search(text)]


def test_search_finds_products_ports_and_columns_by_each_field(mesh: Mesh) -> None:
    assert ("column", f"{ORDERS}.customer_email") in _found(mesh, "email")  # column name
    assert ("column", f"{ORDERS}.customer_email") in _found(mesh, "pii")  # classification
    assert ("product", "sales.orders") in _found(mesh, "storefront")  # owner team
    assert ("product", "sales.orders") in _found(mesh, "storefront@example.com")  # owner email
    assert ("port", REPORT) in _found(mesh, "finance")  # tag (and domain)
    assert ("port", PICKING) in _found(mesh, "picked per hub")  # description
    assert ("column", f"{ORDERS}.order_id") in _found(mesh, "order key")  # column description


def test_every_word_must_match_and_an_exact_word_outranks_a_prefix(mesh: Mesh) -> None:
    assert _found(mesh, "orders zebra") == []
    hits = mesh.lake.search("hub")
    exact = next(h for h in hits if h.address == f"{PICKING}.hub")
    assert all(h.score <= exact.score for h in hits)
    assert score({"hubs": 10}, ["hub"]) == 10 and score({"hub": 10}, ["hub"]) == 20


def test_ties_order_products_before_ports_before_columns_then_by_address() -> None:
    from meshlake.site.search import Entry

    index = [
        Entry("column", "a.b.c.x", "x", "", {"x": 10}),
        Entry("port", "a.b.z", "z", "", {"x": 10}),
        Entry("product", "a.b", "b", "", {"x": 10}),
        Entry("port", "a.b.c", "c", "", {"x": 10}),
    ]
    assert [h.address for h in search(index, "x")] == ["a.b", "a.b.c", "a.b.z", "a.b.c.x"]


def test_the_cli_prints_the_same_ranked_results_as_lake_search(mesh: Mesh) -> None:
    (mesh.home.parent / "meshlake.yaml").write_text(f"home: {mesh.home}\n", encoding="utf-8")
    result = run_cli(f"--config={mesh.home.parent / 'meshlake.yaml'}", "--json", "search", "orders", "amount")

    assert result.exit_code == 0, result.output
    assert json.loads(result.output) == [h.to_dict() for h in mesh.lake.search("orders amount")]
    assert len(json.loads(result.output)) >= 2


def test_search_refuses_an_overlong_query_and_a_bad_limit(mesh: Mesh) -> None:
    with pytest.raises(DiscoveryError):
        mesh.lake.search("x" * 201)
    with pytest.raises(DiscoveryError):
        mesh.lake.search("orders", limit=0)


def test_a_query_without_words_finds_nothing(mesh: Mesh) -> None:
    assert mesh.lake.search("  <>!! ") == [] and words("<script>") == ["script"]


def test_the_index_holds_every_product_port_and_column(mesh: Mesh) -> None:
    index = build_index(p.descriptor for p in mesh.lake.products())
    kinds = [e.kind for e in index]
    assert kinds.count("product") == 3 and kinds.count("port") == 3 and kinds.count("column") == 7
