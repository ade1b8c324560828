"""Parsers: one module per file kind; each turns a SourceFile into nodes and input findings."""
