"""The site's pages as HTML text, from what `build.py` gathered: home with search, products, ports, lineage."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from meshlake.site.html import badge, esc, page, script_json, table
from meshlake.site.svg import Node, lineage_svg, quality_chart

if TYPE_CHECKING:
    from meshlake.contract.descriptor import Descriptor, OutputPort
    from meshlake.governance.findings import Finding
    from meshlake.lineage.columns import ColumnEdge
    from meshlake.site.build import PortFacts

SEARCH_SCRIPT = r"""(function(){
var index=JSON.parse(document.getElementById('search-index').textContent);
var KINDS=['product','port','column'];
var input=document.getElementById('q'),list=document.getElementById('results'),note=document.getElementById('took');
function words(t){var m=t.toLowerCase().match(/[a-z0-9]+/g)||[];var seen={},out=[];
 for(var i=0;i<m.length;i++){if(!seen[m[i]]){seen[m[i]]=1;out.push(m[i]);}}return out;}
function score(terms,q){var total=0;for(var i=0;i<q.length;i++){var w=q[i],best=0;
 for(var j=0;j<terms.length;j++){var t=terms[j][0],v=terms[j][1];
  if(t===w){if(2*v>best)best=2*v;}else if(t.lastIndexOf(w,0)===0){if(v>best)best=v;}}
 if(best===0)return 0;total+=best;}return total;}
function run(){var start=performance.now();var q=words(input.value);var hits=[];
 if(q.length){for(var i=0;i<index.length;i++){var e=index[i];var s=score(e.t,q);if(s>0)hits.push([s,e]);}}
 hits.sort(function(a,b){if(a[0]!==b[0])return b[0]-a[0];var k=KINDS.indexOf(a[1].k)-KINDS.indexOf(b[1].k);
  if(k!==0)return k;return a[1].a<b[1].a?-1:(a[1].a>b[1].a?1:0);});
 hits=hits.slice(0,20);list.textContent='';
 for(var h=0;h<hits.length;h++){var e=hits[h][1];var li=document.createElement('li');li.className='hit';
  li.setAttribute('data-score',String(hits[h][0]));var kind=document.createElement('span');kind.className='badge';
  kind.textContent=e.k;var a=document.createElement('a');a.href=e.u;a.textContent=e.a;
  var s=document.createElement('span');s.className='muted';s.textContent=e.s?' '+e.s:'';
  li.appendChild(kind);li.appendChild(a);li.appendChild(s);list.appendChild(li);}
 var took=performance.now()-start;note.setAttribute('data-ms',took.toFixed(2));
 note.textContent=q.length?(hits.length+' result(s)'):'';}
input.addEventListener('input',run);run();
})();"""

FRESHNESS_SCRIPT = r"""(function(){
var el=document.getElementById('freshness');if(!el)return;var at=el.getAttribute('data-committed');
var limit=Number(el.getAttribute('data-slo-seconds')||'0');if(!at)return;
var age=(Date.now()-Date.parse(at))/1000;var out=document.getElementById('age');
var h=Math.floor(age/3600),m=Math.floor((age%3600)/60);out.textContent=h+' h '+m+' min ago';
if(limit>0){var b=document.createElement('span');b.className='badge '+(age>limit?'stale':'fresh');
 b.textContent=age>limit?'stale':'fresh';out.appendChild(document.createTextNode(' '));out.appendChild(b);}
})();"""


def product_href(name: str, root: str) -> str:
    return f"{root}products/{name}.html"


def port_href(address: str, root: str) -> str:
    return f"{root}ports/{address}.html"


def home(descriptors: Sequence[Descriptor], index: list[dict[str, Any]], *, audience: str) -> str:
    rows = [
        [
            f'<a href="{product_href(str(d.product_name), "")}">{esc(d.product_name)}</a>',
            esc(d.owner.team),
            esc(d.version),
            " ".join(f'<a href="{port_href(f"{d.product_name}.{p.name}", "")}">{esc(p.name)}</a>' for p in d.outputs),
            esc(d.description or ""),
        ]
        for d in descriptors
    ]
    body = (
        "<h1>Data products</h1>"
        '<p><input id="q" type="search" placeholder="Search products, ports, columns, owners, tags…" '
        'autocomplete="off" aria-label="search"> <span id="took" class="muted"></span></p>'
        '<ol id="results"></ol>'
        f'<script type="application/json" id="search-index">{script_json(index)}</script>'
        + table(["product", "owner", "version", "output ports", "description"], rows)
        + f'<p class="muted">Sample rows on this site are what {esc(audience)} may read.</p>'
    )
    return page("Data products", body, root="", script=SEARCH_SCRIPT)


def product(descriptor: Descriptor, ports: dict[str, PortFacts], findings: Sequence[Finding], *, governed: bool) -> str:
    root = "../"
    name = str(descriptor.product_name)
    owner = descriptor.owner
    owners = ", ".join(esc(p) for p in descriptor.owners)
    parts = [
        f"<h1>{esc(name)} {badge('v' + descriptor.version)}</h1>",
        f"<p>{esc(descriptor.description or '')}</p>",
        table(
            ["owner team", "e-mail", "principals"],
            [[esc(owner.team), esc(owner.email or ""), owners]],
        ),
        "<h2>Input ports</h2>",
        table(
            ["name", "port", "pinned to"],
            [
                [esc(i.name), f'<a href="{port_href(i.port, root)}">{esc(i.port)}</a>', esc(i.pin or "latest")]
                for i in descriptor.inputs
            ],
        )
        if descriptor.inputs
        else '<p class="muted">No inputs (a source-aligned product).</p>',
        "<h2>Output ports</h2>",
    ]
    rows = []
    for port in descriptor.outputs:
        facts = ports[f"{name}.{port.name}"]
        slo = port.slo
        rows.append(
            [
                f'<a href="{port_href(facts.address, root)}">{esc(port.name)}</a>',
                esc(port.description or ""),
                " ".join(badge(t) for t in port.tags),
                " ".join(badge(t) for t in sorted(facts.tags)),
                esc(_slo_text(port)) if slo else '<span class="muted">none declared</span>',
                esc(facts.rows) if facts.rows is not None else "",
            ]
        )
    parts.append(table(["port", "description", "labels", "tags / releases", "SLO", "rows"], rows))
    parts.append("<h2>Compliance</h2>")
    if not governed:
        parts.append('<p class="muted">No governance policy is published in this lake.</p>')
    elif not findings:
        parts.append(f"<p>{badge('no findings', 'passed')}</p>")
    else:
        parts.append(
            table(
                ["rule", "severity", "where", "finding", "waived"],
                [
                    [
                        esc(f.code),
                        badge(f.severity, "failed" if f.severity == "error" else "mask"),
                        esc(f.address + (f".{f.column}" if f.column else "")),
                        esc(f.message),
                        esc(f.waived.reason) if f.waived else "",
                    ]
                    for f in findings
                ],
            )
        )
    if descriptor.waivers:
        parts.append("<h2>Waivers</h2>")
        parts.append(
            table(
                ["rule", "target", "reason", "owner", "expires"],
                [
                    [esc(w.rule), esc(w.target or name), esc(w.reason), esc(w.owner), esc(w.expires.isoformat())]
                    for w in descriptor.waivers
                ],
            )
        )
    return page(name, "".join(parts), root=root)


def _slo_text(port: OutputPort) -> str:
    slo = port.slo
    if slo is None:
        return ""
    items = [
        f"freshness {slo.freshness}" if slo.freshness else "",
        f"min rows {slo.min_rows}" if slo.min_rows is not None else "",
        f"max row change {slo.max_row_change}" if slo.max_row_change is not None else "",
        f"quality pass rate {slo.quality_pass_rate} over {slo.window}" if slo.quality_pass_rate is not None else "",
    ]
    return ", ".join(i for i in items if i)


def port_page(port: OutputPort, facts: PortFacts, edges: Sequence[ColumnEdge], picture: str) -> str:
    root = "../"
    product_name = facts.address.rsplit(".", 1)[0]
    parts = [
        f'<h1>{esc(facts.address)}</h1><p>port of <a href="{product_href(product_name, root)}">'
        f"{esc(product_name)}</a> {' '.join(badge(t) for t in port.tags)}</p>",
        f"<p>{esc(port.description or '')}</p>",
    ]
    if facts.status != "ok":
        parts.append(f"<p>{badge(facts.status, 'missing')} {esc(facts.reason or '')}</p>")
    parts.append("<h2>Schema</h2>")
    sources: dict[str, list[str]] = {}
    for edge in edges:
        link = f'<a href="{port_href(edge.source_port, root)}#col-{esc(edge.source_column)}">'
        link += f"{esc(edge.source_port)}.{esc(edge.source_column)}</a> "
        link += f'<span class="muted">{esc(edge.transformation)}</span>'
        if link not in sources.setdefault(edge.target_column, []):
            sources[edge.target_column].append(link)
    masks = facts.masks
    parts.append(
        table(
            ["column", "type", "required", "classification", "mask", "description", "comes from"],
            [
                [
                    f'<span id="col-{esc(c.name)}">{esc(c.name)}</span>',
                    f"<code>{esc(c.type)}</code>",
                    "yes" if c.required else "",
                    badge(c.classification, c.classification) if c.classification else "",
                    " ".join([badge(c.mask.action, "mask")] if c.mask else [])
                    + (" " + badge(f"masked for this site: {masks[c.name]}", "mask") if c.name in masks else ""),
                    esc(c.description or ""),
                    "<br>".join(sources.get(c.name, [])),
                ]
                for c in port.columns
            ],
        )
    )
    if port.primary_key:
        parts.append(f"<p>Primary key: <code>{esc(', '.join(port.primary_key))}</code></p>")
    if port.expectations:
        parts.append("<h2>Expectations</h2><ul>")
        parts += [
            f"<li><code>{esc(e.type)}</code> "
            f'<code class="muted">{esc(json.dumps(e.kwargs, sort_keys=True, default=str))}</code></li>'
            for e in port.expectation_list
        ]
        parts.append("</ul>")
    if port.source_sql:
        parts.append(f"<h2>Source SQL</h2><pre>{esc(port.source_sql)}</pre>")
    parts.append("<h2>Freshness and size</h2>")
    if facts.history:
        latest = facts.history[-1]
        seconds = facts.freshness_seconds or 0
        parts.append(
            f'<p id="freshness" data-committed="{esc(latest.committed_at.isoformat())}" data-slo-seconds="{seconds}">'
            f"Last snapshot <code>{esc(latest.snapshot_id)}</code> committed {esc(latest.committed_at.isoformat())} "
            f'(<span id="age"></span>); {esc(latest.rows_total)} rows'
            + (f"; SLO freshness {esc(port.slo.freshness)}" if port.slo and port.slo.freshness else "")
            + "</p>"
        )
    else:
        parts.append(f'<p class="muted">{esc(facts.reason or "No snapshot yet.")}</p>')
    parts.append("<h2>Quality history</h2>")
    parts.append(quality_chart(facts.quality_points))
    parts.append("<h2>Snapshot timeline</h2>")
    if facts.history:
        rows = []
        for entry in reversed(facts.history[-50:]):
            inputs = "<br>".join(
                f'<a href="{port_href(a, root)}">{esc(a)}</a>@{esc(i)}' for a, i in sorted(entry.inputs.items())
            )
            verdict = badge(entry.quality, entry.quality) if entry.quality else ""
            rows.append(
                [
                    f"<code>{esc(entry.snapshot_id)}</code>",
                    esc(entry.committed_at.isoformat()),
                    esc(entry.mode or entry.operation),
                    esc(entry.rows_total),
                    verdict,
                    " ".join(badge(t) for t in entry.tags),
                    inputs,
                ]
            )
        parts.append(table(["snapshot", "committed", "write", "rows", "quality", "tags", "read"], rows))
    parts.append("<h2>Sample rows</h2>")
    if facts.sample is None:
        parts.append(f'<p class="muted">{esc(facts.sample_note)}</p>')
    else:
        columns, values = facts.sample
        parts.append(
            f'<p class="muted">{esc(facts.sample_note)}</p>'
            + table(list(columns), [[_cell(v) for v in row] for row in values], attrs=' class="sample"')
        )
    if facts.history:
        snapshot = facts.history[-1].snapshot_id
        parts.append("<h2>Read it</h2>")
        parts.append(
            "<pre>"
            + esc(
                f'meshlake sql "SELECT * FROM {facts.address} AT (VERSION => {snapshot}) LIMIT 10"\n\n'
                "# DuckDB, through meshlake\n"
                "import meshlake as ml\n"
                "lake = ml.connect()\n"
                f'lake.sql("SELECT * FROM {facts.address} AT (VERSION => {snapshot}) LIMIT 10").show()\n\n'
                "# Polars\n"
                f'frame = lake.read("{facts.address}@{snapshot}").to_polars().collect()'
            )
            + "</pre>"
        )
    parts.append("<h2>Lineage</h2>")
    parts.append(picture)
    return page(facts.address, "".join(parts), root=root, script=FRESHNESS_SCRIPT if facts.history else "")


def _cell(value: Any) -> str:
    if value is None:
        return '<span class="null">NULL</span>'
    if isinstance(value, bytes):
        return f"<code>{esc(value.hex())}</code>"
    return esc(value)


def lineage_page(picture: str, cycles: Sequence[Sequence[str]], problems: Sequence[str]) -> str:
    parts = [
        "<h1>Lineage</h1>",
        "<p>Ports, left to right from sources to consumers. Solid edges are <b>DIRECT</b> (the output's values "
        "come from the input), dashed edges <b>INDIRECT</b> (the input only decides which rows or groups exist). "
        "Dashed boxes are ports that are missing, hidden from this site's audience, or broken. Click a port to "
        "open it.</p>",
        picture,
    ]
    if cycles:
        parts.append("<h2>Cycles in declared lineage</h2><ul>")
        parts += [f"<li>{esc(' → '.join(cycle))}</li>" for cycle in cycles]
        parts.append("</ul>")
    if problems:
        parts.append("<h2>Column lineage problems</h2><ul>")
        parts += [f"<li>{esc(p)}</li>" for p in problems]
        parts.append("</ul>")
    return page("Lineage", "".join(parts), root="")


def picture(
    nodes: Mapping[str, tuple[str, str]], edges: Sequence[tuple[str, str, str]], *, root: str, here: str | None = None
) -> str:
    """The lineage SVG of `nodes` (address → (status, label)); nodes link to their port pages."""
    shown = {
        address: Node(
            label,
            "here" if address == here else status,
            None if status == "missing" or address == here else port_href(address, root),
        )
        for address, (status, label) in nodes.items()
    }
    return lineage_svg(shown, edges, title="lineage of " + (here or "the mesh"))
