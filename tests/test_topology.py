"""`infralint graph`: the topology a scan finds, and its Mermaid, DOT and JSON renderings."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import FIXTURES, REPO, require_binary
from graphs import graph_of
from jsonschema import Draft202012Validator
from scanning import run_cli as invoke
from scanning import scan_tree, write

from infralint.findings import Finding, Severity
from infralint.graph.model import Graph
from infralint.source import Span
from infralint.topology import dot, json_format, mermaid
from infralint.topology.model import TopoEdge, TopoGroup, Topology, TopoNode, extract, render_ids

RENDERERS = {"mermaid": mermaid.render, "dot": dot.render, "json": json_format.render}

COMPOSE = """name: shop
services:
  proxy:
    image: nginx:1.27
    ports: ["80:80", "443:443", "127.0.0.1:8081:81"]
    volumes: ["./nginx/nginx.conf:/etc/nginx/nginx.conf:ro"]
    depends_on: [api]
  api:
    image: example/api:1.0
    expose: ["8000"]
    depends_on:
      cache: {condition: service_healthy}
  cache:
    image: redis:7.2
    ports: ["127.0.0.1:6379:6379"]
"""
NGINX = """events {}
http {
  upstream api { server api:8000; }
  server {
    listen 80;
    location / { proxy_pass http://api; }
    location /auth/ { proxy_pass https://auth.example.com; }
    location /dyn/ { proxy_pass http://$backend; }
    location /self/ { proxy_pass http://127.0.0.1:9000; }
  }
}
"""
PROXY, API, CACHE = (f"compose/compose.yaml/service[{name}]" for name in ("proxy", "api", "cache"))
PROJECT = "compose/compose.yaml"
PUBLIC, LOOPBACK = f"entry:{PROJECT}:*", f"entry:{PROJECT}:127.0.0.1"
UPSTREAM = "nginx/nginx/nginx.conf/upstream[api]"

K8S = """apiVersion: v1
kind: ConfigMap
metadata: {name: proxy-conf, namespace: shop}
data:
  nginx.conf: |
    events {}
    http {
      server {
        listen 8080;
        location / { proxy_pass http://api.shop.svc.cluster.local:80; }
      }
    }
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: proxy, namespace: shop}
spec:
  replicas: 2
  selector: {matchLabels: {app: proxy}}
  template:
    metadata: {labels: {app: proxy}}
    spec:
      volumes:
        - name: conf
          configMap: {name: proxy-conf}
      containers:
        - name: nginx
          image: nginx:1.27
          volumeMounts:
            - {name: conf, mountPath: /etc/nginx/nginx.conf, subPath: nginx.conf}
---
apiVersion: v1
kind: Service
metadata: {name: proxy, namespace: shop}
spec:
  type: LoadBalancer
  selector: {app: proxy}
  ports: [{port: 80, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      containers:
        - {name: api, image: example/api:1.0}
        - {name: log-shipper, image: example/shipper:1.0}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec:
  selector: {app: api}
  ports: [{port: 80, targetPort: 8000}]
---
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: shop}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  minReplicas: 1
  maxReplicas: 5
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker-a, namespace: shop}
spec:
  selector: {matchLabels: {app: worker-a}}
  template:
    metadata: {labels: {app: worker-a, tier: backend}}
    spec:
      containers: [{name: worker, image: example/worker:1.0}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: worker-b, namespace: shop}
spec:
  selector: {matchLabels: {app: worker-b}}
  template:
    metadata: {labels: {app: worker-b, tier: backend}}
    spec:
      containers: [{name: worker, image: example/worker:1.0}]
---
apiVersion: v1
kind: Service
metadata: {name: backend, namespace: shop}
spec:
  selector: {tier: backend}
  ports: [{port: 9000}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: redis, namespace: shop}
spec:
  serviceName: redis
  selector: {matchLabels: {app: redis}}
  template:
    metadata: {labels: {app: redis}}
    spec:
      containers: [{name: redis, image: bitnami/redis:7.2}]
---
apiVersion: v1
kind: Service
metadata: {name: redis, namespace: shop}
spec:
  clusterIP: None
  selector: {app: redis}
  ports: [{port: 6379}]
---
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop, namespace: shop}
spec:
  tls: [{hosts: [shop.example.com], secretName: shop-tls}]
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /
            pathType: Prefix
            backend: {service: {name: proxy, port: {number: 80}}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: metrics, namespace: ops}
spec:
  selector: {matchLabels: {app: metrics}}
  template:
    metadata: {labels: {app: metrics}}
    spec:
      containers: [{name: metrics, image: example/metrics:1.0}]
"""
K8S_CONFIG = "nginx/app.yaml#nginx.conf"
K8S_LOCATION = "nginx/app.yaml#nginx.conf/server[:8080]/location[/]"


# -- helpers ------------------------------------------------------------------------------------


@pytest.fixture
def compose_project(tmp_path: Path) -> Path:
    root = tmp_path / "compose-shop"
    write(root, "compose.yaml", COMPOSE)
    write(root, "nginx/nginx.conf", NGINX)
    return root


@pytest.fixture
def k8s_project(tmp_path: Path) -> Path:
    root = tmp_path / "k8s-shop"
    write(root, "app.yaml", K8S)
    return root


def ensure_route(graph: Graph, source: str, target: str, host: str, port: int) -> None:
    """The upstream linker's edge (graph.md's contract), added when the linker did not draw it,
    so the diagram is tested on the contract whatever the linker resolves today."""
    if not any(e.kind == "routes_to" and e.source == source and e.target == target for e in graph.edges):
        graph.link(graph.nodes[source], graph.nodes[target], "routes_to", host=host, port=port, resolved_port=True)


def compose_graph(root: Path) -> Graph:
    graph = graph_of(root)
    ensure_route(graph, UPSTREAM, API, "api", 8000)
    return graph


def k8s_graph(root: Path) -> Graph:
    graph = graph_of(root)
    ensure_route(graph, K8S_LOCATION, "k8s/Service/shop/api", "api.shop.svc.cluster.local", 80)
    return graph


def finding(severity: str, node_id: str | None, path: str = "x.yaml", rule: str = "some-rule") -> Finding:
    return Finding(rule, Severity(severity), f"{rule} on {node_id}", Span(path, 1), node_id)


def roles(topology: Topology) -> dict[str, str]:
    return {node.id: node.role for node in topology.nodes}


def edges(topology: Topology) -> set[tuple[str, str, str, str]]:
    return {(e.source, e.target, e.kind, e.label) for e in topology.edges}


# Mermaid read back: the shapes the renderer writes, its node, edge and subgraph lines.
SHAPE_OF = {opening.rstrip('"'): role for role, (opening, _closing) in mermaid.SHAPES.items()}
NODE_LINE = re.compile(r'^\s+(n_\w+)(\(\[|\{\{|\[\(|\[/|\[|\()"(.*)"(\]\)|\}\}|\)\]|/\]|\]|\))$')
EDGE_LINE = re.compile(r'^\s+(n_\w+) (-->|-\.->)(?:\|"(.*)"\|)? (n_\w+)$')
SUBGRAPH_LINE = re.compile(r'^\s+subgraph (g_\w+)\["(.*)"\]$')
NAMED = {"quot": '"', "lt": "<", "gt": ">", "amp": "&"}


def unescape(text: str) -> str:
    return re.sub(r"#(\w+);", lambda m: chr(int(m[1])) if m[1].isdigit() else NAMED[m[1]], text)


def parse_mermaid(text: str) -> tuple[dict[str, tuple[str, list[str], str | None]], set[tuple[str, str, str]], dict]:
    """Nodes {id: (role, lines, subgraph)}, edges {(source, arrow + label, target)}, subgraphs."""
    lines = text.splitlines()
    assert lines[0] == "flowchart LR"
    nodes: dict[str, tuple[str, list[str], str | None]] = {}
    arrows: set[tuple[str, str, str]] = set()
    subgraphs: dict[str, str] = {}
    current: str | None = None
    for line in lines[1:]:
        if match := NODE_LINE.match(line):
            assert not re.search(r'[<>"]', match[3].replace("<br/>", "")), line
            nodes[match[1]] = (SHAPE_OF[match[2]], [unescape(part) for part in match[3].split("<br/>")], current)
        elif match := EDGE_LINE.match(line):
            arrows.add((match[1], match[2] + unescape(match[3] or ""), match[4]))
        elif match := SUBGRAPH_LINE.match(line):
            current = match[1]
            subgraphs[current] = unescape(match[2])
        elif line.strip() == "end":
            current = None
        else:
            assert line.strip().startswith(("%%", "classDef ", "class ")), line
    return nodes, arrows, subgraphs


def assert_mermaid_matches(topology: Topology) -> None:
    text = mermaid.render(topology)
    nodes, arrows, subgraphs = parse_mermaid(text)
    ids = render_ids((n.id for n in topology.nodes), "n_")
    group_ids = render_ids((g.id for g in topology.groups), "g_")
    assert nodes == {ids[n.id]: (n.role, n.lines(), group_ids[n.group] if n.group else None) for n in topology.nodes}
    expected = {(ids[e.source], mermaid.ARROWS[e.kind] + e.label, ids[e.target]) for e in topology.edges}
    assert arrows == expected
    assert len(arrows) == len(topology.edges)
    assert subgraphs == {group_ids[g.id]: g.title() for g in topology.groups}


def svg_of(text: str) -> str:
    binary = require_binary("dot")
    result = subprocess.run([binary, "-Tsvg"], input=text, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "<svg" in result.stdout
    return result.stdout


def schema_validator() -> Draft202012Validator:
    schema = json.loads((REPO / "schemas" / "topology.schema.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


# -- the compose project ------------------------------------------------------------------------


def test_compose_project_boxes_roles_and_groups(compose_project: Path) -> None:
    topology = extract(compose_graph(compose_project), [])
    assert roles(topology) == {
        PROXY: "proxy",
        API: "service",
        CACHE: "datastore",
        PUBLIC: "entry",
        LOOPBACK: "entry",
        "external:auth.example.com": "external",
    }
    [group] = topology.groups
    assert (group.id, group.label, group.kind) == (PROJECT, "compose project shop", "compose-project")
    assert {n.id for n in topology.nodes if n.group == PROJECT} == {PROXY, API, CACHE, PUBLIC, LOOPBACK}
    proxy = topology.node(PROXY)
    assert (proxy.label, proxy.details, proxy.kind) == ("proxy", ["nginx:1.27"], "compose service")
    # The nginx config (with all its blocks) is drawn as the service that runs it.
    assert proxy.sources == [PROXY, "nginx/nginx/nginx.conf"]
    assert topology.node(PUBLIC).details == ["all interfaces"]
    assert topology.node(LOOPBACK).details == ["127.0.0.1 only (loopback)"]


def test_compose_project_edges_are_labelled_by_port(compose_project: Path) -> None:
    topology = extract(compose_graph(compose_project), [])
    assert edges(topology) == {
        (PUBLIC, PROXY, "exposes", ":80, :443"),
        (LOOPBACK, PROXY, "exposes", ":8081→81"),
        (LOOPBACK, CACHE, "exposes", ":6379"),
        (PROXY, API, "routes_to", ":8000"),
        (PROXY, "external:auth.example.com", "routes_to", ":443"),
        # proxy -> api depends_on is left out: the traffic arrow already joins them
        (API, CACHE, "depends_on", "depends on"),
    }


def test_unresolved_upstream_is_an_external_box_until_the_linker_resolves_it(compose_project: Path) -> None:
    graph = graph_of(compose_project)
    routed = any(e.kind == "routes_to" and e.source == UPSTREAM for e in graph.edges)
    topology = extract(graph, [])
    if routed:
        assert "external:api" not in roles(topology)
    else:
        assert (PROXY, "external:api", "routes_to", ":8000") in edges(topology)
        assert (PROXY, API, "depends_on", "depends on") in edges(topology)


def test_findings_count_on_the_box_their_node_folds_into(compose_project: Path) -> None:
    location = "nginx/nginx/nginx.conf/server[:80]/location[/]"
    findings = [
        finding("error", location),
        finding("warning", location),
        finding("warning", API),
        finding("note", PROJECT),  # the project itself: its group
        finding("error", None, path="nginx/nginx.conf"),  # a file-level problem of the proxy's config
        finding("note", None, path="elsewhere.yaml"),
    ]
    topology = extract(compose_graph(compose_project), findings)
    assert topology.node(PROXY).severity == {"error": 2, "warning": 1, "note": 0}
    assert topology.node(PROXY).worst == "error"
    assert topology.node(API).severity == {"error": 0, "warning": 1, "note": 0}
    assert topology.node(CACHE).worst is None
    assert topology.groups[0].severity == {"error": 0, "warning": 0, "note": 1}
    assert topology.unplaced == {"error": 0, "warning": 0, "note": 1}
    assert topology.totals == {"error": 2, "warning": 2, "note": 2}
    assert topology.node(PROXY).lines()[-1] == "2 errors, 1 warning"
    text = mermaid.render(topology)
    ids = render_ids((n.id for n in topology.nodes), "n_")
    assert re.search(rf"^  class .*\b{ids[PROXY]}\b.* error$", text, re.M)
    assert re.search(rf"^  class .*\b{ids[CACHE]}\b.* clean$", text, re.M)
    assert 'subgraph g_compose_compose_yaml["compose project shop · 1 note"]' in text


def test_real_scan_findings_are_all_counted(compose_project: Path) -> None:
    report = scan_tree(compose_project)
    assert report.graph is not None
    topology = extract(report.graph, report.findings)
    assert sum(topology.totals.values()) == len(report.findings) > 0
    placed = sum(sum(n.severity.values()) for n in topology.nodes) + sum(
        sum(g.severity.values()) for g in topology.groups
    )
    assert placed + sum(topology.unplaced.values()) >= len(report.findings)
    assert topology.node(PROXY).worst is not None


def test_compose_mermaid_reads_back(compose_project: Path) -> None:
    topology = extract(compose_graph(compose_project), [finding("warning", API)])
    assert_mermaid_matches(topology)


def test_host_network_service_gets_an_entry_from_its_exposure(tmp_path: Path) -> None:
    write(tmp_path, "compose.yaml", "services:\n  edge:\n    image: traefik:3.1\n    network_mode: host\n")
    graph = graph_of(tmp_path)
    service = graph.nodes["compose/compose.yaml/service[edge]"]
    service.facts["exposure"], service.facts["exposure_reason"] = "public", "network_mode: host"
    topology = extract(graph, [])
    entry = topology.node(f"entry:{service.id}")
    assert (entry.role, entry.details, entry.group) == ("entry", ["network_mode: host"], PROJECT)
    assert edges(topology) == {(entry.id, service.id, "exposes", "")}
    assert topology.node(service.id).role == "proxy"  # a traefik image


def test_unmounted_configs_are_config_boxes_and_includes_fold_in(tmp_path: Path) -> None:
    write(tmp_path, "nginx/nginx.conf", "events {}\nhttp {\n  include conf.d/*.conf;\n}\n")
    write(
        tmp_path,
        "nginx/conf.d/site.conf",
        "server {\n  listen 80;\n  location / { proxy_pass http://10.0.0.5:8080; }\n}\n",
    )
    write(
        tmp_path,
        "haproxy.cfg",
        "frontend web\n  bind :80\n  default_backend app\nbackend app\n"
        + "".join(f"  server s{i} 10.0.1.{i}:8080 check\n" for i in range(10)),
    )
    topology = extract(graph_of(tmp_path), [finding("warning", "nginx/nginx/conf.d/site.conf/server[:80]")])
    configs = {n.id: n for n in topology.nodes if n.role == "config"}
    assert set(configs) == {"nginx/nginx/nginx.conf", "haproxy/haproxy.cfg"}
    nginx = configs["nginx/nginx/nginx.conf"]
    assert (nginx.label, nginx.kind, nginx.group) == ("nginx/nginx.conf", "nginx config", None)
    assert nginx.severity["warning"] == 1  # found in the included file, drawn on its includer
    assert ("nginx/nginx/nginx.conf", "external:10.0.0.5", "routes_to", ":8080") in edges(topology)
    # Ten servers: seven hosts shown, the rest folded into one box.
    haproxy_targets = [e.target for e in topology.edges if e.source == "haproxy/haproxy.cfg"]
    assert len(haproxy_targets) == 8
    more = topology.node("external:haproxy/haproxy.cfg:more")
    assert more.label == "3 more hosts"


# -- the Kubernetes variant ---------------------------------------------------------------------


def test_k8s_boxes_fold_containers_configs_and_single_services(k8s_project: Path) -> None:
    topology = extract(k8s_graph(k8s_project), [])
    assert roles(topology) == {
        "k8s/Deployment/shop/proxy": "proxy",  # runs the ConfigMap's nginx config
        "k8s/Deployment/shop/api": "service",
        "k8s/Deployment/shop/worker-a": "service",
        "k8s/Deployment/shop/worker-b": "service",
        "k8s/StatefulSet/shop/redis": "datastore",
        "k8s/Service/shop/backend": "service",  # fronts two workloads: a box of its own
        "k8s/Service/shop/proxy": "entry",  # LoadBalancer
        "k8s/Ingress/shop/shop": "entry",
        "k8s/Deployment/ops/metrics": "service",
    }
    proxy = topology.node("k8s/Deployment/shop/proxy")
    assert {K8S_CONFIG, "k8s/Deployment/shop/proxy/container/nginx"} <= set(proxy.sources)
    assert proxy.details == ["Deployment \u00d72", "nginx:1.27"]
    api = topology.node("k8s/Deployment/shop/api")
    assert "k8s/Service/shop/api" in api.sources
    assert api.details == ["Deployment", "example/api:1.0 +1", "Service api :80→8000"]
    assert topology.node("k8s/StatefulSet/shop/redis").details[-1] == "Service redis :6379"
    ingress = topology.node("k8s/Ingress/shop/shop")
    assert ingress.details == ["Ingress", "shop.example.com", "TLS"]
    groups = {g.id: g.label for g in topology.groups}
    assert groups == {"k8s/namespace/ops": "namespace ops", "k8s/namespace/shop": "namespace shop"}
    assert topology.node("k8s/Deployment/ops/metrics").group == "k8s/namespace/ops"


def test_k8s_edges(k8s_project: Path) -> None:
    topology = extract(k8s_graph(k8s_project), [])
    assert edges(topology) == {
        ("k8s/Ingress/shop/shop", "k8s/Service/shop/proxy", "routes_to", ":80"),
        ("k8s/Service/shop/proxy", "k8s/Deployment/shop/proxy", "selects", ":8080"),
        ("k8s/Deployment/shop/proxy", "k8s/Deployment/shop/api", "routes_to", ":80"),
        ("k8s/Service/shop/backend", "k8s/Deployment/shop/worker-a", "selects", ":9000"),
        ("k8s/Service/shop/backend", "k8s/Deployment/shop/worker-b", "selects", ":9000"),
    }


def test_k8s_findings_of_satellites_count_on_their_workload(k8s_project: Path) -> None:
    findings = [
        finding("warning", "k8s/HorizontalPodAutoscaler/shop/api"),
        finding("error", "k8s/Deployment/shop/api/container/log-shipper"),
        finding("note", "k8s/Service/shop/api"),
        finding("warning", "k8s/ConfigMap/shop/proxy-conf"),  # referenced by one workload
        finding("error", K8S_LOCATION),
    ]
    topology = extract(k8s_graph(k8s_project), findings)
    assert topology.node("k8s/Deployment/shop/api").severity == {"error": 1, "warning": 1, "note": 1}
    assert topology.node("k8s/Deployment/shop/proxy").severity == {"error": 1, "warning": 1, "note": 0}
    assert all(sum(g.severity.values()) == 0 for g in topology.groups)


def test_k8s_mermaid_reads_back(k8s_project: Path) -> None:
    topology = extract(k8s_graph(k8s_project), [finding("error", "k8s/Ingress/shop/shop")])
    assert_mermaid_matches(topology)


def test_k8s_example_scan_draws_the_configmap_proxy() -> None:
    report = scan_tree(REPO / "examples" / "k8s-shop")
    assert report.graph is not None
    topology = extract(report.graph, report.findings)
    assert any(n.role == "entry" and n.kind == "Ingress" for n in topology.nodes)
    assert any(n.role == "datastore" for n in topology.nodes)
    assert any(n.role == "proxy" for n in topology.nodes)
    assert_mermaid_matches(topology)


# -- renderers ----------------------------------------------------------------------------------

HOSTILE = 'a "quoted" <b>bold</b> #1; end | x;y `tick` 100% back\\slash & [brackets] {braces} (parens) é'


def hostile_topology() -> Topology:
    group = TopoGroup("compose/we ird/compose.yaml", f"compose project {HOSTILE}", "compose-project")
    nodes = [
        TopoNode("a/b", HOSTILE, "proxy", "compose service", group.id, details=["line\nbreak", "\\"]),
        TopoNode("a_b", "end", "datastore", "compose service", group.id),
        TopoNode("external:x.example.com", "x.example.com", "external", "host outside the scan"),
        TopoNode("config\\", "trailing backslash\\", "config", "nginx config"),
        TopoNode("entry:subgraph", "subgraph", "entry", "published ports", group.id),
    ]
    nodes[0].severity["error"] = 2
    edges = [
        TopoEdge("entry:subgraph", "a/b", "exposes", ':80 "|" ;'),
        TopoEdge("a/b", "a_b", "depends_on", "depends on"),
        TopoEdge("a/b", "external:x.example.com", "routes_to", ""),
        TopoEdge("config\\", "a_b", "routes_to", ":6379"),
    ]
    totals = {"error": 2, "warning": 0, "note": 0}
    return Topology([group], sorted(nodes, key=lambda n: n.id), edges, totals, {"error": 0, "warning": 0, "note": 0})


def test_render_ids_are_sanitised_stable_and_distinct() -> None:
    ids = render_ids(["a/b", "a_b", "a-b", "", "é"], "n_")
    assert ids == {"": "n_x", "a-b": "n_a_b", "a/b": "n_a_b_2", "a_b": "n_a_b_3", "é": "n_x_2"}
    assert render_ids(reversed(list(ids)), "n_") == ids


def test_mermaid_escapes_labels_and_reads_back() -> None:
    topology = hostile_topology()
    assert_mermaid_matches(topology)
    nodes, _, _ = parse_mermaid(mermaid.render(topology))
    assert nodes["n_a_b"][1][0] == HOSTILE


def test_dot_escapes_labels_and_graphviz_draws_them() -> None:
    text = dot.render(hostile_topology())
    svg = svg_of(text)
    assert "&lt;b&gt;bold&lt;/b&gt;" in svg and "back\\slash" in svg and "trailing backslash\\" in svg
    titles = set(re.findall(r"<title>(.*?)</title>", svg))
    assert {"n_a_b", "n_a_b_2", "n_config", "n_entry_subgraph", "n_external_x_example_com"} <= titles
    assert "n_entry_subgraph&#45;&gt;n_a_b" in titles


@pytest.mark.parametrize("project", ["compose", "k8s"])
def test_dot_of_the_projects_draws_every_box_and_arrow(project: str, request: pytest.FixtureRequest) -> None:
    root = request.getfixturevalue(f"{project}_project")
    graph = k8s_graph(root) if project == "k8s" else compose_graph(root)
    topology = extract(graph, [finding("warning", None, path="compose.yaml")])
    svg = svg_of(dot.render(topology))
    ids = render_ids((n.id for n in topology.nodes), "n_")
    titles = set(re.findall(r"<title>(.*?)</title>", svg))
    assert {ids[n.id] for n in topology.nodes} <= titles
    assert {f"{ids[e.source]}&#45;&gt;{ids[e.target]}" for e in topology.edges} <= titles
    clusters = {t for t in titles if t.startswith("cluster_")}
    assert len(clusters) == len(topology.groups)


def test_json_matches_its_schema(compose_project: Path, k8s_project: Path) -> None:
    validator = schema_validator()
    for topology in (
        extract(compose_graph(compose_project), [finding("error", API)]),
        extract(k8s_graph(k8s_project), []),
        hostile_topology(),
    ):
        data = json.loads(json_format.render(topology))
        assert list(validator.iter_errors(data)) == []
        assert [n["id"] for n in data["nodes"]] == sorted(n["id"] for n in data["nodes"])
        node_ids = {n["id"] for n in data["nodes"]}
        assert all(e["source"] in node_ids and e["target"] in node_ids for e in data["edges"])


def test_all_fixtures_and_examples_in_one_diagram() -> None:
    """Every fixture folder and example at once: many projects, namespaces, configs and oddities."""
    validator = schema_validator()
    for root in (FIXTURES, REPO / "examples"):
        report = scan_tree(root)
        assert report.graph is not None
        topology = extract(report.graph, report.findings)
        assert topology.nodes
        assert_mermaid_matches(topology)
        assert list(validator.iter_errors(json.loads(json_format.render(topology)))) == []
        node_ids = {n.id for n in topology.nodes}
        assert all(e.source in node_ids and e.target in node_ids for e in topology.edges)
        assert {n.group for n in topology.nodes} - {None} == {g.id for g in topology.groups}
        svg_of(dot.render(topology))


# -- the command --------------------------------------------------------------------------------


@pytest.mark.parametrize("output_format", ["mermaid", "dot", "json"])
def test_graph_command_is_deterministic(output_format: str, compose_project: Path) -> None:
    first = invoke("graph", ".", "--format", output_format, cwd=compose_project)
    second = invoke("graph", ".", "--format", output_format, cwd=compose_project)
    assert first[0] == 0 and first == second
    report = scan_tree(compose_project)
    assert report.graph is not None
    assert first[1] == RENDERERS[output_format](extract(report.graph, report.findings))


def test_graph_command_default_format_output_file_and_selection(compose_project: Path) -> None:
    code, out = invoke("graph", cwd=compose_project)
    assert code == 0 and out.startswith("flowchart LR\n")
    code, out = invoke(
        "graph", ".", "--format", "json", "--output", "topology.json", "--select", "nginx", cwd=compose_project
    )
    assert (code, out) == (0, "")
    data = json.loads((compose_project / "topology.json").read_text(encoding="utf-8"))
    assert data["totals"]["error"] + data["totals"]["warning"] + data["totals"]["note"] > 0
    boxes = {n["id"]: n for n in data["nodes"]}
    assert sum(boxes[API]["severity"].values()) == 0  # compose rules were not selected
    code, out = invoke("graph", ".", "--select", "no-such-rule", cwd=compose_project)
    assert code == 2 and "no-such-rule" in out


def test_cli_module_does_not_import_the_topology() -> None:
    code = "import sys, infralint.cli; print(any(m.startswith('infralint.topology') for m in sys.modules))"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert result.stdout.strip() == "False"


def test_graph_command_counts_findings_as_the_project_config_says(compose_project: Path) -> None:
    write(compose_project, ".infralint.yaml", "ignore: [compose]\n")
    code, out = invoke("graph", ".", "--format", "json", cwd=compose_project)
    assert code == 0
    assert sum(next(n for n in json.loads(out)["nodes"] if n["id"] == API)["severity"].values()) == 0
    code, out = invoke("graph", ".", "--format", "json", "--no-config", cwd=compose_project)
    assert sum(next(n for n in json.loads(out)["nodes"] if n["id"] == API)["severity"].values()) > 0


def test_config_copied_into_a_built_image_folds_into_that_service(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  web:\n    build: {context: proxy}\n    ports: ['80:80']\n"
        "  app:\n    build: .\n    expose: ['8000']\n",
    )
    write(tmp_path, "proxy/conf/nginx.conf", "events {}\nhttp {\n  server {\n    listen 80;\n  }\n}\n")
    write(tmp_path, "other/nginx.conf", "events {}\nhttp {\n  server {\n    listen 81;\n  }\n}\n")
    topology = extract(graph_of(tmp_path), [])
    web = topology.node("compose/compose.yaml/service[web]")
    assert (web.role, web.details) == ("proxy", ["built from proxy"])
    assert "nginx/proxy/conf/nginx.conf" in web.sources
    # `build: .` holds every file of the project: it claims none of them.
    assert topology.node("compose/compose.yaml/service[app]").role == "service"
    assert topology.node("nginx/other/nginx.conf").role == "config"


def test_compose_port_notations_and_replicas(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compose.yaml",
        "services:\n  dns:\n    image: example/dns:1\n    deploy: {replicas: 3}\n"
        "    ports: ['8000-8002:9000-9002', '53:53/udp', '3000', '10.0.0.5:8443:443']\n",
    )
    topology = extract(graph_of(tmp_path), [])
    service = "compose/compose.yaml/service[dns]"
    assert topology.node(service).details == ["example/dns:1 \u00d73"]
    assert edges(topology) == {
        (PUBLIC, service, "exposes", ":53/udp, :*→3000, :8000-8002→9000-9002"),
        (f"entry:{PROJECT}:10.0.0.5", service, "exposes", ":8443→443"),
    }
    assert topology.node(f"entry:{PROJECT}:10.0.0.5").details == ["10.0.0.5 only"]
