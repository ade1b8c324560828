"""Topology -> JSON (schemas/topology.schema.json): for tools that draw their own diagram."""

from __future__ import annotations

import json

from infralint.topology.model import Topology


def render(topology: Topology) -> str:
    return json.dumps(topology.to_dict(), indent=2, ensure_ascii=False) + "\n"
