"""The node side: the agent engine and the readers it runs on the node. Never talks to the API.

`engine.py` answers every agent request (in the agent pod, `kubectl podnet node ...` as
root, the lab); `resident.py` keeps one engine warm per payload digest. Readers return
text or raw messages (/proc, cgroups, netlink through `netlink.py`, the only pyroute2
import) and pure parsers turn them into the facts of `model.py`.
"""
