"""The k8s linker: selectors, namespaces, ingress backends, scale targets and references."""

from __future__ import annotations

import textwrap

import pytest

from infralint.graph.build import build
from infralint.graph.k8s_links import (
    declared_replicas,
    defined_elsewhere,
    find,
    ingress_backends,
    labels_set_at_run_time,
    looks_like_patch,
    made_by_operator,
    nearest,
    nearest_named,
    pod_label_sets,
    replica_floor,
    same_namespace,
    selected_workloads,
    selector_matches,
    workload_references,
)
from infralint.graph.k8s_run_time_labels import run_time_labels
from infralint.graph.model import Graph, Node
from infralint.parsers.kubernetes import parse
from infralint.source import SourceFile


def graph_of(*files: tuple[str, str]) -> Graph:
    nodes = []
    for path, text in files:
        source = SourceFile(path=path, abspath="/" + path, text=textwrap.dedent(text), kind="k8s")
        nodes.extend(parse(source).nodes)
    return build(nodes)


def deployment(name: str, labels: str, namespace: str = "", extra: str = "") -> str:
    ns = f"\n  namespace: {namespace}" if namespace else ""
    return f"""
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {name}{ns}
spec:
  selector:
    matchLabels: {labels}
  template:
    metadata:
      labels: {labels}
    spec:
      containers:
        - name: app
          image: example/{name}:1.0
{extra}"""


def node(graph: Graph, node_id: str) -> Node:
    return graph.nodes[node_id]


def targets(graph: Graph, source_id: str, kind: str) -> list[str]:
    return sorted(n.id for n in graph.outgoing(graph.nodes[source_id], kind))


# -- selector matching ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("selector", "matches"),
    [
        ({"matchLabels": {"app": "web"}}, True),
        ({"matchLabels": {"app": "web", "tier": "db"}}, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["api", "web"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, False),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "track", "operator": "DoesNotExist"}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "Gt", "values": ["1"]}]}, False),
        (
            {"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "tier", "operator": "In", "values": ["x"]}]},
            False,
        ),
        ({"app": "web"}, True),  # a Service's plain map
        ({}, True),  # an empty LabelSelector selects everything
        (None, False),
    ],
)
def test_selector_matches(selector: object, matches: bool) -> None:
    assert selector_matches(selector, {"app": "web", "tier": "frontend"}) is matches


def test_an_object_without_namespace_matches_any_namespace() -> None:
    assert same_namespace(None, "shop")
    assert same_namespace("shop", None)
    assert same_namespace("shop", "shop")
    assert not same_namespace("shop", "blog")


def test_service_selects_by_plain_map_within_its_namespace() -> None:
    graph = graph_of(
        ("web.yaml", deployment("web", "{app: web, tier: frontend}", namespace="shop")),
        ("blog.yaml", deployment("blog", "{app: web}", namespace="blog")),
        ("anywhere.yaml", deployment("anywhere", "{app: web}")),
        (
            "svc.yaml",
            """
            apiVersion: v1
            kind: Service
            metadata: {name: web, namespace: shop}
            spec:
              selector: {app: web}
            """,
        ),
    )
    assert targets(graph, "k8s/Service/shop/web", "selects") == [
        "k8s/Deployment/-/anywhere",
        "k8s/Deployment/shop/web",
    ]


def test_a_service_with_an_empty_selector_selects_nothing() -> None:
    graph = graph_of(
        ("web.yaml", deployment("web", "{app: web}")),
        ("svc.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: ext}\nspec: {selector: {}}\n"),
    )
    assert targets(graph, "k8s/Service/-/ext", "selects") == []
    assert list(selected_workloads(graph, None, {}, plain=True)) == []


