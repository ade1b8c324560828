"""The topology diagram (`infralint graph`): the scan's graph folded into the boxes and arrows a
reviewer reads, and renderers for it (Mermaid, Graphviz DOT, JSON).

``model.extract(graph, findings)`` builds a :class:`~infralint.topology.model.Topology`; each
renderer is a pure function of it.
"""
