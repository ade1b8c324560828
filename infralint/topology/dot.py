"""Topology -> Graphviz DOT (`dot -Tsvg` draws it)."""

from __future__ import annotations

from infralint.topology.model import Topology, TopoNode, render_ids, severity_text
from infralint.topology.style import SEVERITY_COLORS, color_class

FONT = "Helvetica,Arial,sans-serif"
SHAPES = {
    "entry": "invhouse",
    "proxy": "hexagon",
    "service": "box",
    "datastore": "cylinder",
    "config": "note",
    "external": "box",
}
STYLES = {"service": "rounded,filled", "external": "rounded,dashed,filled"}
EDGE_STYLES = {"depends_on": "dashed", "selects": "solid", "exposes": "bold", "routes_to": "solid"}


def html(text: str) -> str:
    """Text for an HTML-like label: markup characters as entities, no control characters. (HTML
    labels, unlike quoted ones, have no backslash escapes to trip over.)"""
    text = "".join(ch if ch.isprintable() else " " for ch in text)
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")


def render(topology: Topology) -> str:
    ids = render_ids((node.id for node in topology.nodes), "n_")
    group_ids = render_ids((group.id for group in topology.groups), "cluster_")
    totals = severity_text(topology.totals) or "no findings"
    lines = [
        "digraph infralint {",
        f'  graph [rankdir=LR, newrank=true, fontname="{FONT}", fontsize=12, labelloc=t, label=<infralint: {html(totals)}>];',
        f'  node [fontname="{FONT}", fontsize=11, penwidth=1.5];',
        f'  edge [fontname="{FONT}", fontsize=10, color="#555555"];',
    ]
    members = topology.members()
    lines += [_node(node, ids, "  ") for node in members.get(None, ())]
    for group in topology.groups:
        lines.append(f"  subgraph {group_ids[group.id]} {{")
        lines.append(f'    label=<{html(group.title())}>; style="rounded,dashed"; color="#888888";')
        lines += [_node(node, ids, "    ") for node in members.get(group.id, ())]
        lines.append("  }")
    for edge in topology.edges:
        attributes = [f"style={EDGE_STYLES[edge.kind]}"]
        if edge.label:
            attributes.append(f"label=<{html(edge.label)}>")
        lines.append(f"  {ids[edge.source]} -> {ids[edge.target]} [{', '.join(attributes)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _node(node: TopoNode, ids: dict[str, str], indent: str) -> str:
    fill, stroke = SEVERITY_COLORS[color_class(node.worst, node.role)]
    first, *rest = node.lines()
    label = "<br/>".join([f"<b>{html(first)}</b>", *(html(line) for line in rest)])
    style = STYLES.get(node.role, "filled")
    return (
        f'{indent}{ids[node.id]} [shape={SHAPES[node.role]}, style="{style}", '
        f'fillcolor="{fill}", color="{stroke}", label=<{label}>];'
    )