def test_controller_labels_count_for_selectors() -> None:
    graph = graph_of(
        (
            "sts.yaml",
            """
            apiVersion: apps/v1
            kind: StatefulSet
            metadata: {name: db}
            spec:
              replicas: 2
              selector: {matchLabels: {app: db}}
              template:
                metadata: {labels: {app: db}}
                spec: {containers: [{name: pg, image: postgres:16}]}
            ---
            apiVersion: batch/v1
            kind: Job
            metadata: {name: migrate}
            spec:
              template:
                spec: {restartPolicy: Never, containers: [{name: m, image: example/m:1}]}
            """,
        ),
    )
    sts = node(graph, "k8s/StatefulSet/-/db")
    pod_names = [labels["statefulset.kubernetes.io/pod-name"] for labels in pod_label_sets(sts)]
    assert pod_names == ["db-0", "db-1"]
    found = [n.id for n in selected_workloads(graph, None, {"statefulset.kubernetes.io/pod-name": "db-1"}, plain=True)]
    assert found == ["k8s/StatefulSet/-/db"]
    assert not list(selected_workloads(graph, None, {"statefulset.kubernetes.io/pod-name": "db-2"}, plain=True))
    found = [n.id for n in selected_workloads(graph, None, {"matchLabels": {"job-name": "migrate"}})]
    assert found == ["k8s/Job/-/migrate"]


SPILO = """
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: pg}
spec:
  replicas: 2
  selector: {matchLabels: {application: spilo, cluster-name: pg}}
  template:
    metadata: {labels: {application: spilo, cluster-name: pg}}
    spec: {containers: [{name: postgres, image: ghcr.io/zalando/spilo-16:3.3-p1}]}
"""


def service(name: str, selector: str) -> str:
    return f"apiVersion: v1\nkind: Service\nmetadata: {{name: {name}}}\nspec: {{selector: {selector}}}\n"


def test_selectors_match_with_labels_set_at_run_time_and_say_which() -> None:
    graph = graph_of(
        ("pg.yaml", SPILO),
        ("web.yaml", deployment("web", "{app: web}")),
        ("primary.yaml", service("primary", "{cluster-name: pg, spilo-role: master}")),
        ("blue.yaml", service("blue", "{app: web, pod-template-hash: 6d4cf56db6}")),
        ("exact.yaml", service("exact", "{cluster-name: pg}")),
        ("wrong.yaml", service("wrong", "{app: web, controller-revision-hash: abc}")),
        ("extra.yaml", service("extra", "{app: web, pod-template-hash: x, track: canary}")),
    )
    primary, pg = node(graph, "k8s/Service/-/primary"), node(graph, "k8s/StatefulSet/-/pg")
    assert targets(graph, primary.id, "selects") == [pg.id]
    assert list(labels_set_at_run_time(graph, primary, pg)) == ["spilo-role"]
    assert targets(graph, "k8s/Service/-/blue", "selects") == ["k8s/Deployment/-/web"]
    exact = node(graph, "k8s/Service/-/exact")
    assert targets(graph, exact.id, "selects") == [pg.id]
    assert labels_set_at_run_time(graph, exact, pg) == {}  # the template's labels match alone
    # Deployments' pods never get controller-revision-hash, and nobody sets `track`.
    assert targets(graph, "k8s/Service/-/wrong", "selects") == []
    assert targets(graph, "k8s/Service/-/extra", "selects") == []


def test_a_pod_name_past_the_replica_count_is_not_taken_for_a_run_time_label() -> None:
    graph = graph_of(
        ("pg.yaml", SPILO),
        ("svc.yaml", service("pg-5", "{cluster-name: pg, statefulset.kubernetes.io/pod-name: pg-5}")),
    )
    assert targets(graph, "k8s/Service/-/pg-5", "selects") == []


