"""The client: finds pods and nodes through the API, runs the shared agent, gets facts back.

`port.py` is the Protocol every cluster call goes through and `kube.py` its one adapter
(the only module that imports `kubernetes`); the rest decides in pure code what to apply,
which pods to ask about and how to read the answers. It never parses `ip` output: the
facts come from the node engine.
"""
