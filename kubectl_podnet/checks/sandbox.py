"""The pod's sandbox and its one wire: `pause-container`, `shared-netns`, `shared-ip` and
`single-veth`. Pure: facts in, verdicts out.

Each verdict carries the evidence (pids, inodes, ifindexes, addresses) a learner needs to
redo the check by hand, and its commands do exactly that with the real values filled in.
"""

from __future__ import annotations

import ipaddress

from kubectl_podnet.checks.verdict import Check, Verdict, enter_netns, primary_interface
from kubectl_podnet.cni import family_of
from kubectl_podnet.model import ContainerFacts, Interface, NodeFacts


def _netns(inode: int | None) -> str:
    return f"net:[{inode}]" if inode is not None else "unknown"


def check_pause_container(facts: NodeFacts) -> Verdict:
    sandbox = facts.sandbox
    if sandbox.source == "pause-process":
        return Verdict(
            status="pass",
            summary=f"pause pid {sandbox.pid} holds {_netns(sandbox.netns_inode)}",
            evidence={
                "pid": sandbox.pid,
                "containerId": sandbox.container_id,
                "command": sandbox.command,
                "netns": _netns(sandbox.netns_inode),
                "pinnedPath": sandbox.pinned_path,
            },
        )
    if sandbox.source == "pinned-netns":
        return Verdict(
            status="pass",
            summary=f"no pause process; the runtime pinned {_netns(sandbox.netns_inode)} at {sandbox.pinned_path}",
            evidence={"pinnedPath": sandbox.pinned_path, "netns": _netns(sandbox.netns_inode)},
        )
    return Verdict(
        status="fail",
        summary="no pause process in the pod cgroup and no pinned netns shared by its containers",
        evidence={"containers": [c.label for c in facts.containers]},
        fix="check the runtime's sandbox (crictl pods; crictl inspectp POD_ID) and the kubelet log",
    )


def check_shared_netns(facts: NodeFacts) -> Verdict:
    expected: int | None = facts.sandbox.netns_inode
    what = "the sandbox netns"
    if facts.pod.host_network:
        expected, what = facts.node_netns_inode, "the node's netns (hostNetwork)"
    running = [c for c in facts.containers if c.netns_inode is not None]
    missing = [_unchecked(c) for c in facts.containers if c.netns_inode is None and not _finished(c)]
    evidence = {
        "expected": _netns(expected),
        "containers": {c.label: _netns(c.netns_inode) for c in facts.containers},
        "states": {c.label: c.status.text for c in facts.containers if c.status is not None},
    }
    if expected is None:
        return Verdict("fail", "no sandbox netns to compare with", evidence)
    if not running:
        return Verdict("fail", "no running container found on the node", evidence)
    outliers = [c.label for c in running if c.netns_inode != expected]
    if outliers:
        return Verdict(
            status="fail",
            summary=f"{', '.join(outliers)} not in {what} {_netns(expected)}",
            evidence=evidence,
            fix="containers of a pod must join the sandbox netns; check the runtime (a container "
            "started outside CRI, or a runtime bug)",
        )
    names = ", ".join(c.label for c in running)
    summary = f"{names} share {what} {_netns(expected)}"
    if missing:
        return Verdict("warn", summary + f"; not running: {', '.join(missing)}", evidence)
    return Verdict("pass", summary, evidence)


def _finished(container: ContainerFacts) -> bool:
    """An init or ephemeral container that ran and ended: nothing to check, nothing wrong."""
    status = container.status
    return container.role in ("init", "ephemeral") and status is not None and status.state == "terminated"


def _unchecked(container: ContainerFacts) -> str:
    return f"{container.label} ({container.status.text})" if container.status else container.label


