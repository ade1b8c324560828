"""Disaster recovery: datastores whose data has nowhere to survive a container or pod restart."""

from __future__ import annotations

import posixpath
import re
import shlex
from collections.abc import Iterator
from typing import Any

from infralint.graph.k8s_links import nearest_named
from infralint.graph.model import Node
from infralint.graph.mounts import command_line, server_flags
from infralint.images import datastores
from infralint.images import known as known_images
from infralint.images.datastores import Datastore
from infralint.parsers.result import dig
from infralint.rules.meta import CheckFn, Hit, RuleContext

SHELLS = frozenset({"sh", "bash", "ash", "dash"})


def _datastore(image: Any) -> Datastore | None:
    """The datastore an image reference runs (infralint/images/datastores.yaml), if known."""
    reference = known_images.parse_reference(image) if isinstance(image, str) else None
    return datastores.lookup(reference.repository) if reference else None


def _covers(target: Any, directory: str) -> bool:
    """A mount at TARGET holds DIRECTORY: it is the directory or one of its parents."""
    if not isinstance(target, str) or not target.startswith("/"):
        return False
    mount = posixpath.normpath(target)
    return mount == "/" or directory == mount or directory.startswith(mount + "/")


def _data_directory(store: Datastore, environment: dict[str, Any], node: Node, ctx: RuleContext) -> str | None:
    """Where the server keeps its data: the image's default, moved by PGDATA (postgres's entrypoint
    initialises the cluster there), by the `dir` of a Redis config mounted into it, or by the
    server's own command-line option (`--dbpath`, `--datadir`, `--dir`). None when it is moved to
    a place not known here (a variable, a relative path, a value from a Secret)."""
    directory: Any = store.data
    if store.engine == "postgres" and environment.get("PGDATA") is not None:
        directory = environment["PGDATA"]
    if store.engine == "redis":
        for config in ctx.graph.outgoing(node, "mounts"):
            moved = (config.attrs.get("settings") or {}).get("dir") if config.kind == "redis/config" else None
            if isinstance(moved, list) and len(moved) == 1:
                directory = moved[0]
    if store.option:
        moved = _option_value(command_line(node), store.option)
        if moved is not None:
            directory = _expand(moved, environment) if "$(" in moved else moved
    if not isinstance(directory, str) or not directory.startswith("/") or "$" in directory:
        return None
    return posixpath.normpath(directory)


def _option_value(words: list[str], option: str) -> str | None:
    """The value of the last `OPTION VALUE` or `OPTION=VALUE` in a command line (a `sh -c`
    script's words included)."""
    if len(words) >= 3 and posixpath.basename(words[0]) in SHELLS and words[1] == "-c":
        words = [*words[:2], *_split(words[2])]
    value = None
    for index, word in enumerate(words):
        if word == option and index + 1 < len(words):
            value = words[index + 1]
        elif word.startswith(option + "="):
            value = word[len(option) + 1 :]
    return value


def _split(script: str) -> list[str]:
    try:
        return shlex.split(script)
    except ValueError:
        return script.split()


_UNKNOWN = object()  # an environment value set from elsewhere (valueFrom, a Secret)


def _redis_persists(node: Node, ctx: RuleContext) -> bool:
    """Redis keeps data only where its config or command turns snapshots or the AOF on. A Redis
    started with neither (no config file, no persistence flag) is taken for a cache, though the
    server's compiled-in defaults still write RDB snapshots: flagging every cache is noise."""
    flags = server_flags(node) or server_flags(node, "valkey-server") or {}
    if flags.get("appendonly", "").lower() == "yes":
        return True
    if "save" in flags:
        return bool(flags["save"].strip().strip("'\""))
    configs = [c for c in ctx.graph.outgoing(node, "mounts") if c.kind == "redis/config"]
    if "appendonly" in flags:  # --appendonly no: only snapshots can persist
        return any(c.facts.get("rdb_enabled") for c in configs)
    return any(c.facts.get("rdb_enabled") or c.facts.get("appendonly") for c in configs)


def _environment(node: Node) -> dict[str, Any]:
    found = node.facts.get("environment") or {}
    return {name: entry.get("value") for name, entry in found.items() if isinstance(entry, dict)}


# compose-datastore-no-volume