@pytest.mark.parametrize(
    ("kind", "owner", "container", "expected"),
    [
        ("Deployment", {}, {"image": "nginx:1.27"}, {"pod-template-hash"}),
        ("DaemonSet", {}, {}, {"controller-revision-hash", "pod-template-generation"}),
        ("Job", {}, {}, {"controller-uid", "batch.kubernetes.io/controller-uid"}),
        (
            "Job",
            {"completionMode": "Indexed"},
            {},
            {"controller-uid", "batch.kubernetes.io/controller-uid", "batch.kubernetes.io/job-completion-index"},
        ),
        ("ReplicaSet", {}, {"image": "registry.opensource.zalan.do/acid/spilo-15:3.0-p1"}, {"spilo-role"}),
        # Spilo given etcd keeps its state there and labels no pod, unless told to use Kubernetes.
        ("Pod", {}, {"image": "spilo-16:3.3", "env": [{"name": "ETCD_HOST", "value": "etcd"}]}, set()),
        (
            "Pod",
            {},
            {
                "image": "spilo-16:3.3",
                "env": [{"name": "ETCD_HOST"}, {"name": "DCS_ENABLE_KUBERNETES_API", "value": "1"}],
            },
            {"spilo-role"},
        ),
        ("Pod", {}, {"image": "spilo-16", "env": [{"name": "KUBERNETES_ROLE_LABEL", "value": "pg-role"}]}, {"pg-role"}),
        ("Pod", {}, {"image": "example/db:1", "env": [{"name": "PATRONI_KUBERNETES_LABELS", "value": "{}"}]}, {"role"}),
        ("Pod", {}, {"image": "example/patroni:4", "env": [{"name": "PATRONI_ETCD3_HOSTS", "value": "e:2379"}]}, set()),
        ("Pod", {}, {"image": "example/patroni:4"}, {"role"}),
    ],
)
def test_which_labels_pods_get_at_run_time(
    kind: str, owner: dict[str, object], container: dict[str, object], expected: set[str]
) -> None:
    assert set(run_time_labels(kind, owner, [container])) == expected


def test_a_null_replica_count_is_the_default_of_one() -> None:
    graph = graph_of(
        ("web.yaml", deployment("web", "{app: web}").replace("spec:\n  selector", "spec:\n  replicas:\n  selector"))
    )
    web = node(graph, "k8s/Deployment/-/web")
    assert "replicas" not in web.attrs["spec"]  # a null field is no field
    assert web.spans.exact(("spec", "replicas")) is not None  # but its line is still known
    assert declared_replicas(web) == 1


def test_pod_name_selectors_are_judged_by_the_ordinal_they_name() -> None:
    statefulset = """
    apiVersion: apps/v1
    kind: StatefulSet
    metadata: {name: db}
    spec:
      replicas: ${REPLICAS}
      selector: {matchLabels: {app: db}}
      template:
        metadata: {labels: {app: db}}
        spec: {containers: [{name: pg, image: postgres:16}]}
    """
    graph = graph_of(("sts.yaml", statefulset))

    def selects(selector: dict[str, object]) -> bool:
        return bool(list(selected_workloads(graph, None, selector)))

    # A replica count that is not a number: up to 1,000 pods are assumed, db-0 to db-999.
    assert selects({"matchLabels": {"statefulset.kubernetes.io/pod-name": "db-999"}})
    assert not selects({"matchLabels": {"statefulset.kubernetes.io/pod-name": "db-1000"}})
    assert not selects({"matchLabels": {"statefulset.kubernetes.io/pod-name": "db-01"}})
    assert selects({"matchLabels": {"app": "db", "apps.kubernetes.io/pod-index": 7}})
    assert not selects({"matchLabels": {"app": "web", "apps.kubernetes.io/pod-index": "7"}})
    every_pod = [str(ordinal) for ordinal in range(1000)]
    in_range = {"key": "apps.kubernetes.io/pod-index", "operator": "NotIn", "values": every_pod[:-1]}
    assert selects({"matchExpressions": [in_range]})  # db-999 is left
    assert not selects({"matchExpressions": [{**in_range, "values": every_pod}]})
    assert selects({"matchExpressions": [{"key": "statefulset.kubernetes.io/pod-name", "operator": "Exists"}]})


