"""Topology -> Mermaid flowchart text (GitHub renders it in Markdown inside ```mermaid fences)."""

from __future__ import annotations

from infralint.topology.model import Topology, TopoNode, render_ids, severity_text
from infralint.topology.style import SEVERITY_COLORS, color_class

# Opening and closing brackets of each role's shape: stadium, hexagon, box, cylinder,
# parallelogram (a file), rounded box.
SHAPES = {
    "entry": ('(["', '"])'),
    "proxy": ('{{"', '"}}'),
    "service": ('["', '"]'),
    "datastore": ('[("', '")]'),
    "config": ('[/"', '"/]'),
    "external": ('("', '")'),
}
ARROWS = {"exposes": "-->", "routes_to": "-->", "selects": "-->", "depends_on": "-.->"}

# Mermaid entity codes for what would end a quoted label or be read as markup; one pass, so a
# code's own '#' and ';' are not escaped again.
_ESCAPES = {
    "#": "#35;",
    '"': "#quot;",
    "<": "#lt;",
    ">": "#gt;",
    "&": "#amp;",
    "|": "#124;",
    "`": "#96;",
    ";": "#59;",
    "%": "#37;",
}


def escape(text: str) -> str:
    return "".join(_ESCAPES.get(ch, ch) if ch.isprintable() else " " for ch in text)


def render(topology: Topology) -> str:
    ids = render_ids((node.id for node in topology.nodes), "n_")
    group_ids = render_ids((group.id for group in topology.groups), "g_")
    totals = severity_text(topology.totals) or "no findings"
    lines = [
        "flowchart LR",
        f"  %% infralint graph: {len(topology.nodes)} boxes, {len(topology.edges)} arrows; {totals}",
    ]
    members = topology.members()
    lines += [_node(node, ids, "  ") for node in members.get(None, ())]
    for group in topology.groups:
        lines.append(f'  subgraph {group_ids[group.id]}["{escape(group.title())}"]')
        lines += [_node(node, ids, "    ") for node in members.get(group.id, ())]
        lines.append("  end")
    for edge in topology.edges:
        arrow = ARROWS[edge.kind]
        label = f'|"{escape(edge.label)}"|' if edge.label else ""
        lines.append(f"  {ids[edge.source]} {arrow}{label} {ids[edge.target]}")
    classes: dict[str, list[str]] = {}
    for node in topology.nodes:
        classes.setdefault(color_class(node.worst, node.role), []).append(ids[node.id])
    for name, (fill, stroke) in SEVERITY_COLORS.items():
        if name in classes:
            dash = ",stroke-dasharray:4 3" if name == "external" else ""
            lines.append(f"  classDef {name} fill:{fill},stroke:{stroke},stroke-width:2px,color:#111{dash}")
    for name in SEVERITY_COLORS:
        if name in classes:
            lines.append(f"  class {','.join(sorted(classes[name]))} {name}")
    return "\n".join(lines) + "\n"


def _node(node: TopoNode, ids: dict[str, str], indent: str) -> str:
    opening, closing = SHAPES[node.role]
    text = "<br/>".join(escape(line) for line in node.lines())
    return f"{indent}{ids[node.id]}{opening}{text}{closing}"
