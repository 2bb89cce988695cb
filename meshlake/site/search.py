"""Search over products, ports and columns: names, owners, tags, classifications and descriptions.

The index is built from descriptors only. A query's words are matched against each entry's terms: a term equal
to a word scores twice the field's weight, a term starting with it once; an entry matches when every word
matches some term, and scores the sum of each word's best match. Results are ordered by score, then products
before ports before columns, then address. The site's script (`site/assets.py`) ranks with the same rule over
the same index, so the browser and `lake.search` agree.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from meshlake.contract.descriptor import Descriptor

WEIGHTS = {"name": 10, "address": 8, "tag": 6, "owner": 5, "column": 4, "classification": 3, "description": 1}
KINDS = ("product", "port", "column")
_WORD = re.compile(r"[a-z0-9]+")
MAX_QUERY = 200


def words(text: str) -> list[str]:
    """Lower-case words of `text` (letters and digits), in order, each once."""
    return list(dict.fromkeys(_WORD.findall(text.lower())))


@dataclass(frozen=True)
class Entry:
    kind: str
    address: str
    title: str
    summary: str
    terms: dict[str, int]

    def to_json(self) -> dict[str, Any]:
        return {"k": self.kind, "a": self.address, "s": self.summary, "t": sorted(self.terms.items())}


@dataclass(frozen=True)
class SearchHit:
    """One result: what it is, its address (`domain.product`, `…port`, `…port.column`), score and summary."""

    kind: str
    address: str
    score: int
    summary: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "address": self.address, "score": self.score, "summary": self.summary}


def _terms(fields: Iterable[tuple[str, str | None]]) -> dict[str, int]:
    terms: dict[str, int] = {}
    for field, text in fields:
        if not text:
            continue
        weight = WEIGHTS[field]
        pieces = words(text)
        if field in ("name", "address", "tag", "column"):
            pieces.append(text.lower())  # the whole name too: customer_email, sales.orders.placed
        for term in pieces:
            terms[term] = max(terms.get(term, 0), weight)
    return terms


def build_index(descriptors: Iterable[Descriptor]) -> list[Entry]:
    """The search entries of every product, its output ports and their columns, sorted by address."""
    entries: list[Entry] = []
    for descriptor in descriptors:
        product = str(descriptor.product_name)
        owner = [
            ("owner", descriptor.owner.team),
            ("owner", descriptor.owner.email),
            *(("owner", str(p)) for p in descriptor.owners),
        ]
        tags = sorted({tag for port in descriptor.outputs for tag in port.tags})
        entries.append(
            Entry(
                "product",
                product,
                product,
                descriptor.description or "",
                _terms(
                    [("name", descriptor.name), ("address", product), ("address", descriptor.domain), *owner]
                    + [("tag", t) for t in tags]
                    + [("description", descriptor.description)]
                ),
            )
        )
        for port in descriptor.outputs:
            address = f"{product}.{port.name}"
            entries.append(
                Entry(
                    "port",
                    address,
                    address,
                    port.description or "",
                    _terms(
                        [("name", port.name), ("address", address), *owner]
                        + [("tag", t) for t in port.tags]
                        + [("column", c.name) for c in port.columns]
                        + [("description", port.description)]
                    ),
                )
            )
            for column in port.columns:
                entries.append(
                    Entry(
                        "column",
                        f"{address}.{column.name}",
                        column.name,
                        column.description or column.type,
                        _terms(
                            [
                                ("name", column.name),
                                ("address", address),
                                ("classification", column.classification),
                                ("description", column.description),
                            ]
                        ),
                    )
                )
    return sorted(entries, key=lambda e: (e.address, KINDS.index(e.kind)))


def score(terms: dict[str, int], query: list[str]) -> int:
    """The entry's score for the query's words, 0 when some word matches no term."""
    total = 0
    for word in query:
        best = 0
        for term, weight in terms.items():
            if term == word:
                best = max(best, 2 * weight)
            elif term.startswith(word):
                best = max(best, weight)
        if best == 0:
            return 0
        total += best
    return total


def search(index: list[Entry], text: str, *, limit: int = 20) -> list[SearchHit]:
    """The entries matching every word of `text`, best first (at most `limit`)."""
    from meshlake.errors import DiscoveryError

    if len(text) > MAX_QUERY:
        raise DiscoveryError(f"a search is at most {MAX_QUERY} characters (got {len(text)})", value=text[:40])
    if isinstance(limit, bool) or not isinstance(limit, int) or limit < 1:
        raise DiscoveryError(f"limit must be a whole number of at least 1 (got {limit!r})", value=str(limit))
    query = words(text)
    if not query:
        return []
    hits = [
        SearchHit(entry.kind, entry.address, points, entry.summary)
        for entry in index
        if (points := score(entry.terms, query)) > 0
    ]
    hits.sort(key=lambda h: (-h.score, KINDS.index(h.kind), h.address))
    return hits[:limit]