def test_apps_without_namespaces_select_only_their_own_pods() -> None:
    service = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {selector: {app: web}}\n"
    budget = (
        "apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: web}\n"
        "spec: {maxUnavailable: 1, selector: {matchLabels: {app: web}}}\n"
    )
    graph = graph_of(
        ("apps/shop/deployment.yaml", deployment("web", "{app: web}")),
        ("apps/shop/service.yaml", service),
        ("apps/shop/pdb.yaml", budget),
        ("apps/blog/deploy/web.yaml", deployment("web", "{app: web}")),
        ("apps/blog/deploy/canary.yaml", deployment("web-canary", "{app: web, track: canary}")),
        ("apps/blog/service.yaml", service),
        ("team/web.yaml", deployment("team-web", "{app: web}", namespace="team")),
    )
    shop, blog, blog_canary = "k8s/Deployment/-/web", "k8s/Deployment/-/web~2", "k8s/Deployment/-/web-canary"
    assert node(graph, shop).path == "apps/shop/deployment.yaml"
    assert targets(graph, "k8s/Service/-/web", "selects") == [shop]
    assert targets(graph, "k8s/Service/-/web~2", "selects") == [blog_canary, blog]
    assert targets(graph, "k8s/PodDisruptionBudget/-/web", "selects") == [shop]
    # A namespace on both sides settles the match; the nearest rule breaks only guesses.
    graph = graph_of(
        ("a/web.yaml", deployment("web", "{app: web}", namespace="shop")),
        ("b/web.yaml", deployment("web2", "{app: web}", namespace="shop")),
        ("a/svc.yaml", service.replace("{name: web}", "{name: web, namespace: shop}")),
    )
    assert targets(graph, "k8s/Service/shop/web", "selects") == ["k8s/Deployment/shop/web", "k8s/Deployment/shop/web2"]


def test_pdb_and_networkpolicy_select_with_label_selectors() -> None:
    graph = graph_of(
        ("web.yaml", deployment("web", "{app: web}", namespace="shop")),
        (
            "policy.yaml",
            """
            apiVersion: policy/v1
            kind: PodDisruptionBudget
            metadata: {name: web, namespace: shop}
            spec:
              maxUnavailable: 1
              selector: {matchExpressions: [{key: app, operator: In, values: [web]}]}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: all, namespace: shop}
            spec: {podSelector: {}}
            ---
            apiVersion: networking.k8s.io/v1
            kind: NetworkPolicy
            metadata: {name: other, namespace: blog}
            spec: {podSelector: {}}
            """,
        ),
    )
    assert targets(graph, "k8s/PodDisruptionBudget/shop/web", "selects") == ["k8s/Deployment/shop/web"]
    assert targets(graph, "k8s/NetworkPolicy/shop/all", "selects") == ["k8s/Deployment/shop/web"]
    assert targets(graph, "k8s/NetworkPolicy/blog/other", "selects") == []


# -- ingress backends -------------------------------------------------------------------------

INGRESS_V1 = """
apiVersion: networking.k8s.io/v1
kind: Ingress
metadata: {name: shop}
spec:
  defaultBackend:
    service: {name: web, port: {name: http}}
  rules:
    - http:
        paths:
          - path: /api
            pathType: Prefix
            backend:
              service: {name: api, port: {number: 8080}}
          - path: /static
            pathType: Prefix
            backend:
              resource: {apiGroup: example.com, kind: Bucket, name: assets}
"""

INGRESS_EXTENSIONS = """
apiVersion: extensions/v1beta1
kind: Ingress
metadata: {name: legacy}
spec:
  backend: {serviceName: web, servicePort: 80}
  rules:
    - host: shop.example.com
      http:
        paths:
          - path: /api
            backend: {serviceName: api, servicePort: grpc}
"""


def test_ingress_backends_in_the_networking_v1_form() -> None:
    graph = graph_of(("ingress.yaml", INGRESS_V1))
    backends = list(ingress_backends(node(graph, "k8s/Ingress/-/shop")))
    assert backends == [
        ({"service": "web", "port": "http"}, ("spec", "defaultBackend")),
        ({"service": "api", "port": 8080}, ("spec", "rules", 0, "http", "paths", 0, "backend")),
    ]


def test_ingress_backends_in_the_old_extensions_form() -> None:
    graph = graph_of(("ingress.yaml", INGRESS_EXTENSIONS))
    backends = list(ingress_backends(node(graph, "k8s/Ingress/-/legacy")))
    assert backends == [
        ({"service": "web", "port": 80}, ("spec", "backend")),
        ({"service": "api", "port": "grpc"}, ("spec", "rules", 0, "http", "paths", 0, "backend")),
    ]