def check_shared_ip(facts: NodeFacts) -> Verdict:
    if not facts.pod.pod_ips:
        return Verdict("skip", "no pod IPs given to compare with (pass --pod-ip)")
    wanted = [str(ipaddress.ip_address(ip)) for ip in facts.pod.pod_ips]
    if facts.pod.host_network:
        on_node = {a.address: i.name for i in facts.interfaces for a in i.addresses}
        evidence = {"podIPs": wanted, "found": {ip: on_node.get(ip) for ip in wanted}}
        absent = [ip for ip in wanted if ip not in on_node]
        if absent:
            return Verdict("fail", f"hostNetwork pod IPs {', '.join(absent)} are not node addresses", evidence
            )
        return Verdict("pass", f"hostNetwork: pod IPs are the node's ({', '.join(wanted)})", evidence)
    eth0 = primary_interface(facts.interfaces)
    if eth0 is None:
        return Verdict("fail", "the pod netns has no eth0", {"podIPs": wanted})
    present = {str(ipaddress.ip_address(a.address)): a for a in eth0.addresses}
    evidence = {
        "podIPs": wanted,
        "interface": eth0.name,
        "addresses": [f"{a.address}/{a.prefixlen}" for a in eth0.addresses if a.scope == "global"],
    }
    absent = [ip for ip in wanted if ip not in present]
    if absent:
        return Verdict(
            status="fail",
            summary=f"{', '.join(absent)} not on {eth0.name} in the pod netns",
            evidence=evidence,
            fix="the API's podIPs and the netns disagree: the CNI ADD result was lost or the IP was reassigned",
        )
    shown = ", ".join(f"{ip}/{present[ip].prefixlen}" for ip in wanted)
    return Verdict("pass", f"{shown} on {eth0.name}, one IP per family for every container", evidence)


def _peer_text(interface: Interface, facts: NodeFacts) -> str:
    peer = interface.peer
    if peer is None or peer.name is None:
        return f"{interface.name} (host peer not found)"
    family = family_of(facts.cni)
    if peer.master:
        where = f"on {peer.master_kind or 'master'} {peer.master}"
    elif peer.routes:
        where = f"routed: {', '.join(peer.routes)}"
    elif family.delivery:  # Cilium: no route per pod by default, eBPF on the veth delivers
        where = (f"routed by {family.title}: no route of its own (the node reaches its pods via "
                 f"{', '.join(family.delivery)}, eBPF on {peer.name} delivers)")
    else:
        where = "no bridge, and no route of its own to it (see routes)"
    return f"{interface.name} <-> {peer.name} (host, ifindex {peer.ifindex}) {where}"


def check_single_veth(facts: NodeFacts) -> Verdict:
    if facts.pod.host_network:
        return Verdict("skip", "hostNetwork pod: uses the node's netns, no veth of its own",
            {"netns": _netns(facts.node_netns_inode)},
        )
    veths = [i for i in facts.interfaces if i.kind == "veth"]
    extras = [i for i in facts.interfaces if i.kind not in ("veth", "loopback")]
    evidence = {
        "interfaces": {i.name: i.kind for i in facts.interfaces},
        "veths": [
            {
                "name": i.name,
                "ifindex": i.ifindex,
                "peerIfindex": i.peer.ifindex if i.peer else i.link_ifindex,
                "peerName": i.peer.name if i.peer else None,
                "confirmed": bool(i.peer and i.peer.confirmed),
                "master": i.peer.master if i.peer else None,
                "routes": i.peer.routes if i.peer else [],
            }
            for i in veths
        ],
    }
    if not veths:
        return Verdict("fail", "no veth in the pod netns", evidence,
            fix="the CNI did not wire the pod; check /etc/cni/net.d and the kubelet log",
        )
    primary = primary_interface(facts.interfaces)
    assert primary is not None
    if primary.peer is None or not primary.peer.confirmed:
        reason = primary.peer.reason if primary.peer and primary.peer.reason else "no matching host link"
        return Verdict("fail", f"host peer of {primary.name} not confirmed: {reason}", evidence,
            fix="look for the peer with: ip -d link show | grep -A1 'link-netnsid'",
        )
    others = [i for i in veths if i is not primary] + extras
    declared = {n.interface: n for n in facts.pod.networks if n.interface}
    present = {i.name for i in facts.interfaces}
    if declared:
        evidence["networks"] = [
            {"interface": name, "network": n.network, "declaredIps": n.ips, "present": name in present,
             "kind": next((i.kind for i in facts.interfaces if i.name == name), None),
             "ips": [a.address for i in facts.interfaces if i.name == name for a in i.addresses if a.scope == "global"]}
            for name, n in declared.items()
        ]
    missing = [name for name in declared if name not in present]
    if missing:
        listed = ", ".join(f"{name} ({declared[name].network})" for name in missing)
        return Verdict("fail", f"{_peer_text(primary, facts)}; declared by the network-status annotation but missing "
                       f"from the netns: {listed}", evidence,
                       fix="the CNI of that network failed or the interface was removed: check the Multus log and "
                       "the NetworkAttachmentDefinition, then recreate the pod")
    undeclared = [i for i in others if i.name not in declared]
    expected = [i for i in others if i.name in declared]
    attached = "; networks: " + ", ".join(_attached_text(i, declared[i.name].network) for i in expected) if expected else ""
    if undeclared:
        listed = ", ".join(f"{i.name} ({i.kind})" for i in undeclared)
        return Verdict("warn", f"{_peer_text(primary, facts)}{attached}; extra interfaces: {listed}", evidence,
            fix="extra interfaces come from a meta-plugin (Multus) or a manual change; expected only if "
            "the pod asked for them (k8s.v1.cni.cncf.io/networks), and then listed in its "
            "k8s.v1.cni.cncf.io/network-status annotation",
        )
    return Verdict("pass", _peer_text(primary, facts) + attached, evidence)


