"""The catalog site in a real browser: Debian's Chromium driven by Playwright, offline, from file://.

Chromium comes from the Debian package (`.ci/chromium.sh`); Playwright from PyPI, never `playwright install`:
the browser is launched by `executable_path`. Without them the tests are skipped with the reason, or fail
under MESHLAKE_TEST_REQUIRE_SERVICES=1.
"""

from __future__ import annotations

import base64
import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from meshlake.site.build import build_site
from tests.integration.conftest import service_unavailable
from tests.lineage.mesh import ORDERS, PICKING, build_mesh
from tests.site.conftest import PAYLOAD, build_governed

CHROMIUM_ENV = "MESHLAKE_CHROMIUM"


def chromium_path() -> str | None:
    """The Chromium binary: $MESHLAKE_CHROMIUM, else `chromium` on the PATH (Debian's package)."""
    return os.environ.get(CHROMIUM_ENV) or shutil.which("chromium")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    binary = chromium_path()
    if binary is None:
        service_unavailable("Chromium is not installed (bash .ci/chromium.sh installs Debian's chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        service_unavailable("playwright is not installed (pip install playwright; never `playwright install`)")
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=binary, args=["--no-sandbox"])
        try:
            yield launched
        finally:
            launched.close()


class Watched:
    """A page with every request, console error and dialog it caused recorded."""

    def __init__(self, browser: Any) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.requests: list[str] = []
        self.errors: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("request", lambda request: self.requests.append(request.url))
        self.page.on("console", lambda message: self.errors.append(message.text) if message.type == "error" else None)
        self.page.on("pageerror", lambda error: self.errors.append(str(error)))
        self.page.on("dialog", self._dialog)

    def _dialog(self, dialog: Any) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()


def distinct_colours(browser: Any, png: bytes) -> int:
    """How many colours a PNG holds (sampled on a grid), counted by the browser's own image decoder."""
    page = browser.new_page()
    try:
        page.set_content("<canvas id=c></canvas>")
        return int(
            page.evaluate(
                """async (data) => {
                  const img = new Image(); img.src = 'data:image/png;base64,' + data; await img.decode();
                  const c = document.getElementById('c'); c.width = img.width; c.height = img.height;
                  const ctx = c.getContext('2d'); ctx.drawImage(img, 0, 0);
                  const px = ctx.getImageData(0, 0, img.width, img.height).data; const seen = new Set();
                  for (let y = 0; y < img.height; y += 4) for (let x = 0; x < img.width; x += 4) {
                    const i = (y * img.width + x) * 4; seen.add(px[i] + ',' + px[i+1] + ',' + px[i+2]); }
                  return seen.size; }""",
                base64.b64encode(png).decode(),
            )
        )
    finally:
        page.close()


def test_search_open_a_port_and_follow_a_lineage_edge_offline(browser: Any, tmp_path: Path) -> None:
    mesh = build_mesh(tmp_path / ".meshlake")
    build_site(mesh.lake, tmp_path / "site")
    watched = Watched(browser)
    page = watched.page

    page.goto((tmp_path / "site" / "index.html").as_uri())
    page.type("#q", "picking daily")
    page.wait_for_selector("#results li.hit")
    shown = page.eval_on_selector_all("#results li.hit a", "links => links.map(a => a.textContent)")
    assert shown == [hit.address for hit in mesh.lake.search("picking daily")]  # the browser ranks as Python does
    page.click(f'#results li.hit a:text-is("{PICKING}")')
    page.wait_for_selector("h1")
    assert page.text_content("h1") == PICKING
    assert page.url.endswith(f"/ports/{PICKING}.html")
    page.click(f'svg.lineage a[data-node="{ORDERS}"]')  # an edge of the lineage picture, to the port it reads
    page.wait_for_url(f"**/ports/{ORDERS}.html")
    assert page.text_content("h1") == ORDERS
    assert "ago" in (page.text_content("#age") or "")  # the page's own script ran under its CSP

    shot = tmp_path / "port.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert distinct_colours(browser, shot.read_bytes()) > 8  # text, badges, tables: not one blank colour
    assert [url for url in watched.requests if not url.startswith("file://")] == []
    assert watched.errors == [] and watched.dialogs == []
    page.close()


def test_a_hostile_payload_runs_nowhere_in_the_browser(browser: Any, tmp_path: Path) -> None:
    governed = build_governed(tmp_path / ".meshlake", payload=PAYLOAD)
    build_site(governed.admin, tmp_path / "site")
    watched = Watched(browser)
    page = watched.page

    for relative in ["index.html", f"ports/{ORDERS}.html", f"ports/{PICKING}.html", "products/sales.orders.html"]:
        page.goto((tmp_path / "site" / relative).as_uri())
        page.wait_for_load_state("load")
    page.goto((tmp_path / "site" / "index.html").as_uri())
    page.type("#q", "script alert")
    page.wait_for_selector("#results li.hit")
    assert page.eval_on_selector_all("#results li.hit", "items => items.length") > 0
    page.wait_for_timeout(300)

    assert watched.dialogs == []  # no alert() ran
    assert [url for url in watched.requests if not url.startswith("file://")] == []  # the <img src=x> loaded nothing
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    page.close()
