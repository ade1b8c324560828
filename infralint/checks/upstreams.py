"""Cross-format rules over where proxies send traffic (infralint/graph/upstreams.py).

nginx `*_pass` targets and `upstream` servers and HAProxy `server` lines were resolved to a
compose service or k8s Service in the context the config runs in. Findings sit on the directive
(nginx) or the address (HAProxy) at fault and point at the other file: the service, the Service,
or the compose project where the name would be defined. A snippet read in several configs is
reported once per place.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import Any

from infralint.checks import compose_project as projects
from infralint.findings import Related
from infralint.graph.k8s_links import looks_like_patch
from infralint.graph.model import Graph, Node
from infralint.graph.upstreams import (
    RESOLVED,
    UNRESOLVED,
    ComposeContext,
    K8sContext,
    Reference,
    Route,
    accepted_ports,
    compose_family,
    describe_ports,
    port_accepted,
    routes_from,
    routes_of_config,
)
from infralint.images import health as images_health
from infralint.rules.meta import CheckFn, Hit, RuleContext

_REPORTED = "upstreams/reported"  # graph.indexes key: (rule, place) already reported


def _first_report(ctx: RuleContext, rule_id: str, *place: Any) -> bool:
    reported: set[tuple[Any, ...]] = ctx.graph.indexes.setdefault(_REPORTED, set())
    key = (rule_id, *place)
    if key in reported:
        return False
    reported.add(key)
    return True


def _place(reference: Reference) -> tuple[Any, ...]:
    span = reference.span
    return (span.path, span.line, span.col, reference.host)


def _hit(reference: Reference, message: str, related: tuple[Related, ...]) -> Hit:
    if reference.path is not None:
        return Hit(message, path=reference.path, related=related)
    return Hit(message, span=reference.span, related=related)


def _target_name(target: Node) -> str:
    if target.kind == "compose/service":
        return f"service '{target.facts['service']}'"
    return f"Service '{target.facts['name']}'" + (
        f" (namespace '{target.facts['namespace']}')" if target.facts.get("namespace") else ""
    )


def _defined_here(ctx: RuleContext, target: Node, path: tuple[Any, ...] = ()) -> Related:
    return ctx.related(target, f"{_target_name(target)} defined here", path)


# -- unresolved hosts ---------------------------------------------------------------------------


def _unresolved(rule_id: str, node: Node, ctx: RuleContext) -> Iterator[Hit]:
    for route in routes_from(ctx.graph, node):
        if route.status != UNRESOLVED or not _first_report(ctx, rule_id, *_place(route.reference)):
            continue
        reference = route.reference
        message = (
            f"{reference.written} sends traffic to '{reference.host}', but {route.why}{_suggestion(ctx.graph, route)}"
        )
        yield _hit(reference, message, _context_related(ctx, route))


def _suggestion(graph: Graph, route: Route) -> str:
    """A Service of that name in another namespace, or a close name of the context."""
    host = route.reference.host.lower()
    name = host.split(".", 1)[0]
    for context in route.contexts:
        if isinstance(context, K8sContext) and "." not in host:
            elsewhere = sorted(
                {
                    str(s.facts["namespace"])
                    for s in graph.of_kind("k8s/Service")
                    if s.facts["name"] == name and s.facts["namespace"]
                }
            )
            if elsewhere:
                return f" (a Service '{name}' exists in namespace '{elsewhere[0]}': `{name}.{elsewhere[0]}.svc.cluster.local`)"
    close = difflib.get_close_matches(name, _known_names(graph, route), n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _known_names(graph: Graph, route: Route) -> list[str]:
    names: list[str] = []
    for context in route.contexts:
        if isinstance(context, ComposeContext):
            names += list(context.names)
        else:
            names += [
                str(s.facts["name"])
                for s in graph.of_kind("k8s/Service")
                if context.namespace is None or s.facts.get("namespace") in (None, context.namespace)
            ]
    return names


def _context_related(ctx: RuleContext, route: Route) -> tuple[Related, ...]:
    related: list[Related] = []
    for context in route.contexts:
        if isinstance(context, ComposeContext):
            if context.runner is not None:
                name = context.runner.facts["service"]
                related.append(ctx.related(context.runner, f"the config runs in service '{name}' defined here"))
            elif context.projects:
                related.append(ctx.related(context.projects[0], f"{context.label} defined here"))
        else:
            related.append(ctx.related(context.anchor, f"the config runs in {context.anchor.facts['object']}"))
    unique: dict[tuple[Any, ...], Related] = {}
    for item in related:
        unique.setdefault((item.span.path, item.span.line), item)
    return tuple(unique.values())[:3]


def nginx_upstream_unresolved(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    yield from _unresolved("nginx-upstream-unresolved", node, ctx)


def haproxy_upstream_unresolved(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    yield from _unresolved("haproxy-upstream-unresolved", node, ctx)


# -- ports the target does not expose ------------------------------------------------------------


def _port_mismatch(rule_id: str, node: Node, ctx: RuleContext) -> Iterator[Hit]:
    for route in routes_from(ctx.graph, node):
        reference = route.reference
        if route.status != RESOLVED or reference.port is None:
            continue
        if any(port_accepted(target, reference.port) for target in route.targets):
            continue
        if not _first_report(ctx, rule_id, *_place(reference)):
            continue
        target = route.targets[0]
        ranges = accepted_ports(target) or []
        port = str(reference.port) if reference.port_written else f"{reference.port} (the default of its scheme)"
        hint = _host_port_hint(target, reference.port)
        message = (
            f"{reference.written} sends traffic to port {port} of {_target_name(target)}, "
            f"which only {'exposes' if target.kind == 'compose/service' else 'serves'} {describe_ports(ranges)}{hint}"
        )
        yield _hit(reference, message, (_defined_here(ctx, target, _ports_path(target)),))


def _host_port_hint(target: Node, port: int) -> str:
    """The classic slip: the host side of a compose port mapping, which other containers do not use."""
    if target.kind != "compose/service":
        return ""
    for mapping in target.facts.get("ports") or ():
        published = mapping.get("published")
        if published is not None and published <= port <= (mapping.get("published_end") or published):
            return f" ({port} is the port published on the host; containers reach it on {mapping['target']})"
    return ""


def _ports_path(target: Node) -> tuple[Any, ...]:
    if target.kind == "k8s/Service":
        return ("spec", "ports")
    return ("ports",) if target.attrs.get("ports") else ("expose",)


def nginx_upstream_port_mismatch(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    yield from _port_mismatch("nginx-upstream-port-mismatch", node, ctx)


def haproxy_upstream_port_mismatch(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    yield from _port_mismatch("haproxy-upstream-port-mismatch", node, ctx)


# -- no health signal -----------------------------------------------------------------------------


def health_cause(service: Node) -> str:
    """The cause shared by every finding that a compose service lacks a healthcheck (the service
    itself, the proxies that route to it, a proxy's depends_on): fixed in the service."""
    return f"no-healthcheck:{service.id}"


def started_only_cause(dependent: Node, name: str) -> str:
    """The cause compose-depends-on-not-healthy and compose-proxy-depends-not-healthy share when a
    service waits only for NAME to start: one `condition` to change, one finding."""
    return f"started-only:{dependent.id}:{name}"


def judged_for_absence(service: Node) -> bool:
    """A complete compose service: not a fragment, not run by a provider, not scaled to 0."""
    facts = service.facts
    return not facts.get("fragment") and not facts.get("provider") and facts.get("replicas") != 0


def _compose_health_gap(graph: Graph, service: Node) -> str | None:
    """How the service lacks a healthcheck; None when it has one or when its image is unknown."""
    if not judged_for_absence(service):
        return None
    health = images_health.lacks_healthcheck(graph, service)
    return health.why if health is not None else None


def _unready_workloads(graph: Graph, service: Node) -> list[Node]:
    """Selected workloads none of whose containers has a readiness probe."""
    found = []
    for workload in graph.outgoing(service, "selects"):
        if looks_like_patch(workload):
            continue
        containers = [c for c in graph.children(workload) if "k8s/app-container" in c.kinds]
        if containers and not any(isinstance(c.attrs.get("readinessProbe"), dict) for c in containers):
            found.append(workload)
    return found


def _readiness_cause(graph: Graph, unready: list[Node]) -> str:
    """The cause k8s-missing-readiness-probe names, when one container is all there is to fix."""
    containers = [c for w in unready for c in graph.children(w) if "k8s/app-container" in c.kinds]
    return f"no-readiness:{containers[0].id}" if len(containers) == 1 else ""


def nginx_upstream_no_health_signal(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    """One finding per config and target, at the first place that routes there."""
    for route in routes_from(ctx.graph, node):
        if route.status != RESOLVED:
            continue
        reference = route.reference
        for target in route.targets:
            if target.kind == "compose/service":
                gap = _compose_health_gap(ctx.graph, target)
                if gap is None or not _first_report(ctx, "health", reference.config, target.id):
                    continue
                message = (
                    f"{reference.written} routes traffic to {_target_name(target)}, which {gap}: nothing tells "
                    "when it is ready, and `depends_on` cannot hold the proxy back until it is"
                )
                hit = _hit(reference, message, (_defined_here(ctx, target),))
                hit.cause = health_cause(target)
                yield hit
            elif target.kind == "k8s/Service":
                unready = _unready_workloads(ctx.graph, target)
                if not unready or not _first_report(ctx, "health", reference.config, target.id):
                    continue
                names = ", ".join(w.facts["object"] for w in unready[:3])
                message = (
                    f"{reference.written} routes traffic to {_target_name(target)}, whose pods ({names}) have "
                    "no readiness probe: they receive requests as soon as their containers start"
                )
                related = (
                    _defined_here(ctx, target),
                    *(ctx.related(w, f"{w.facts['object']} defined here") for w in unready[:2]),
                )
                hit = _hit(reference, message, related)
                hit.cause = _readiness_cause(ctx.graph, unready)
                yield hit


# -- a proxy service that does not wait for its backends --------------------------------------------

PROXY_CONFIGS = ("nginx/config", "haproxy/config")


def proxied_services(graph: Graph, service: Node) -> list[tuple[Node, list[Route]]]:
    """(backend service, the routes to it) for the configs a compose service mounts."""
    family = {p.id for p in compose_family(graph, projects.project_of(graph, service))}
    found: dict[str, tuple[Node, list[Route]]] = {}
    for config in graph.outgoing(service, "mounts"):
        if config.kind not in PROXY_CONFIGS:
            continue
        for route in routes_of_config(graph, config.id):
            for target in route.targets if route.status == RESOLVED else ():
                if target.kind == "compose/service" and target is not service and target.parent in family:
                    found.setdefault(target.id, (target, []))[1].append(route)
    return list(found.values())


def compose_proxy_depends_not_healthy(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    depends = node.facts.get("depends_on") or {}
    stated = set(node.facts.get("depends_on_stated") or ())
    for target, routes in proxied_services(ctx.graph, node):
        name = target.facts["service"]
        condition = depends.get(name)
        if condition == "service_healthy" or name in stated:
            continue  # a condition written out is a decision, not an omission
        if projects.healthy_through(ctx.graph, node, name) is not None:
            continue  # another dependency waits for it to be healthy: so does the proxy
        has_check = images_health.has_healthcheck(ctx.graph, target)
        if condition == "service_started" and has_check:
            continue  # compose-depends-on-not-healthy says so already
        via = projects.started_through(ctx.graph, node, name) if condition is None else None
        if (condition is not None or via is not None) and all(route.reference.checked for route in routes):
            continue  # HAProxy health-checks it and holds traffic until it answers
        reference = routes[0].reference
        where = f"{reference.span.path}:{reference.span.line}"
        if via is not None:  # started first through another dependency: it resolves, but may not be ready
            other = via.facts["service"]
            path = node.facts["depends_on_paths"].get(other, ("depends_on",))
            state = (
                f"waits for it only through '{other}', which does not wait for it to be healthy: it routes "
                f"requests to '{name}' before it is ready"
            )
        elif condition is None:
            path = ("depends_on",) if "depends_on" in node.attrs else ()
            state = f"does not depend on it: compose may start the proxy before '{name}' even resolves"
        else:
            path = node.facts["depends_on_paths"][name]
            state = f"waits only for `{condition}`: it routes requests to '{name}' before it is ready"
        lacking = not has_check and images_health.lacks_healthcheck(ctx.graph, target) is not None
        if has_check:
            advice = ""
        elif lacking:
            advice = f" (give '{name}' a healthcheck first)"
        else:
            advice = f" (once '{name}' has a healthcheck: its image may declare one, infralint cannot tell)"
        message = (
            f"service '{node.facts['service']}' proxies to service '{name}' ({reference.written} at {where}) "
            f"but {state}; add `depends_on: {{{name}: {{condition: service_healthy}}}}`{advice}"
        )
        related = (
            Related(reference.span, f"{reference.software} routes to '{name}' here"),
            _defined_here(ctx, target),
        )
        cause = health_cause(target) if lacking else started_only_cause(node, name) if condition is not None else ""
        yield Hit(message, path, related=related, cause=cause)


CHECKS: dict[str, CheckFn] = {
    "nginx-upstream-unresolved": nginx_upstream_unresolved,
    "nginx-upstream-port-mismatch": nginx_upstream_port_mismatch,
    "nginx-upstream-no-health-signal": nginx_upstream_no_health_signal,
    "haproxy-upstream-unresolved": haproxy_upstream_unresolved,
    "haproxy-upstream-port-mismatch": haproxy_upstream_port_mismatch,
    "compose-proxy-depends-not-healthy": compose_proxy_depends_not_healthy,
}