def _attached_text(interface: Interface, network: str) -> str:
    ips = " ".join(a.address for a in interface.addresses if a.scope == "global") or "no IP"
    return f"{interface.name} ({interface.kind}, {ips}, network {network})"



def _pause_by_hand(facts: NodeFacts) -> list[str]:
    pod, sandbox = facts.pod, facts.sandbox
    lines = []
    if pod.name:
        lines.append(f"crictl pods --name {pod.name} --namespace {pod.namespace}   # the sandbox (pause) of the pod")
    if sandbox.container_id:
        lines.append(f"crictl inspectp {sandbox.container_id[:13]} | grep -m1 '\"pid\"'   # pause pid")
    lines.append(f"grep -lE '{pod.uid}|{pod.uid.replace('-', '_')}' /proc/[0-9]*/cgroup   # every process of the pod")
    return lines


def _netns_by_hand(facts: NodeFacts) -> list[str]:
    sandbox = facts.sandbox
    lines = [f"readlink /proc/{c.pids[0]}/ns/net   # {c.label}: its netns inode" for c in facts.containers if c.pids]
    if sandbox.pid is not None:
        lines.append(f"readlink /proc/{sandbox.pid}/ns/net   # pause: the pod netns every container must share")
        if sandbox.pinned_path:
            lines.append(f"ip netns exec {sandbox.pinned_path.rsplit('/', 1)[-1]} ip -br addr   # the same netns, pinned")
    return lines


def _ip_by_hand(facts: NodeFacts) -> list[str]:
    if facts.pod.host_network:
        return ["ip -br addr   # hostNetwork: the pod sees the node's interfaces"]
    return [f"{enter_netns(facts)} ip -br addr"]


def _veth_by_hand(facts: NodeFacts) -> list[str]:
    pod = facts.pod
    if pod.host_network:
        return []
    lines = [f"{enter_netns(facts)} ip -d link   # eth0: 'veth ... link-netnsid N', @ifNN is the host peer's ifindex"]
    for interface in facts.interfaces:
        peer = interface.peer
        if peer and peer.name:
            lines.append(f"ip -d link show {peer.name}   # the host end of {interface.name}")
            if peer.master:
                lines.append(f"ip link show master {peer.master}   # every veth on the bridge")
            else:
                lines.append(f"ip route | grep {peer.name}   # routed: a host route per pod")
    if pod.networks and pod.name:
        lines.append(f"kubectl get pod {pod.name} -n {pod.namespace} -o jsonpath="
                     "'{.metadata.annotations.k8s\\.v1\\.cni\\.cncf\\.io/network-status}'   # Multus: the "
                     "interfaces the pod asked for")
    return lines


CHECKS = (
    Check("pause-container", "the sandbox is found: a pause process, or the netns the runtime pinned",
          check_pause_container, _pause_by_hand),
    Check("shared-netns", "every running container is in the sandbox's netns (hostNetwork: the node's)",
          check_shared_netns, _netns_by_hand),
    Check("shared-ip", "every address of status.podIPs is on the pod's eth0", check_shared_ip, _ip_by_hand),
    Check("single-veth", "one veth in the pod netns, its host peer confirmed, on a bridge or routed",
          check_single_veth, _veth_by_hand),
)
