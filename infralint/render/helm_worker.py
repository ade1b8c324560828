"""Render one chart with Helm's Go SDK (helm-python-sdk), in a process of its own.

The scan runs this as ``python -m infralint.render.helm_worker`` with a JSON request on stdin and
reads a JSON answer from stdout. A process of its own because a template can loop for ever or
allocate without bound inside Go, where no Python signal reaches it: the scan kills the process
at its time limit instead.

Request: {"chart": folder, "values": {...}, "name": release, "namespace": ns, "max_bytes": n}
Answer:  {"manifests": {template name: text}} or {"error": message, "stage": "load|values|render"}
"""

from __future__ import annotations

import json
import sys
from typing import Any


def render(request: dict[str, Any]) -> dict[str, Any]:
    try:
        import helm_python
    except ImportError as error:  # the scan checks for the package before it starts a worker
        return {"error": f"helm-python-sdk is not installed: {error}", "stage": "load"}
    try:
        chart = helm_python.Chart.load(request["chart"])
    except helm_python.HelmError as error:
        return {"error": str(error), "stage": "load"}
    values = request.get("values") or {}
    try:
        chart.validate_schema(chart.merge_values(values))
    except helm_python.HelmError as error:
        return {"error": str(error), "stage": "values"}
    try:
        manifests = chart.render(values, name=request["name"], namespace=request["namespace"], is_install=True)
    except helm_python.HelmError as error:
        return {"error": str(error), "stage": "render"}
    size = sum(len(text) for text in manifests.values())
    if size > request.get("max_bytes", 1 << 62):
        return {"error": f"the chart renders {size:,} bytes", "stage": "size"}
    return {"manifests": manifests}


def main() -> None:
    request = json.loads(sys.stdin.read())
    answer = render(request)
    sys.stdout.write(json.dumps(answer))
    sys.stdout.flush()


if __name__ == "__main__":
    main()
