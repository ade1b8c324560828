"""Host access that a listed component needs by design (infralint/components/by_design.yaml).

The rules about the runtime socket, host namespaces and host paths hand their finding here when
the image doing it is such a component. It becomes a note that names the component, what it uses
the access for and the mitigation, because the access is the documented way to run it and an
error would only teach people to ignore the rule. Unless the component is also published to the
outside on a port it does not exist to serve (a Traefik dashboard, a Portainer agent port, a
node-exporter behind a LoadBalancer): then the process that holds the host faces the outside,
and the finding keeps its severity and points at the publication.
"""

from __future__ import annotations

from infralint.components.by_design import Component
from infralint.findings import Related, Severity
from infralint.graph.exposure import Reach, published_ports
from infralint.graph.model import Graph, Node
from infralint.rules.meta import Hit, RuleContext


def hit(ctx: RuleContext, runner: Node, component: Component, message: str, path: tuple[object, ...]) -> Hit:
    """MESSAGE (what the rule found) judged for COMPONENT run by RUNNER (a compose service or a
    k8s workload)."""
    published = _published(ctx.graph, runner, component)
    if published is None:
        return Hit(
            f"{message}: {component.name} needs it by design ({component.why}); mitigation: {component.mitigation}",
            path,
            severity=Severity.NOTE,
        )
    port, reach = published
    return Hit(
        f"{message}: {component.name} needs it by design, but {reach.reason}, so the process with "
        f"this access faces the outside; mitigation: {component.mitigation}",
        path,
        related=_related(ctx.graph, reach, port),
    )


def _published(graph: Graph, runner: Node, component: Component) -> tuple[int, Reach] | None:
    """The first port published to the outside that the component does not exist to serve."""
    for port, reach in published_ports(graph, runner):
        if port not in component.serves:
            return port, reach
    return None


def _related(graph: Graph, reach: Reach, port: int) -> tuple[Related, ...]:
    via = graph.nodes.get(str(reach.via)) if reach.via else None
    if via is None:
        return ()
    return (Related(via.spans.span(reach.path), f"port {port} published here"),)
