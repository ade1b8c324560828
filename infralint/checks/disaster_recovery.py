"""Disaster recovery: datastores whose data has nowhere to survive a container or pod restart."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from infralint.graph.model import Node
from infralint.graph.mounts import server_flags
from infralint.images import known as known_images
from infralint.rules.meta import CheckFn, Hit, RuleContext


@dataclass(frozen=True)
class Datastore:
    engine: str  # "postgres", "redis", ... (named in messages)
    data: str  # the data directory the image writes to by default


def _datastore(repository: str, stores: list[dict[str, Any]]) -> Datastore | None:
    """The first `stores` entry (rule option) whose `image` pattern matches the whole repository.
    An entry without `data` marks images whose layout is not known: never judged."""
    for store in stores:
        if re.fullmatch(str(store["image"]), repository):
            data = store.get("data")
            return Datastore(str(store["engine"]), str(data)) if data else None
    return None


def _covers(target: Any, directory: str) -> bool:
    """A mount at TARGET holds DIRECTORY: it is the directory or one of its parents."""
    if not isinstance(target, str) or not target.startswith("/"):
        return False
    mount = posixpath.normpath(target)
    return mount == "/" or directory == mount or directory.startswith(mount + "/")


def _data_directory(store: Datastore, environment: dict[str, Any]) -> str:
    """Postgres's entrypoint initialises the cluster in PGDATA when it is set."""
    if store.engine == "postgres":
        pgdata = environment.get("PGDATA")
        if isinstance(pgdata, str) and pgdata.startswith("/"):
            return posixpath.normpath(pgdata)
    return store.data


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
    reference = known_images.parse_reference(str(facts.get("image") or ""))
    if reference is None:
        return
    store = _datastore(reference.repository, list(ctx.options.get("datastores", ())))
    if store is None:
        return
    if store.engine == "redis" and not _redis_persists(node, ctx):
        return
    directory = _data_directory(store, _environment(node))
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


CHECKS: dict[str, CheckFn] = {
    "compose-datastore-no-volume": compose_datastore_no_volume,
}
