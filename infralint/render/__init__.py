"""Rendering: Helm charts and Kustomize roots become Kubernetes YAML with a source map.

A renderer turns a chart (per values set) or a kustomization root into ``RenderedText``s: the
YAML the cluster would receive, plus, for every rendered line, the file and line of the
repository that produced it. Parsers judge the rendered text as if it were a plain manifest;
findings are translated back through the map before suppression and reporting.
"""
