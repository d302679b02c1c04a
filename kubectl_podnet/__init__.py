"""kubectl-podnet: prove the Kubernetes pod-network model from inside the node.

Kept import-free on purpose: the node agent receives this package as a payload and
must start without typer, kubernetes or yaml installed.
"""

__version__ = "0.1.0"
