"""The graph of everything a scan found: nodes from parsers, edges from linkers."""
