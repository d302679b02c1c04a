"""The judgement: facts in, verdicts out, no I/O.

- `registry`: the pod checks in report order, and `run_checks`;
- `sandbox`, `reach`, `path`: one module per family of checks, each declaring its own
  (`CHECKS`: id, what a pass proves, the judge, the commands that redo it by hand);
- `verdict`: what a check is and returns, and the helpers several checks share;
- `report`: facts and verdicts become a `PodNetReport`; `nodemap`: reports and the node's
  view become a `PodNetNodeMap`; `hops`: both nodes' sides of `connect A B` become a
  `PodNetConnect`.

Shipped to the agent whole, with the node engine that imports it.
"""