def compose_datastore_no_volume(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    facts = node.facts
    if facts.get("fragment") or facts.get("provider") or facts.get("replicas") == 0:
        return
    if node.attrs.get("volumes_from"):
        return  # its mounts come from another container: not known here
    store = _datastore(facts.get("image"))
    if store is None:
        return
    if store.engine == "redis" and not _redis_persists(node, ctx):
        return
    directory = _data_directory(store, _environment(node), node, ctx)
    if directory is None:
        return
    mounts = [*(facts.get("bind_mounts") or ()), *(facts.get("volume_mounts") or ())]
    if any(_covers(mount.get("target"), directory) for mount in mounts):
        return
    known = known_images.lookup(facts.get("image"))
    declared = next((v for v in (known.volumes if known else ()) if _covers(v, directory)), None)
    where = f"service '{facts['service']}' ({store.engine})"
    if declared is not None:
        yield Hit(
            f"{where} keeps its data in {directory} with no volume or bind mount: only the anonymous "
            f"volume the image declares ({declared}) holds it, which survives restarts but is left behind "
            "by `docker compose down` or `rm`: the next container starts empty; mount a named volume there",
            (),
        )
        return
    yield Hit(
        f"{where} keeps its data in {directory} with no volume or bind mount: it lives in the container "
        "layer and is lost when the container is recreated; mount a named volume there",
        (),
    )


# k8s-datastore-ephemeral-storage

# Volume sources that are not storage of the pod's own: their content is projected by the
# kubelet (a data directory there is a different mistake, not judged here).
PROJECTED_SOURCES = frozenset({"configMap", "secret", "downwardAPI", "projected", "serviceAccountToken"})
# Programs that start the database (or the image's own start-up script); a container whose
# command names none of them runs a client of the image (pg_dump, redis-cli, a shell loop).
SERVER_PROGRAMS = re.compile(
    r"(postgres|pg_ctl|pg_ctlcluster|patroni|mysqld|mysqld_safe|mariadbd|mongod|redis-server|valkey-server"
    r"|elasticsearch|opensearch|.*entrypoint.*|run\.sh|start.*\.sh)"
)
ENV_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")


def k8s_datastore_ephemeral_storage(node: Node, ctx: RuleContext) -> Iterator[Hit]:
    store = _datastore(node.attrs.get("image"))
    workload = ctx.graph.nodes.get(node.parent) if node.parent else None
    if store is None or workload is None or workload.facts.get("replicas") == 0:
        return
    if not _runs_server(node):
        return
    if store.engine == "redis" and not _redis_persists(node, ctx):
        return
    directory = _data_directory(store, _k8s_environment(node, workload, ctx), node, ctx)
    if directory is None:
        return
    pod_path = tuple(workload.facts.get("pod_spec_path") or ())
    pod_spec = dig(workload.attrs, pod_path)
    if not isinstance(pod_spec, dict):
        return
    claims = _claim_templates(workload)
    where = f"container '{node.facts.get('container')}' of {workload.facts.get('object')} ({store.engine})"
    mount = _deepest_mount(node, directory)
    if mount is None:
        yield Hit(
            f"{where} keeps its data in {directory} with no volume mounted there: it lives in the container's "
            f"writable layer and is lost whenever the container restarts or the pod is replaced; "
            f"{_advice(workload, claims, directory)}",
            (),
        )
        return
    index, volume_mount = mount
    name = volume_mount.get("name")
    if name in claims:
        return
    volumes = [v for v in pod_spec.get("volumes") or [] if isinstance(v, dict)]
    found = next(((i, v) for i, v in enumerate(volumes) if v.get("name") == name), None)
    if found is None:
        return  # a volume the scan does not define (added by a patch, a webhook, an operator)
    volume_index, volume = found
    if "emptyDir" in volume:
        medium = volume.get("emptyDir") or {}
        in_memory = isinstance(medium, dict) and medium.get("medium") == "Memory"
        what = f"emptyDir volume '{name}'" + (" (in memory)" if in_memory else "")
    elif "ephemeral" in volume:
        what = f"generic ephemeral volume '{name}'"
    else:
        return  # persistentVolumeClaim, hostPath, a network or CSI volume: kept beyond the pod; projections: not storage
    yield Hit(
        f"{where} keeps its data in {directory} on {what}, which is deleted with the pod: a rollout, "
        f"an eviction or a node drain starts the database empty; {_advice(workload, claims, directory)}",
        ("volumeMounts", index),
        related=(ctx.related(workload, "volume defined here", (*pod_path, "volumes", volume_index)),),
    )


def _advice(workload: Node, claims: set[str], directory: str) -> str:
    kind = workload.facts.get("kind")
    if kind == "StatefulSet":
        if not claims:
            return (
                f"the StatefulSet has no volumeClaimTemplates: add one and mount it at {directory} "
                "so each pod keeps its own PersistentVolumeClaim"
            )
        return f"mount one of its volumeClaimTemplates ({', '.join(sorted(claims))}) at {directory}"
    replicas = workload.facts.get("replicas")
    if kind == "Deployment" and isinstance(replicas, int) and replicas > 1:
        return (
            f"mount a PersistentVolumeClaim there; its {replicas} replicas cannot share one ReadWriteOnce "
            "claim: run it as a StatefulSet with volumeClaimTemplates"
        )
    return "mount a PersistentVolumeClaim there (or run it as a StatefulSet with volumeClaimTemplates)"


def _claim_templates(workload: Node) -> set[str]:
    if workload.facts.get("kind") != "StatefulSet":
        return set()
    spec = workload.attrs.get("spec")
    templates = spec.get("volumeClaimTemplates") if isinstance(spec, dict) else None
    names = (dig(template, ("metadata", "name")) for template in templates or () if isinstance(template, dict))
    return {str(name) for name in names if name} if isinstance(templates, list) else set()


def _deepest_mount(node: Node, directory: str) -> tuple[int, dict[str, Any]] | None:
    """The volumeMount the directory lives in: the deepest one at it or at one of its parents."""
    best: tuple[int, dict[str, Any]] | None = None
    depth = -1
    for index, mount in enumerate(node.attrs.get("volumeMounts") or []):
        if not isinstance(mount, dict) or not _covers(mount.get("mountPath"), directory):
            continue
        length = len(posixpath.normpath(str(mount["mountPath"])))
        if length > depth:
            best, depth = (index, mount), length
    return best


def _runs_server(node: Node) -> bool:
    """Whether the container starts the database: the image's own entrypoint (no command, or
    flags for it), or a command that names a server program or a start-up script."""
    words = command_line(node)
    if not words or words[0].startswith("-"):
        return True
    if len(words) >= 3 and posixpath.basename(words[0]) in SHELLS and words[1] == "-c":
        words = [*words[:2], *_split(words[2])]
    return any(SERVER_PROGRAMS.fullmatch(posixpath.basename(word.strip(";&|()"))) for word in words)


def _k8s_environment(node: Node, workload: Node, ctx: RuleContext) -> dict[str, Any]:
    """The container's environment: literal values (with `$(VAR)` references expanded as the
    kubelet does), ConfigMap values of `envFrom` the scan holds, _UNKNOWN for values set from
    elsewhere."""
    environment: dict[str, Any] = {}
    for source in node.attrs.get("envFrom") or []:
        name = dig(source, ("configMapRef", "name")) if isinstance(source, dict) else None
        if not isinstance(name, str):
            continue
        prefix = str(source.get("prefix") or "")
        for config_map in nearest_named(ctx.graph, workload, "ConfigMap", name)[:1]:
            data = config_map.attrs.get("data")
            for key, value in data.items() if isinstance(data, dict) else ():
                environment[f"{prefix}{key}"] = value
    for entry in node.attrs.get("env") or []:
        if not isinstance(entry, dict) or not isinstance(entry.get("name"), str):
            continue
        if "valueFrom" in entry:
            environment[entry["name"]] = _UNKNOWN
            continue
        value = entry.get("value")
        if isinstance(value, str) and "$(" in value:
            value = _expand(value, environment)
        environment[entry["name"]] = value
    return environment


def _expand(value: str, environment: dict[str, Any]) -> Any:
    def known(match: re.Match[str]) -> str:
        found = environment.get(match.group(1))
        return found if isinstance(found, str) else match.group(0)

    expanded = ENV_REFERENCE.sub(known, value)
    return _UNKNOWN if ENV_REFERENCE.search(expanded) else expanded


CHECKS: dict[str, CheckFn] = {
    "compose-datastore-no-volume": compose_datastore_no_volume,
    "k8s-datastore-ephemeral-storage": k8s_datastore_ephemeral_storage,
}
