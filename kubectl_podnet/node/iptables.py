"""The node's iptables rules on a forwarded pod packet's way, with their counters.

Read, then parse: `read_firewall` runs `iptables-legacy-save -c` and `iptables-nft-save -c`
(both: a node where kube-proxy writes one backend and a CNI the other is the classic silent
break), found on the agent's PATH or, from the agent pod (which ships no iptables), in the
node's own root through `chroot /proc/1/root` (hostPID); `parse_save` reads their text. We
keep the chain policies of filter's INPUT and FORWARD, every DROP and REJECT of the filter
table and every MASQUERADE and SNAT of the nat table: what can drop or rewrite a pod's
packet. Which of them hit is read from the counters before and after the dial, not guessed
from the rule's matches.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess

from kubectl_podnet.connect_model import Firewall, FirewallRule

BACKENDS = (("legacy", "iptables-legacy-save"), ("nft", "iptables-nft-save"))
_KEPT = {"filter": ("DROP", "REJECT"), "nat": ("MASQUERADE", "SNAT")}
_POLICY = re.compile(r"^:(\S+) (\S+) \[(\d+):(\d+)\]$")
_RULE = re.compile(r"^(?:\[(\d+):(\d+)\] )?-A (\S+) (.*)$")
_TARGET = re.compile(r"(?:^| )-j (\S+)")
NODE_ROOT = "/proc/1/root"


def parse_save(backend: str, text: str) -> tuple[dict[str, str], dict[str, int], list[FirewallRule]]:
    """One `iptables-save -c` text: the filter INPUT/FORWARD policies with their packet counters,
    and the rules that drop or rewrite. Pure."""
    policies: dict[str, str] = {}
    counters: dict[str, int] = {}
    rules: list[FirewallRule] = []
    table = ""
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("*"):
            table = line[1:]
            continue
        policy = _POLICY.match(line)
        if policy and table == "filter" and policy.group(1) in ("INPUT", "FORWARD"):
            policies[f"{backend} {table} {policy.group(1)}"] = policy.group(2)
            counters[f"{backend} {table} {policy.group(1)}"] = int(policy.group(3))
            continue
        rule = _RULE.match(line)
        if not rule or table not in _KEPT:
            continue
        target = _TARGET.search(rule.group(4))
        if target and target.group(1) in _KEPT[table]:
            rules.append(FirewallRule(backend=backend, table=table, chain=rule.group(3),
                                      rule=f"-A {rule.group(3)} {rule.group(4)}", target=target.group(1),
                                      packets=int(rule.group(1)) if rule.group(1) else None))
    return policies, counters, rules


def _command(tool: str) -> list[str] | None:
    """How to run `tool` here: from the PATH, or inside the node's root (the agent pod has none)."""
    if shutil.which(tool):
        return [tool]
    for directory in ("/usr/sbin", "/sbin", "/usr/bin"):
        if os.path.exists(f"{NODE_ROOT}{directory}/{tool}") and shutil.which("chroot"):
            return ["chroot", NODE_ROOT, f"{directory}/{tool}"]
    return None


def read_firewall() -> Firewall:
    """Both backends' rules in this process's netns (the node's); a backend that is absent or
    refuses is an error line, never a failed connect."""
    policies: dict[str, str] = {}
    counters: dict[str, int] = {}
    rules: list[FirewallRule] = []
    errors: list[str] = []
    for backend, tool in BACKENDS:
        argv = _command(tool)
        if argv is None:
            errors.append(f"{tool}: not on the agent's PATH nor in the node's root")
            continue
        try:
            done = subprocess.run([*argv, "-c"], capture_output=True, text=True, timeout=5, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            errors.append(f"{tool}: {exc}")
            continue
        if done.returncode != 0:
            errors.append(f"{tool}: {done.stderr.strip().splitlines()[-1] if done.stderr.strip() else done.returncode}")
            continue
        found_policies, found_counters, found = parse_save(backend, done.stdout)
        policies.update(found_policies)
        counters.update(found_counters)
        rules += found
    return Firewall(policies=policies, policy_packets=counters, rules=rules, errors=errors)
