"""Well-known custom workload kinds (Argo Rollout, OpenShift DeploymentConfig, OpenKruise CloneSet,
Knative Service) are workloads, recognised by API group and kind."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from scanning import found, scan_tree

from infralint.graph.build import build
from infralint.graph.k8s_links import declared_replicas, replica_floor, selected_workloads
from infralint.graph.model import Graph
from infralint.parsers.kubernetes import parse, pod_spec_path
from infralint.source import SourceFile


def graph_of(text: str, path: str = "app.yaml") -> Graph:
    source = SourceFile(path=path, abspath="/" + path, text=textwrap.dedent(text), kind="k8s")
    return build(parse(source).nodes)


def custom(api_version: str, kind: str, name: str = "web", spec: str = "") -> str:
    return f"""
apiVersion: {api_version}
kind: {kind}
metadata:
  name: {name}
spec:{spec}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
        - name: app
          image: registry.example.com/{name}:1.0.0
"""


@pytest.mark.parametrize(
    ("api_version", "kind", "workload"),
    [
        ("argoproj.io/v1alpha1", "Rollout", True),
        ("apps.openshift.io/v1", "DeploymentConfig", True),
        ("v1", "DeploymentConfig", True),  # OpenShift 3's legacy group
        ("apps.kruise.io/v1alpha1", "CloneSet", True),
        ("serving.knative.dev/v1", "Service", True),
        ("delivery.example.com/v1", "Rollout", False),  # another group's kind of the same name
        ("example.com/v1", "DeploymentConfig", False),
        ("v1", "Service", False),
        ("argoproj.io/v1alpha1", "Workflow", False),  # runs to completion: not a workload
    ],
)
def test_custom_kinds_are_workloads_by_group_and_kind(api_version: str, kind: str, workload: bool) -> None:
    graph = graph_of(custom(api_version, kind))
    node = graph.nodes[f"k8s/{kind}/-/web"]
    assert ("k8s/workload" in node.kinds) is workload
    assert (f"k8s/{kind}/-/web/container/app" in graph.nodes) is workload
    assert (pod_spec_path(api_version, kind) is not None) is workload


def test_containers_of_a_rollout_are_long_running() -> None:
    graph = graph_of(custom("argoproj.io/v1alpha1", "Rollout"))
    container = graph.nodes["k8s/Rollout/-/web/container/app"]
    assert "k8s/long-running-container" in container.kinds


def test_a_rollout_with_a_workload_ref_runs_no_pods_of_its_own() -> None:
    graph = graph_of("""
    apiVersion: argoproj.io/v1alpha1
    kind: Rollout
    metadata: {name: web}
    spec:
      replicas: 4
      selector: {matchLabels: {app: web}}
      workloadRef: {apiVersion: apps/v1, kind: Deployment, name: web}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 0
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: app, image: "registry.example.com/web:1.0.0"}]
    """)
    rollout = graph.nodes["k8s/Rollout/-/web"]
    deployment = graph.nodes["k8s/Deployment/-/web"]
    assert "k8s/workload" not in rollout.kinds
    assert [n.id for n in graph.incoming(deployment, "scales")] == [rollout.id]
    assert replica_floor(graph, deployment) == 4
    pods = list(selected_workloads(graph, None, {"matchLabels": {"app": "web"}}))
    assert [w.id for w in pods] == [deployment.id]


def test_a_workload_ref_rollout_under_an_autoscaler_passes_the_floor_on() -> None:
    graph = graph_of("""
    apiVersion: argoproj.io/v1alpha1
    kind: Rollout
    metadata: {name: web}
    spec:
      selector: {matchLabels: {app: web}}
      workloadRef: {kind: Deployment, name: web}
    ---
    apiVersion: autoscaling/v2
    kind: HorizontalPodAutoscaler
    metadata: {name: web}
    spec:
      scaleTargetRef: {apiVersion: argoproj.io/v1alpha1, kind: Rollout, name: web}
      minReplicas: 3
      maxReplicas: 9
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web}
    spec:
      replicas: 0
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers: [{name: app, image: "registry.example.com/web:1.0.0"}]
    """)
    assert replica_floor(graph, graph.nodes["k8s/Deployment/-/web"]) == 3


def test_a_deployment_config_without_replicas_runs_none() -> None:
    graph = graph_of(custom("apps.openshift.io/v1", "DeploymentConfig"))
    node = graph.nodes["k8s/DeploymentConfig/-/web"]
    assert node.facts["replicas"] == 0
    assert declared_replicas(node) == 0
    rollout = graph_of(custom("argoproj.io/v1alpha1", "Rollout", spec="\n  replicas: null")).nodes["k8s/Rollout/-/web"]
    assert rollout.facts["replicas"] == 1 and declared_replicas(rollout) == 1


def test_deployment_config_pods_carry_their_config_name() -> None:
    graph = graph_of(custom("apps.openshift.io/v1", "DeploymentConfig", name="api"))
    pods = list(selected_workloads(graph, None, {"deploymentconfig": "api"}, plain=True))
    assert [w.id for w in pods] == ["k8s/DeploymentConfig/-/api"]


def test_nulls_in_a_custom_pod_template_are_no_field(tmp_path: Path) -> None:
    (tmp_path / "rollout.yaml").write_text(
        textwrap.dedent("""\
        apiVersion: argoproj.io/v1alpha1
        kind: Rollout
        metadata: {name: web}
        spec:
          replicas: 2
          selector: {matchLabels: {app: web}}
          template:
            metadata: {labels: {app: web}}
            spec:
              securityContext: null
              containers:
                - name: app
                  image: registry.example.com/web:1.0.0
                  resources:
                    limits: {memory: null, cpu: 100m}
        """)
    )
    report = scan_tree(tmp_path, select=["k8s-missing-memory-limit"])
    assert found(report) == {("rollout.yaml", 15, "k8s-missing-memory-limit")}


def test_a_rollout_selector_mismatch_names_the_rollouts_controller(tmp_path: Path) -> None:
    (tmp_path / "rollout.yaml").write_text(
        textwrap.dedent("""\
        apiVersion: argoproj.io/v1alpha1
        kind: Rollout
        metadata: {name: web}
        spec:
          selector: {matchLabels: {app: webapp}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers: [{name: app, image: "registry.example.com/web:1.0.0"}]
        """)
    )
    report = scan_tree(tmp_path, select=["k8s-selector-mismatch"])
    [finding] = report.findings
    assert "Argo Rollouts controller rejects it" in finding.message
    assert finding.span.line == 5


def test_a_selector_less_rollout_in_a_kustomize_patch_is_not_judged_alone(tmp_path: Path) -> None:
    (tmp_path / "kustomization.yaml").write_text("resources: [rollout.yaml]\npatches:\n  - path: patch.yaml\n")
    (tmp_path / "rollout.yaml").write_text(
        textwrap.dedent(custom("argoproj.io/v1alpha1", "Rollout", spec="\n  selector: {matchLabels: {app: web}}"))
    )
    (tmp_path / "patch.yaml").write_text(
        textwrap.dedent("""\
        apiVersion: argoproj.io/v1alpha1
        kind: Rollout
        metadata: {name: web}
        spec:
          replicas: 3
          template:
            spec:
              containers: [{name: app, image: "registry.example.com/web:2.0.0"}]
        """)
    )
    report = scan_tree(tmp_path, select=["k8s-selector-mismatch", "k8s-single-replica"], render=False)
    assert not [f for f in report.findings if f.span.path == "patch.yaml"]


def test_an_image_change_trigger_sets_the_image_of_the_containers_it_names() -> None:
    graph = graph_of("""
    apiVersion: apps.openshift.io/v1
    kind: DeploymentConfig
    metadata: {name: web}
    spec:
      replicas: 2
      triggers:
        - type: ImageChange
          imageChangeParams:
            automatic: true
            containerNames: [app]
            from: {kind: ImageStreamTag, name: "web:latest"}
      template:
        metadata: {labels: {app: web}}
        spec:
          containers:
            - {name: app, image: " "}
            - {name: proxy, image: "nginx:1.27"}
    """)
    assert "image" not in graph.nodes["k8s/DeploymentConfig/-/web/container/app"].attrs
    assert graph.nodes["k8s/DeploymentConfig/-/web/container/proxy"].attrs["image"] == "nginx:1.27"
