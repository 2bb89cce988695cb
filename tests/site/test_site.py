"""The static catalog site: deterministic, offline, masked as its audience, and escaped everywhere."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from meshlake.errors import DiscoveryError
from meshlake.site.build import build_site
from meshlake.site.pages import FRESHNESS_SCRIPT, SEARCH_SCRIPT
from tests.access.conftest import run_cli
from tests.lineage.mesh import ORDERS, PICKING, REPORT, Mesh
from tests.site.conftest import PAYLOAD, GovernedMesh, build_governed


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _text(folder: Path) -> str:
    return "\n".join(b.decode("utf-8") for b in _files(folder).values())


class Elements(HTMLParser):
    """Every element and attribute of a page, and the text of its scripts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))
        self._in_script = tag == "script"
        if self._in_script:
            self.scripts.append("")

    def handle_endtag(self, tag: str) -> None:
        self._in_script = False

    def handle_data(self, data: str) -> None:
        if self._in_script:
            self.scripts[-1] += data


def _parse(path: Path) -> Elements:
    parser = Elements()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser


def test_the_site_has_a_page_for_every_product_port_and_the_lineage(mesh: Mesh, tmp_path: Path) -> None:
    report = build_site(mesh.lake, tmp_path / "site")

    names = set(_files(tmp_path / "site"))
    assert {
        "index.html",
        "lineage.html",
        f"ports/{ORDERS}.html",
        f"ports/{PICKING}.html",
        f"ports/{REPORT}.html",
    } <= names
    assert {"products/sales.orders.html", "products/logistics.picking.html", "products/finance.report.html"} <= names
    assert report.pages == 8 and report.ports == 3
    port = (tmp_path / "site" / "ports" / f"{PICKING}.html").read_text(encoding="utf-8")
    assert f"AT (VERSION =&gt; {mesh.p2})" in port and f"{PICKING}@{mesh.p2}" in port  # DuckDB and Polars snippets
    assert 'id="col-amount"' in port and "INDIRECT" in port and 'class="quality"' in port


def test_building_the_same_mesh_twice_gives_identical_files(mesh: Mesh, tmp_path: Path) -> None:
    build_site(mesh.lake, tmp_path / "a")
    build_site(type(mesh.lake)(mesh.lake.settings), tmp_path / "b")

    assert _files(tmp_path / "a") == _files(tmp_path / "b")


def test_no_page_loads_anything_from_outside_the_page(mesh: Mesh, tmp_path: Path) -> None:
    build_site(mesh.lake, tmp_path / "site")

    for path in (tmp_path / "site").rglob("*.html"):
        page = _parse(path)
        for tag, attrs in page.tags:
            assert tag not in ("link", "img", "iframe", "object", "embed"), f"{path.name}: <{tag}>"
            assert "src" not in attrs, f"{path.name}: <{tag} src=…>"
            href = attrs.get("href") or ""
            assert "://" not in href and not href.startswith("//"), f"{path.name}: link {href}"
        meta = next(a for t, a in page.tags if t == "meta" and a.get("http-equiv") == "Content-Security-Policy")
        assert "default-src 'none'" in (meta["content"] or "")
    lineage = (tmp_path / "site" / "lineage.html").read_text(encoding="utf-8")
    assert "edge-direct" in lineage and "missing" in lineage  # the stamp of a dropped port is drawn as missing