def test_ingress_routes_to_services_of_its_namespace_with_the_port() -> None:
    services = """
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: shop}
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: blog}
    """
    graph = graph_of(
        ("ingress.yaml", INGRESS_V1.replace("{name: shop}", "{name: shop, namespace: shop}")), ("svc.yaml", services)
    )
    ingress = node(graph, "k8s/Ingress/shop/shop")
    assert [n.id for n in graph.outgoing(ingress, "routes_to")] == ["k8s/Service/shop/web"]
    (edge,) = [e for e in graph.edges if e.kind == "routes_to"]
    assert dict(edge.attrs) == {"port": "http"}


# -- scale targets ----------------------------------------------------------------------------


def test_hpa_and_keda_scale_their_targets_and_set_the_replica_floor() -> None:
    graph = graph_of(
        ("web.yaml", deployment("web", "{app: web}")),
        ("worker.yaml", deployment("worker", "{app: worker}")),
        (
            "plain.yaml",
            deployment("plain", "{app: plain}").replace("spec:\n  selector", "spec:\n  replicas: 3\n  selector", 1),
        ),
        (
            "scalers.yaml",
            """
            apiVersion: autoscaling/v2
            kind: HorizontalPodAutoscaler
            metadata: {name: web}
            spec:
              scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
              minReplicas: 3
              maxReplicas: 9
            ---
            apiVersion: keda.sh/v1alpha1
            kind: ScaledObject
            metadata: {name: worker}
            spec:
              scaleTargetRef: {name: worker}
            """,
        ),
    )
    assert targets(graph, "k8s/HorizontalPodAutoscaler/-/web", "scales") == ["k8s/Deployment/-/web"]
    assert targets(graph, "k8s/ScaledObject/-/worker", "scales") == ["k8s/Deployment/-/worker"]
    assert replica_floor(graph, node(graph, "k8s/Deployment/-/web")) == 3
    assert replica_floor(graph, node(graph, "k8s/Deployment/-/worker")) == 0  # KEDA scales to zero by default
    assert replica_floor(graph, node(graph, "k8s/Deployment/-/plain")) == 3


def test_find_matches_kind_name_and_namespace() -> None:
    graph = graph_of(
        ("a.yaml", deployment("web", "{app: web}", namespace="shop")),
        ("b.yaml", deployment("web", "{app: web}", namespace="blog")),
    )
    assert [n.id for n in find(graph, "Deployment", "shop", "web")] == ["k8s/Deployment/shop/web"]
    assert len(find(graph, "Deployment", None, "web")) == 2
    assert find(graph, "StatefulSet", "shop", "web") == []


def test_a_name_means_the_nearest_object_and_whole_objects_before_patches() -> None:
    patch = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 4
    """
    graph = graph_of(
        ("shop/base/web.yaml", deployment("web", "{app: web}")),
        ("shop/overlays/prod/web-patch.yaml", patch),
        ("shop/overlays/prod/kustomization.yaml", "resources: [../../base]\npatches:\n  - path: web-patch.yaml\n"),
        ("blog/web.yaml", deployment("web", "{app: blog}")),
        ("blog/unused-patch.yaml", patch),  # shaped like a patch, but no kustomization uses it
    )
    hpa_node = graph_of(
        (
            "shop/overlays/prod/hpa.yaml",
            "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n",
        )
    ).nodes["k8s/HorizontalPodAutoscaler/-/web"]
    candidates = find(graph, "Deployment", None, "web")
    assert len(candidates) == 4
    assert [n.path for n in nearest(hpa_node, candidates)] == ["shop/base/web.yaml"]
    by_path = {n.path: n for n in candidates}
    assert looks_like_patch(by_path["shop/overlays/prod/web-patch.yaml"])
    assert not looks_like_patch(by_path["shop/base/web.yaml"])
    assert not looks_like_patch(by_path["blog/unused-patch.yaml"])


def test_a_name_many_apps_use_means_the_one_in_the_same_app() -> None:
    hpa = (
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: web}\n"
        "spec: {scaleTargetRef: {kind: Deployment, name: web}, minReplicas: 2, maxReplicas: 4}\n"
    )
    files = []
    for app in range(12):  # more than are ranked one by one: found through the folder index
        files.append((f"apps/app{app}/deploy/web.yaml", deployment("web", "{app: web}")))
        files.append((f"apps/app{app}/hpa.yaml", hpa))
    graph = graph_of(
        *files,
        ("apps/app3/deploy/web-patch.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n"),
        ("apps/app3/deploy/kustomization.yaml", "resources: [web.yaml]\npatchesStrategicMerge: [web-patch.yaml]\n"),
    )
    for scaler in graph.of_kind("k8s/HorizontalPodAutoscaler"):
        (target,) = graph.outgoing(scaler, "scales")
        assert target.path == scaler.path.replace("hpa.yaml", "deploy/web.yaml")
    assert nearest_named(graph, node(graph, "k8s/HorizontalPodAutoscaler/-/web~4"), "Deployment", "web") == [
        n for n in find(graph, "Deployment", None, "web") if n.path == "apps/app3/deploy/web.yaml"
    ]


# -- references -------------------------------------------------------------------------------

REFERENCING = """
apiVersion: v1
kind: Pod
metadata: {name: app, namespace: shop}
spec:
  serviceAccountName: app
  imagePullSecrets: [{name: registry}]
  containers:
    - name: app
      image: example/app:1.0
      env:
        - name: A
          valueFrom: {configMapKeyRef: {name: settings, key: a}}
        - name: B
          valueFrom: {secretKeyRef: {name: creds, key: b, optional: true}}
      envFrom:
        - configMapRef: {name: common}
        - secretRef: {name: tokens}
  volumes:
    - name: config
      configMap: {name: files}
    - name: tls
      secret: {secretName: tls}
    - name: bundle
      projected:
        sources:
          - configMap: {name: ca}
          - secret: {name: extra}
          - serviceAccountToken: {path: token}
