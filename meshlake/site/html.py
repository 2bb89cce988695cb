"""HTML for the site: every piece of text escaped, data for scripts embedded safely, one page frame.

Text from descriptors and data (descriptions, owners, SQL, sample values) is another team's data: it is always
escaped (`esc`), never parsed as markdown or HTML. Links are built only from validated names. Each page carries a
Content-Security-Policy that allows no network at all and only the page's own inline script (by its hash), so
even a value that escaped escaping could not run or fetch anything.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
from typing import Any

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:0;color:#1d2330;background:#f6f7f9}
header{background:#1d3557;color:#fff;padding:10px 24px;display:flex;gap:24px;align-items:center}
header a{color:#fff;text-decoration:none;font-weight:600}
main{max-width:1200px;margin:0 auto;padding:16px 24px}
h1{font-size:22px;margin:8px 0}h2{font-size:17px;margin:20px 0 8px;border-bottom:1px solid #d5d9e0}
table{border-collapse:collapse;background:#fff;margin:6px 0}
td,th{border:1px solid #d5d9e0;padding:3px 8px;text-align:left;vertical-align:top;font-size:13px}
th{background:#eef1f5}
code,pre{font-family:ui-monospace,monospace;font-size:12.5px}
pre{background:#fff;border:1px solid #d5d9e0;padding:8px;overflow:auto;white-space:pre-wrap}
.badge{display:inline-block;border-radius:3px;padding:0 6px;font-size:12px;margin-right:4px;background:#dde3ea}
.pii{background:#f8d7da}.confidential{background:#ffe5b4}.internal{background:#e2e3f3}.public{background:#d4edda}
.mask{background:#fff3cd}.failed,.stale,.missing{background:#f8d7da}.passed,.fresh{background:#d4edda}
.muted{color:#6b7280}.null{color:#9ca3af;font-style:italic}
#q{font-size:16px;padding:6px 10px;width:60%}
#results li{margin:3px 0}
svg a:hover rect{stroke-width:2.5}
"""


def esc(value: object) -> str:
    """`value` as text safe in HTML content and in quoted attributes."""
    return html.escape(str(value), quote=True)


def script_json(data: Any) -> str:
    """JSON safe inside `<script type="application/json">`: no `<`, `>`, `&` or line separators as themselves."""
    text = json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    for char, escaped in (
        ("<", "\\u003c"),
        (">", "\\u003e"),
        ("&", "\\u0026"),
        ("\u2028", "\\u2028"),
        ("\u2029", "\\u2029"),
    ):
        text = text.replace(char, escaped)
    return text


def page(title: str, body: str, *, root: str, script: str = "") -> str:
    """A whole page: the header with the site's links, `body` (already HTML), and the page's one inline script."""
    scripts = [script] if script else []
    hashes = " ".join(f"'sha256-{base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()}'" for s in scripts)
    allowed = hashes or "'none'"
    policy = f"default-src 'none'; style-src 'unsafe-inline'; img-src data:; script-src {allowed}"
    script_tags = "".join(f"<script>{s}</script>" for s in scripts)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{esc(policy)}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)} · meshlake catalog</title><style>{STYLE}</style></head><body>"
        f'<header><a href="{root}index.html">meshlake catalog</a><a href="{root}lineage.html">lineage</a></header>'
        f"<main>{body}</main>{script_tags}</body></html>\n"
    )


def table(headers: list[str], rows: list[list[str]], *, attrs: str = "") -> str:
    """A table; `rows` hold HTML already escaped by the caller."""
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table{attrs}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def badge(text: str, kind: str = "") -> str:
    return f'<span class="badge {esc(kind)}">{esc(text)}</span>'
