"""Kubernetes manifests: one node per object, per pod template and per container.

Effective values are resolved here, once, so rules judge what the API server will run:
pod-level securityContext fields apply to each container, and a limit defaults its request.
"""

from __future__ import annotations

import os
import posixpath
from typing import Any

from infralint.findings import Finding
from infralint.graph.model import Node, SpanMap
from infralint.parsers.result import ParseResult, dig, input_finding, yaml_error_finding
from infralint.parsers.yamlpos import Path, Pos, YamlDocument, YamlInputError, load_documents
from infralint.source import SourceFile

IGNORE_ANNOTATION = "infralint.dev/ignore"

# Where each workload keeps its pod spec.
POD_SPEC_PATHS: dict[str, Path] = {
    "Pod": ("spec",),
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "ReplicationController": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}
# Well-known custom resources that run long-lived pods from a template of their own, keyed by
# API group and kind, so that another group's resource that happens to share the kind name is
# not taken for one. OpenShift 3 served DeploymentConfig in the legacy group too (`apiVersion: v1`).
# An Argo Rollout that points at a Deployment (spec.workloadRef) has no template: no pods of its own.
CUSTOM_POD_SPEC_PATHS: dict[tuple[str, str], Path] = {
    ("apps.openshift.io", "DeploymentConfig"): ("spec", "template", "spec"),
    ("", "DeploymentConfig"): ("spec", "template", "spec"),
    ("argoproj.io", "Rollout"): ("spec", "template", "spec"),
    ("apps.kruise.io", "CloneSet"): ("spec", "template", "spec"),
    ("serving.knative.dev", "Service"): ("spec", "template", "spec"),
}
RUN_TO_COMPLETION = frozenset({"Job", "CronJob"})
# Workloads with spec.replicas (a Knative Service is scaled by its own autoscaler instead).
REPLICATED_KINDS = frozenset(
    {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController", "DeploymentConfig", "Rollout", "CloneSet"}
)
# Kinds whose spec.replicas has no default: absent is zero (OpenShift's replicas is a plain int32).
ZERO_REPLICAS_DEFAULT = frozenset({"DeploymentConfig"})
KUSTOMIZATION_NAMES = frozenset({"kustomization.yaml", "kustomization.yml", "kustomization"})
KUSTOMIZE_API = "kustomize.config.k8s.io/v1beta1"

# API groups whose objects the Kubernetes API server decodes itself: there a null field is the
# same as no field. Custom resources are left as written (a Helm values null unsets a default).
BUILT_IN_GROUPS = frozenset({"", "apps", "batch", "policy", "autoscaling", "extensions"})
# Maps of user-chosen strings: a null value there is an empty string, not a missing field.
STRING_MAPS = frozenset({"labels", "annotations", "matchLabels", "nodeSelector", "data", "stringData", "binaryData"})

# Pod securityContext fields that a container inherits unless it sets its own.
INHERITED_SECURITY_FIELDS = (
    "runAsUser",
    "runAsGroup",
    "runAsNonRoot",
    "seLinuxOptions",
    "seccompProfile",
    "windowsOptions",
    "appArmorProfile",
)


def parse(source: SourceFile) -> ParseResult:
    """Templates (Helm, Jinja) are recognised by what they do to YAML: they break it, or turn
    `key: {{ value }}` into a mapping used as a key. `{{` inside strings is plain data."""
    result = ParseResult()
    documents = []
    try:
        for doc in load_documents(source.text):
            documents.append(doc)
    except YamlInputError as error:
        if "{{" in source.text and not source.rendered:
            result.findings.append(_template_finding(source))
            return result
        result.findings.append(yaml_error_finding(source, error))
    if "{{" in source.text and not source.rendered and any(doc.complex_keys for doc in documents):
        result.findings.append(_template_finding(source))
        return result
    for doc in documents:
        first_new = len(result.nodes)
        result.documents += 1
        _add_document(source, doc.data, doc.positions, result)
        _embedded_configs(source, doc, result, first_new)
    return result


def _template_finding(source: SourceFile) -> Finding:
    line = source.text.count("\n", 0, source.text.index("{{")) + 1
    if _in_chart(source.abspath):
        message = (
            "template syntax ({{ }}) in a Helm chart that was not rendered: install `infralint[helm]` "
            "(or put `helm` on PATH) to render the chart and judge what it produces"
        )
    else:
        message = "template syntax ({{ }}): render the chart or template, then scan the output"
    return input_finding("infralint-unsupported-template", message, source.span(line))


def _in_chart(abspath: str) -> bool:
    """Whether a file lies in the templates/ folder of a Helm chart."""
    from infralint.render.charts import chart_file_in

    folder = os.path.dirname(abspath)
    while os.path.basename(folder) != "templates":
        parent = os.path.dirname(folder)
        if parent == folder:
            return False
        folder = parent
    return chart_file_in(os.path.dirname(folder)) is not None


def _add_document(source: SourceFile, data: Any, positions: dict[Path, Pos], result: ParseResult) -> None:
    if not isinstance(data, dict):
        return
    kind = data.get("kind")
    items = data.get("items")
    if isinstance(kind, str) and kind.endswith("List") and isinstance(items, list):
        for index, item in enumerate(items):
            if isinstance(item, dict):
                _add_object(source, item, positions, ("items", index), result)
        return
    _add_object(source, data, positions, (), result)


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []


def _ignored(metadata: dict[str, Any]) -> frozenset[str]:
    value = _dict(metadata.get("annotations")).get(IGNORE_ANNOTATION)
    if not isinstance(value, str):
        return frozenset()
    return frozenset(part.strip() for part in value.split(",") if part.strip())


def _add_object(
    source: SourceFile, obj: dict[str, Any], positions: dict[Path, Pos], prefix: Path, result: ParseResult
) -> None:
    kind = _text(obj.get("kind"))
    api_version = _text(obj.get("apiVersion"))
    metadata = _dict(obj.get("metadata"))
    name = _text(metadata.get("name")) or _text(metadata.get("generateName")) or "<unnamed>"
    if is_kustomization_file(source.path) and not prefix:
        # Most kustomization files carry no apiVersion/kind; they are named by their folder.
        kind, api_version = "Kustomization", api_version or KUSTOMIZE_API
        name = _text(metadata.get("name")) or (posixpath.dirname(source.path) or ".")
    if not kind or not api_version:
        return
    if _built_in(api_version):
        drop_nulls(obj)
    namespace = _text(metadata.get("namespace"))
    object_id = f"k8s/{kind}/{namespace or '-'}/{name}"
    pod_path = pod_spec_path(api_version, kind)
    template = dig(obj, pod_path[:-1]) if pod_path is not None and kind not in POD_SPEC_PATHS else None
    if isinstance(template, dict) and not _built_in(api_version):
        # A custom workload's pod template is a core PodTemplateSpec: a null there is no field too.
        drop_nulls(template)
    pod_spec = dig(obj, pod_path) if pod_path else None
    is_workload = isinstance(pod_spec, dict)
    kinds = (f"k8s/{kind}", "k8s/workload", "k8s/object") if is_workload else (f"k8s/{kind}", "k8s/object")
    spans = SpanMap(source.path, positions, prefix)
    root = positions.get(prefix)
    ignored = _ignored(metadata)
    facts: dict[str, Any] = {
        "kind": kind,
        "apiVersion": api_version,
        "name": name,
        "namespace": namespace,
        "object": f"{kind}/{name}",
    }
    if is_workload and pod_path is not None:
        template_meta = obj if kind == "Pod" else dig(obj, pod_path[:-1])
        facts["pod_labels"] = {
            str(k): str(v) for k, v in _dict(_dict(_dict(template_meta).get("metadata")).get("labels")).items()
        }
        facts["pod_spec_path"] = pod_path
        # A template without containers makes no pods (the API rejects it): selectors skip it.
        facts["containers"] = sum(1 for item in _list(_dict(pod_spec).get("containers")) if isinstance(item, dict))
        if kind in REPLICATED_KINDS:
            facts["replicas"] = _replicas(_dict(obj.get("spec")), 0 if kind in ZERO_REPLICAS_DEFAULT else 1)
    obj_node = Node(
        object_id,
        kinds,
        obj,
        spans,
        facts,
        end_line=root[2] if root else None,
        ignored_rules=ignored,
    )
    result.nodes.append(obj_node)
    if not is_workload or pod_path is None:
        return
    assert isinstance(pod_spec, dict)
    pod_prefix = prefix + pod_path
    pod_pos = positions.get(pod_prefix)
    pod_node = Node(
        f"{object_id}/pod",
        ("k8s/pod-spec",),
        pod_spec,
        SpanMap(source.path, positions, pod_prefix),
        {**facts, "workload": object_id},
        parent=object_id,
        end_line=pod_pos[2] if pod_pos else None,
        ignored_rules=ignored,
    )
    result.nodes.append(pod_node)
    triggered = _image_trigger_containers(obj) if kind == "DeploymentConfig" else {}
    for field_name, is_init in (("initContainers", True), ("containers", False)):
        for index, container in enumerate(_list(pod_spec.get(field_name))):
            if isinstance(container, dict):
                if triggered and _text(container.get("name")) in triggered:
                    # OpenShift writes the image the ImageStreamTag resolves to (a digest) at each
                    # deploy: whatever `image:` says (often " ") is not what runs.
                    container = {key: value for key, value in container.items() if key != "image"}
                result.nodes.append(
                    _container_node(
                        source,
                        positions,
                        pod_prefix,
                        pod_spec,
                        field_name,
                        index,
                        container,
                        is_init,
                        facts,
                        object_id,
                        ignored,
                    )
                )


def _container_node(
    source: SourceFile,
    positions: dict[Path, Pos],
    pod_prefix: Path,
    pod_spec: dict[str, Any],
    field_name: str,
    index: int,
    container: dict[str, Any],
    is_init: bool,
    facts: dict[str, Any],
    object_id: str,
    ignored: frozenset[str],
) -> Node:
    prefix = (*pod_prefix, field_name, index)
    extra: dict[Path, Pos] = {}
    attrs = dict(container)
    _apply_pod_security(attrs, pod_spec, positions, pod_prefix, extra)
    _default_requests(attrs, positions, prefix, extra)
    name = _text(container.get("name")) or f"#{index}"
    kinds = ["k8s/container", "k8s/init-container" if is_init else "k8s/app-container"]
    if not is_init and not runs_to_completion(facts["kind"], pod_spec):
        kinds.append("k8s/long-running-container")
    pos = positions.get(prefix)
    return Node(
        f"{object_id}/{'initContainer' if is_init else 'container'}/{name}",
        tuple(kinds),
        attrs,
        SpanMap(source.path, positions, prefix, extra),
        {**facts, "container": name, "workload": object_id, "init": is_init},
        parent=object_id,
        end_line=pos[2] if pos else None,
        ignored_rules=ignored,
    )


def _image_trigger_containers(obj: dict[str, Any]) -> dict[str, str]:
    """The containers of a DeploymentConfig whose image an ImageChange trigger sets, with the
    ImageStreamTag it takes the image from."""
    found: dict[str, str] = {}
    for trigger in _list(_dict(obj.get("spec")).get("triggers")):
        params = _dict(_dict(trigger).get("imageChangeParams"))
        if _dict(trigger).get("type") != "ImageChange" or params.get("automatic") is False:
            continue
        source = str(_dict(params.get("from")).get("name") or "")
        for name in _list(params.get("containerNames")):
            if isinstance(name, str):
                found[name] = source
    return found


def pod_spec_path(api_version: str, kind: str) -> Path | None:
    """Where an object of this apiVersion and kind keeps its pod spec; None when it has none.
    Built-in workload kinds are known by kind alone (OpenKruise's drop-in StatefulSet and
    DaemonSet keep their shape); custom ones by API group and kind."""
    path = POD_SPEC_PATHS.get(kind)
    if path is None:
        path = CUSTOM_POD_SPEC_PATHS.get((api_version.rpartition("/")[0], kind))
    return path


def _built_in(api_version: str) -> bool:
    group = api_version.rpartition("/")[0]
    return group in BUILT_IN_GROUPS or group.endswith(".k8s.io")


def drop_nulls(data: Any) -> None:
    """Remove the null fields of an object, in place: `resources:` with nothing under it,
    `securityContext: null` or `limits: {memory: null}` are what the API server stores as no
    field, so every rule sees one shape for both. The position table keeps the removed keys,
    so a finding about a missing field can still point at the line that names it."""
    stack = [data]
    while stack:  # not recursive: a hostile file may nest deeper than Python's stack
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(value for value in item if isinstance(value, (dict, list)))
            continue
        for key in [key for key, value in item.items() if value is None]:
            del item[key]
        for key, value in item.items():
            if isinstance(value, (dict, list)) and not _string_map(key, value):
                stack.append(value)


def _string_map(key: Any, value: Any) -> bool:
    """Labels, annotations, data and a Service's plain selector map: values, not fields."""
    if key in STRING_MAPS:
        return True
    return key == "selector" and isinstance(value, dict) and not {"matchLabels", "matchExpressions"} & value.keys()


def _replicas(spec: dict[str, Any], default: int = 1) -> int | None:
    """spec.replicas: the API default when absent (1, 0 for a DeploymentConfig), None when not a
    number (`${REPLICAS}`)."""
    if spec.get("replicas") is None:
        return default
    value = spec["replicas"]
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def is_kustomization_file(path: str) -> bool:
    return posixpath.basename(path).lower() in KUSTOMIZATION_NAMES


def runs_to_completion(kind: str, pod_spec: dict[str, Any]) -> bool:
    """Jobs, CronJobs and bare Pods that are not restarted finish: probes do not apply."""
    if kind in RUN_TO_COMPLETION:
        return True
    return kind == "Pod" and pod_spec.get("restartPolicy") in ("Never", "OnFailure")


def _apply_pod_security(
    attrs: dict[str, Any],
    pod_spec: dict[str, Any],
    positions: dict[Path, Pos],
    pod_prefix: Path,
    extra: dict[Path, Pos],
) -> None:
    pod_context = _dict(pod_spec.get("securityContext"))
    inherited = {key: pod_context[key] for key in INHERITED_SECURITY_FIELDS if key in pod_context}
    if not inherited:
        return
    own = attrs.get("securityContext")
    merged = dict(inherited)
    if isinstance(own, dict):
        merged.update(own)
    attrs["securityContext"] = merged
    for key in inherited:
        if not isinstance(own, dict) or key not in own:
            pos = positions.get((*pod_prefix, "securityContext", key))
            if pos is not None:
                extra[("securityContext", key)] = pos


def _default_requests(attrs: dict[str, Any], positions: dict[Path, Pos], prefix: Path, extra: dict[Path, Pos]) -> None:
    resources = attrs.get("resources")
    if not isinstance(resources, dict):
        return
    limits = _dict(resources.get("limits"))
    requests = resources.get("requests")
    missing = {k: v for k, v in limits.items() if not isinstance(requests, dict) or k not in requests}
    if not missing:
        return
    merged_requests = dict(requests) if isinstance(requests, dict) else {}
    merged_requests.update(missing)
    attrs["resources"] = {**resources, "requests": merged_requests}
    for key in missing:
        pos = positions.get((*prefix, "resources", "limits", key))
        if pos is not None:
            extra[("resources", "requests", key)] = pos


def _embedded_configs(source: SourceFile, doc: YamlDocument, result: ParseResult, first_new: int) -> None:
    """Parse nginx/HAProxy/Redis configs held in ConfigMap data, with positions in this file."""
    for node in result.nodes[first_new:]:
        if node.kind != "k8s/ConfigMap":
            continue
        # YAML style and first line of each multi-line data value, for rules that point inside one.
        data_path = (*node.spans.prefix, "data")
        node.facts["data_blocks"] = {path[-1]: block for path, block in doc.blocks.items() if path[:-1] == data_path}
        data = node.attrs.get("data")
        if not isinstance(data, dict):
            continue
        for key, value in data.items():
            if not isinstance(value, str) or not isinstance(key, str):
                continue
            kind = embedded_kind(key, value)
            if kind is None:
                continue
            path = (*node.spans.prefix, "data", key)
            embedded = _embedded_source(source, doc, path, key, value, kind, node.id)
            _parse_embedded(embedded, node, result)


def embedded_kind(key: str, value: str) -> str | None:
    from infralint import sniff
    from infralint.parsers.registry import PARSER_MODULES

    if "\n" not in value.strip():
        return None
    kind = sniff.kind_by_name(key.lower()) or sniff.kind_by_content(key, value)
    return kind if kind in PARSER_MODULES and kind != "k8s" else None


def _embedded_source(
    source: SourceFile, doc: YamlDocument, path: Path, key: str, value: str, kind: str, holder: str
) -> SourceFile:
    key_pos = doc.positions.get(path)
    key_line = key_pos[0] if key_pos else doc.line
    embedded = SourceFile(
        source.path, source.abspath, value, kind, root=source.root, embedded_in=holder, embedded_key=key
    )
    style, start_line = doc.blocks.get(path, ("", key_line))
    _map_lines(embedded, source.text, style, start_line, key_line)
    return embedded


def _map_lines(embedded: SourceFile, outer: str, style: str, start_line: int, key_line: int) -> None:
    """Positions of the config's lines in the YAML file: exact where the string's characters can
    be found there (a literal block, a quoted string), else every position at the key (a plain
    scalar, a folded block, a mismatch)."""
    from infralint.parsers.embedded_lines import scalar_lines

    found = scalar_lines(outer, style, start_line, embedded.text) if style in ("", "|", '"', "'") else None
    if found is None:
        embedded.flat_line = key_line
    elif found.position_map is not None:
        embedded.position_map = found.position_map
    else:
        embedded.line_offset, embedded.col_offset = found.line_offset, found.col_offset


def _parse_embedded(embedded: SourceFile, holder: Node, result: ParseResult) -> None:
    from infralint.parsers.registry import parser_for

    parse = parser_for(embedded.kind)
    if parse is None:
        return
    try:
        inner = parse(embedded)
    except Exception as error:  # the rest of the manifest still counts
        message = f"internal error while parsing {embedded.kind} in data key {embedded.embedded_key!r}: {type(error).__name__}: {error}"
        result.findings.append(input_finding("infralint-rule-error", message, embedded.span(1)))
        return
    for node in inner.nodes:
        if node.parent is None:
            node.parent = holder.id  # the ConfigMap contains the config: suppressions reach it
        node.ignored_rules = node.ignored_rules | holder.ignored_rules
        node.facts.setdefault("embedded_in", holder.id)
        node.facts.setdefault("embedded_key", embedded.embedded_key)
    result.nodes.extend(inner.nodes)
    result.findings.extend(inner.findings)
