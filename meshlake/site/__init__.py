"""The catalog site and search: `lake.search(text)`, `meshlake site build OUT/` and `meshlake site serve`.

Owns the search index and its ranking (`search.py`, the same in Python and in the site's script), the static
site (`build.py`: pages from `pages.py`, HTML escaped by `html.py`, charts and the lineage picture as SVG
from `svg.py` with a layered layout in pure Python from `layout.py`), and the local server (`serve.py`).

May import every layer below the facades and `lineage`; it reads ports only through the `Lake` it is handed
(as the site's audience principal), so masks and row filters apply to every sample row it writes.
"""