"""


def test_workload_references_name_every_configmap_secret_and_service_account() -> None:
    graph = graph_of(("pod.yaml", REFERENCING))
    refs = {(r.kind, r.name, r.optional) for r in workload_references(node(graph, "k8s/Pod/shop/app"))}
    assert refs == {
        ("ConfigMap", "settings", False),
        ("Secret", "creds", True),
        ("ConfigMap", "common", False),
        ("Secret", "tokens", False),
        ("ConfigMap", "files", False),
        ("Secret", "tls", False),
        ("ConfigMap", "ca", False),
        ("Secret", "extra", False),
        ("Secret", "registry", False),
        ("ServiceAccount", "app", False),
    }
    paths = {r.name: r.path for r in workload_references(node(graph, "k8s/Pod/shop/app"))}
    assert paths["tls"] == ("spec", "volumes", 1, "secret", "secretName")
    assert paths["settings"] == ("spec", "containers", 0, "env", 0, "valueFrom", "configMapKeyRef", "name")


def test_references_become_edges_to_defined_objects() -> None:
    defined = """
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: settings, namespace: shop}
    ---
    apiVersion: v1
    kind: ServiceAccount
    metadata: {name: app}
    ---
    apiVersion: v1
    kind: Secret
    metadata: {name: tls, namespace: blog}
    """
    graph = graph_of(("pod.yaml", REFERENCING), ("defined.yaml", defined))
    assert targets(graph, "k8s/Pod/shop/app", "references") == [
        "k8s/ConfigMap/shop/settings",
        "k8s/ServiceAccount/-/app",
    ]


def test_generated_and_operator_made_objects_count_as_defined() -> None:
    graph = graph_of(
        (
            "kustomization.yaml",
            """
            apiVersion: kustomize.config.k8s.io/v1beta1
            kind: Kustomization
            namespace: shop
            configMapGenerator: [{name: settings, literals: [a=b]}]
            """,
        ),
        (
            "db.yaml",
            """
            apiVersion: postgresql.cnpg.io/v1
            kind: Cluster
            metadata: {name: pg, namespace: shop}
            spec: {instances: 2}
            """,
        ),
    )
    assert defined_elsewhere(graph, "ConfigMap", "shop", "settings")
    assert not defined_elsewhere(graph, "ConfigMap", "blog", "settings")
    assert defined_elsewhere(graph, "Secret", "shop", "pg-app")
    assert not defined_elsewhere(graph, "Secret", "shop", "pgadmin")
    assert made_by_operator(graph, None, "pg-rw")
