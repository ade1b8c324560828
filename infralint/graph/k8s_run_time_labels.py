"""Pod labels that no manifest writes: a controller or the app inside the pod sets them at run time.

A selector that asks for one of them beside the template's own labels still finds pods once
they run, so "selects nothing" would be wrong there. Labels whose value the scan can compute
(`job-name` of a Job, a StatefulSet pod's `statefulset.kubernetes.io/pod-name` and
`apps.kubernetes.io/pod-index`) are matched exactly by k8s_links instead; the table holds those
whose value is only known once the pods exist.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, NamedTuple

# Where Kubernetes defines each key (the constants its controllers use).
APPS_V1 = "https://github.com/kubernetes/api/blob/master/apps/v1/types.go"
BATCH_V1 = "https://github.com/kubernetes/api/blob/master/batch/v1/types.go"


class ControllerLabel(NamedTuple):
    key: str
    kinds: frozenset[str]  # workload kinds whose pods the controller labels
    setter: str  # who sets it, as a message names it
    source: str


CONTROLLER_LABELS: tuple[ControllerLabel, ...] = (
    ControllerLabel(
        "pod-template-hash",
        frozenset({"Deployment"}),
        "the Deployment controller, one value per revision of the pod template",
        APPS_V1,  # DefaultDeploymentUniqueLabelKey
    ),
    ControllerLabel(
        "controller-revision-hash",
        frozenset({"StatefulSet", "DaemonSet", "CloneSet"}),
        "the StatefulSet, DaemonSet or CloneSet controller, one value per revision of the pod template",
        APPS_V1,  # ControllerRevisionHashLabelKey
    ),
    ControllerLabel(
        "rollouts-pod-template-hash",
        frozenset({"Rollout"}),
        "the Argo Rollouts controller, one value per revision of the pod template",
        "https://argo-rollouts.readthedocs.io/en/stable/features/specification/",
    ),
    # The `deploymentconfig` label holds the DeploymentConfig's name: k8s_links matches it exactly.
    ControllerLabel(
        "deployment",
        frozenset({"DeploymentConfig"}),
        "the OpenShift DeploymentConfig controller, <name>-<number> for each of its rollouts",
        "https://github.com/openshift/api/blob/master/apps/v1/types.go",
    ),
    ControllerLabel(
        "pod-template-generation",
        frozenset({"DaemonSet"}),
        "the DaemonSet controller, the generation of the pod template",
        "https://github.com/kubernetes/api/blob/master/extensions/v1beta1/types.go",  # DaemonSetTemplateGenerationKey
    ),
    ControllerLabel(
        "controller-uid",
        frozenset({"Job", "CronJob"}),
        "the Job controller, the uid of the Job",
        BATCH_V1,  # the legacy twin of ControllerUidLabel
    ),
    ControllerLabel(
        "batch.kubernetes.io/controller-uid",
        frozenset({"Job", "CronJob"}),
        "the Job controller, the uid of the Job",
        BATCH_V1,  # ControllerUidLabel
    ),
    # A CronJob's Jobs are named at each run, so their pods' job-name is only known then.
    ControllerLabel(
        "job-name",
        frozenset({"CronJob"}),
        "the Job controller, the name of each Job the CronJob starts",
        BATCH_V1,  # the legacy twin of JobNameLabel
    ),
    ControllerLabel(
        "batch.kubernetes.io/job-name",
        frozenset({"CronJob"}),
        "the Job controller, the name of each Job the CronJob starts",
        BATCH_V1,  # JobNameLabel
    ),
)
# Indexed Jobs label each pod with its completion index (a label since v1.28, before only an annotation).
JOB_INDEX_LABEL = ControllerLabel(
    "batch.kubernetes.io/job-completion-index",
    frozenset({"Job", "CronJob"}),
    "the Job controller, each pod's completion index (completionMode: Indexed)",
    "https://www.kubernetes.dev/resources/keps/4017/",
)


class AppLabel(NamedTuple):
    """A label the process in the pod sets on its own pod, once it knows its role."""

    default_key: str
    key_setting: str  # the env variable that renames the label
    setter: str
    source: str


# Patroni, with Kubernetes as its store of cluster state, labels the primary and the replicas,
# so that a Service can select the primary. Spilo (Zalando's Patroni image) names that label
# spilo-role.
PATRONI = AppLabel(
    "role",
    "PATRONI_KUBERNETES_ROLE_LABEL",
    "Patroni, on the primary and the replicas once they are elected",
    "https://patroni.readthedocs.io/en/latest/ENVIRONMENT.html#kubernetes",
)
SPILO = AppLabel(
    "spilo-role",
    "KUBERNETES_ROLE_LABEL",
    "Patroni in the Spilo image, on the primary and the replicas once they are elected",
    "https://github.com/zalando/spilo/blob/master/ENVIRONMENT.rst",
)
# Environment prefixes of Patroni's other stores of cluster state: with one of them Patroni
# does not label pods.
_OTHER_STORES = ("PATRONI_ETCD", "PATRONI_CONSUL", "PATRONI_ZOOKEEPER", "PATRONI_EXHIBITOR", "PATRONI_RAFT")
_SPILO_OTHER_STORES = ("ETCD_HOST", "ETCD_HOSTS", "ETCD_URL", "ETCD_PROXY", "ETCD_DISCOVERY_DOMAIN")


def run_time_labels(workload_kind: str, pod_owner_spec: dict[str, Any], containers: Iterable[Any]) -> dict[str, str]:
    """The label keys the pods of a workload get at run time, with who sets each.

    ``pod_owner_spec`` is the spec that holds the pod template (a Job's for a CronJob);
    ``containers`` are the attrs of the pod's containers.
    """
    found = {label.key: label.setter for label in CONTROLLER_LABELS if workload_kind in label.kinds}
    if workload_kind in JOB_INDEX_LABEL.kinds and pod_owner_spec.get("completionMode") == "Indexed":
        found[JOB_INDEX_LABEL.key] = JOB_INDEX_LABEL.setter
    for container in containers:
        for app in _apps_in(container):
            found[_label_key(app, container)] = app.setter
    return found


def _apps_in(container: Any) -> Iterator[AppLabel]:
    if not isinstance(container, dict):
        return
    env = _env(container)
    image = str(container.get("image") or "").rsplit("/", 1)[-1].lower()
    if "spilo" in image or "DCS_ENABLE_KUBERNETES_API" in env:
        # Spilo picks Kubernetes as its store unless it is given etcd (or told otherwise).
        if "DCS_ENABLE_KUBERNETES_API" in env or not any(name in env for name in _SPILO_OTHER_STORES):
            yield SPILO
        return
    configured = any(name.startswith("PATRONI_KUBERNETES_") for name in env)
    if configured or ("patroni" in image and not any(name.startswith(_OTHER_STORES) for name in env)):
        yield PATRONI


def _env(container: dict[str, Any]) -> dict[str, Any]:
    entries = container.get("env")
    return {
        entry["name"]: entry.get("value")
        for entry in (entries if isinstance(entries, list) else ())
        if isinstance(entry, dict) and isinstance(entry.get("name"), str)
    }


def _label_key(app: AppLabel, container: dict[str, Any]) -> str:
    renamed = _env(container).get(app.key_setting)
    return renamed if isinstance(renamed, str) and renamed else app.default_key
