"""Python rules: graph and arithmetic checks. Each module exposes CHECKS = {rule_id: check}."""
