"""Tools for developing infralint itself (not used by scans)."""
