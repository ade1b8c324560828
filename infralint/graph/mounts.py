"""Which container runs which server config: compose bind mounts and k8s ConfigMap volumes.

A config that is mounted into a service or container belongs to it: its memory limit, its
published ports and its network then apply when the config is judged. Edges run
`service/container -mounts-> config` (attrs: container_path, and `at`, the mount in the runner), and each config
lists the nodes it runs in under ``facts["runs_in"]``.
"""

from __future__ import annotations

import posixpath
import shlex
from collections import defaultdict
from typing import Any

from infralint.graph.k8s_links import nearest_named
from infralint.graph.model import Graph, Node
from infralint.images.copies import copied_files

CONFIG_KINDS = ("nginx/config", "haproxy/config", "redis/config", "redis/sentinel")


def link(graph: Graph) -> None:
    files, embedded = _configs(graph)
    for service in graph.of_kind("compose/service"):
        for mount in service.facts.get("bind_mounts") or ():
            if mount.get("inside_root"):
                _mount_files(graph, service, mount, files)
        # A config its Dockerfile copies into the image runs there too.
        for config, target in copied_files(service.facts, files):
            if service.id not in (config.facts.get("runs_in") or ()):  # a bind mount already attached it
                attach(graph, service, config, target, ("build",))
    for container in graph.of_kind("k8s/container"):
        _mount_config_maps(graph, container, embedded)


def _configs(graph: Graph) -> tuple[dict[str, list[Node]], dict[str, list[Node]]]:
    """Root config nodes by file path, and embedded ones by the ConfigMap holding them."""
    files: dict[str, list[Node]] = defaultdict(list)
    embedded: dict[str, list[Node]] = defaultdict(list)
    for node in graph.of_kind(*CONFIG_KINDS):
        holder = node.facts.get("embedded_in")
        if holder:
            embedded[holder].append(node)
        else:
            files[node.path].append(node)
    return files, embedded


def attach(graph: Graph, runner: Node, config: Node, target: str, path: tuple[Any, ...]) -> None:
    graph.link(runner, config, "mounts", container_path=target, at=path)
    runs_in = config.facts.setdefault("runs_in", [])
    if runner.id not in runs_in:
        runs_in.append(runner.id)


def _mount_files(graph: Graph, service: Node, mount: dict[str, Any], files: dict[str, list[Node]]) -> None:
    source = str(mount["source"]).rstrip("/")
    target = str(mount.get("target") or "")
    path = tuple(mount.get("path") or ())
    for config in files.get(source, ()):
        attach(graph, service, config, target, path)
    if source in ("", "."):
        return  # the whole repository mounted as a workspace: its configs are not run there
    prefix = source + "/"
    for file_path, configs in files.items():
        if file_path != source and file_path.startswith(prefix):
            inside = posixpath.join(target, file_path[len(prefix) :])
            for config in configs:
                attach(graph, service, config, inside, path)


def _mount_config_maps(graph: Graph, container: Node, embedded: dict[str, list[Node]]) -> None:
    workload = graph.nodes.get(str(container.facts.get("workload")))
    if workload is None or not embedded:
        return
    pod_spec = graph.nodes.get(f"{workload.id}/pod")
    volumes = (
        {v.get("name"): v for v in (pod_spec.attrs.get("volumes") or []) if isinstance(v, dict)} if pod_spec else {}
    )
    for index, volume_mount in enumerate(container.attrs.get("volumeMounts") or []):
        if not isinstance(volume_mount, dict):
            continue
        volume = volumes.get(volume_mount.get("name"))
        mount_path = str(volume_mount.get("mountPath") or "")
        sub_path = volume_mount.get("subPath")
        for config_map_name, items in _config_map_sources(volume):
            for config_map in nearest_named(graph, workload, "ConfigMap", config_map_name):
                for config in embedded.get(config_map.id, ()):
                    key = str(config.facts.get("embedded_key"))
                    file_name = items.get(key, key) if items else key
                    if items and key not in items:
                        continue  # `items` projects only the keys it lists
                    if sub_path is not None:
                        if sub_path != file_name:
                            continue
                        target = mount_path
                    else:
                        target = posixpath.join(mount_path, file_name)
                    attach(graph, container, config, target, ("volumeMounts", index))


def _config_map_sources(volume: Any) -> list[tuple[str, dict[str, str]]]:
    """(ConfigMap name, key -> file name) of a configMap or projected volume."""
    if not isinstance(volume, dict):
        return []
    sources = []
    candidates = [volume.get("configMap")]
    projected = volume.get("projected")
    if isinstance(projected, dict):
        candidates += [s.get("configMap") for s in projected.get("sources") or [] if isinstance(s, dict)]
    for source in candidates:
        if isinstance(source, dict) and isinstance(source.get("name"), str):
            items = {
                str(item.get("key")): str(item.get("path"))
                for item in source.get("items") or []
                if isinstance(item, dict) and item.get("key") is not None
            }
            sources.append((source["name"], items))
    return sources


def command_line(node: Node) -> list[str]:
    """The command a compose service or k8s container runs (entrypoint/command + args), split."""
    attrs, facts = node.attrs, node.facts
    parts: list[str] = []
    if node.kind == "compose/service":
        for key in ("entrypoint", "command"):
            value = facts.get(key) if facts.get(key) is not None else attrs.get(key)
            parts += _split(value)
    else:
        for key in ("command", "args"):
            parts += _split(attrs.get(key))
    return parts


def _runs_image(node: Node, name: str) -> bool:
    """Whether the node's image is NAME (any registry, tag or digest): `redis`, `docker.io/library/redis:7`."""
    image = node.attrs.get("image")
    if not isinstance(image, str):
        return False
    repository = image.split("@", 1)[0].rsplit("/", 1)[-1].split(":", 1)[0]
    return repository == name


def _split(value: Any) -> list[str]:
    if isinstance(value, str):
        try:
            return shlex.split(value)
        except ValueError:
            return value.split()
    if isinstance(value, list):
        return [str(item) for item in value if item is not None]
    return []


def server_flags(node: Node, program: str = "redis-server") -> dict[str, str] | None:
    """`--name value` options given to PROGRAM on the command line (None when it is not run).

    `redis-server /etc/redis.conf --maxmemory 2gb` -> {"maxmemory": "2gb"}; `sh -c "..."` is read too.
    """
    words = command_line(node)
    if len(words) >= 3 and posixpath.basename(words[0]) in ("sh", "bash", "ash") and words[1] == "-c":
        words = _split(words[2])
    if program == "redis-server" and _runs_image(node, "redis") and (not words or words[0].startswith("-")):
        # The redis image's entrypoint runs redis-server with flag-only arguments (or none).
        words = ["redis-server", *words]
    if not any(posixpath.basename(word) == program for word in words):
        return None
    start = next(i for i, word in enumerate(words) if posixpath.basename(word) == program)
    flags: dict[str, str] = {}
    rest = words[start + 1 :]
    for index, word in enumerate(rest):
        if word.startswith("--") and len(word) > 2:
            name = word[2:].lower()
            value = rest[index + 1] if index + 1 < len(rest) and not rest[index + 1].startswith("--") else ""
            flags[name] = value
    return flags