def test_a_hostile_payload_in_every_text_field_is_shown_as_text(tmp_path: Path) -> None:
    governed = build_governed(tmp_path / ".meshlake", payload=PAYLOAD)
    build_site(governed.admin, tmp_path / "site")

    allowed = {SEARCH_SCRIPT, FRESHNESS_SCRIPT}
    for path in (tmp_path / "site").rglob("*.html"):
        page = _parse(path)
        for tag, attrs in page.tags:
            assert not [a for a in attrs if a.startswith("on")], f"{path.name}: <{tag}> has an event handler"
            for name in ("href", "src", "action"):
                assert not (attrs.get(name) or "").strip().lower().startswith("javascript:"), path.name
            if tag == "script" and attrs.get("type") != "application/json":
                assert "src" not in attrs
        executable = [
            s for (t, a), s in zip(_script_tags(page), page.scripts, strict=True) if a.get("type") != "application/json"
        ]
        assert all(script in allowed for script in executable), f"{path.name}: a script the site did not write"
    text = _text(tmp_path / "site")
    assert "<script>alert" not in text and "<img src=x" not in text and "<img/src" not in text
    port = (tmp_path / "site" / "ports" / f"{ORDERS}.html").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(&#x27;xss&#x27;)&lt;/script&gt;" in port  # shown, as text (sample rows too)
    assert "\\u003cscript\\u003ealert" in (tmp_path / "site" / "index.html").read_text(encoding="utf-8")


def _script_tags(page: Elements) -> list[tuple[str, dict[str, str | None]]]:
    return [(t, a) for t, a in page.tags if t == "script"]


def test_a_site_built_for_analysts_holds_no_unmasked_pii_in_any_file(governed: GovernedMesh, tmp_path: Path) -> None:
    build_site(governed.as_analyst(), tmp_path / "site")

    text = _text(tmp_path / "site")
    assert not [email for email in governed.emails if email in text]
    port = (tmp_path / "site" / "ports" / f"{ORDERS}.html").read_text(encoding="utf-8")
    assert "masked for this site: mask-alphanum" in port and "xxxxxx" in port  # the rows are there, masked
    hidden = (tmp_path / "site" / "ports" / f"{PICKING}.html").read_text(encoding="utf-8")
    assert "may not read this port" in hidden and '<table class="sample"' not in hidden


def test_the_owners_site_shows_what_the_owners_read(governed: GovernedMesh, tmp_path: Path) -> None:
    build_site(governed.admin, tmp_path / "site")

    assert governed.emails[0] in _text(tmp_path / "site")  # the test above can fail: the emails are in the data


def test_the_cli_builds_for_an_audience_and_refuses_a_foreign_folder(
    governed: GovernedMesh, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "meshlake.yaml"
    config.write_text(f"home: {governed.home}\n", encoding="utf-8")
    monkeypatch.setenv("MESHLAKE_PRINCIPAL", str(governed.admin.principal))
    out = tmp_path / "site"

    result = run_cli(f"--config={config}", "site", "build", str(out), "--as", "user:ana", "--group", "analytics")
    assert result.exit_code == 0, result.output
    assert not [email for email in governed.emails if email in _text(out)]
    again = run_cli(f"--config={config}", "site", "build", str(out), "--as", "group:analytics")
    assert again.exit_code == 0, again.output  # a site built before is replaced; a group is any of its members
    assert "xxxxxx" in (out / "ports" / f"{ORDERS}.html").read_text(encoding="utf-8")
    assert not [email for email in governed.emails if email in _text(out)]
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "todo.txt").write_text("keep me", encoding="utf-8")
    refused = run_cli(f"--config={config}", "site", "build", str(foreign))
    assert refused.exit_code == 1 and (foreign / "todo.txt").read_text(encoding="utf-8") == "keep me"


def test_build_refuses_a_file_as_the_folder_and_a_bad_sample_size(mesh: Mesh, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x", encoding="utf-8")
    with pytest.raises(DiscoveryError):
        build_site(mesh.lake, tmp_path / "file")
    with pytest.raises(DiscoveryError):
        build_site(mesh.lake, tmp_path / "site", sample_rows=-1)


def test_serve_refuses_a_folder_without_a_site_and_listens_on_loopback(mesh: Mesh, tmp_path: Path) -> None:
    from meshlake.site.serve import site_server

    with pytest.raises(DiscoveryError):
        site_server(tmp_path, port=0)
    build_site(mesh.lake, tmp_path / "site")
    server = site_server(tmp_path / "site", port=0)
    try:
        assert server.server_address[0] == "127.0.0.1"
    finally:
        server.server_close()


def test_search_entries_link_to_their_pages(mesh: Mesh, tmp_path: Path) -> None:
    build_site(mesh.lake, tmp_path / "site")
    index = (tmp_path / "site" / "index.html").read_text(encoding="utf-8")

    links = set(re.findall(r'"u":"([^"]+)"', index))
    assert f"ports/{ORDERS}.html#col-customer_email" in links
    for link in links:
        assert (tmp_path / "site" / link.split("#")[0]).is_file()


def test_the_cli_serve_refuses_a_folder_without_a_site(tmp_path: Path) -> None:
    result = run_cli("site", "serve", str(tmp_path), "--port", "0")

    assert result.exit_code == 1 and "holds no site" in result.output


def test_the_cli_serves_a_built_site_on_loopback_and_prints_its_url(mesh: Mesh, tmp_path: Path) -> None:
    import json
    import subprocess
    import sys
    import urllib.request

    build_site(mesh.lake, tmp_path / "site")
    command = [str(Path(sys.executable).parent / "meshlake"), "--json", "site", "serve", str(tmp_path / "site")]
    server = subprocess.Popen([*command, "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        url = json.loads(server.stdout.readline())["url"]
        assert url.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(url + "index.html", timeout=10) as response:
            assert b"search-index" in response.read()
    finally:
        server.terminate()
        server.wait(timeout=10)
