"""The no-cluster lab: networking modes built for real in namespaces of this machine.

Each mode is planned as the `ip` commands a learner would type (`plan.py`), built and torn
down for real (`world.py`), and inspected by the very same node engine as on a cluster.
"""
