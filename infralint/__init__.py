"""infralint: one graph across Kubernetes, Compose, nginx, HAProxy and Redis configs."""

__version__ = "0.1.0"
