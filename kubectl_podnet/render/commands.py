"""`--show-commands`: the manual commands a learner types to see the same facts.

Built from the report alone (pure), with the real pids, names and ports filled in.
"""

from __future__ import annotations

from kubectl_podnet.checks_reach import pod_ip_targets
from kubectl_podnet.model import PodNetReport
from kubectl_podnet.verdict import primary_interface


def manual_commands(report: PodNetReport) -> list[str]:
    pod, sandbox = report.pod, report.sandbox
    lines = ["# on the node (ssh, or: kubectl debug node/NODE -it --profile=sysadmin --image=...)"]
    if pod.name:
        lines += [
            f"crictl pods --name {pod.name} --namespace {pod.namespace}   # the sandbox (pause) of the pod",
        ]
    if sandbox.container_id:
        lines.append(f"crictl inspectp {sandbox.container_id[:13]} | grep -m1 '\"pid\"'   # pause pid")
    lines.append(f"grep -lE '{pod.uid}|{pod.uid.replace('-', '_')}' /proc/[0-9]*/cgroup   # every process of the pod")
    pid = sandbox.pid
    for container in report.containers:
        if container.pids:
            lines.append(f"readlink /proc/{container.pids[0]}/ns/net   # {container.label}: its netns inode")
    if pid is not None:
        lines.append(f"readlink /proc/{pid}/ns/net   # pause: the pod netns every container must share")
    enter = f"nsenter -t {pid} -n" if pid is not None else (
        f"ip netns exec {sandbox.pinned_path.rsplit('/', 1)[-1]}" if sandbox.pinned_path else "nsenter -t PID -n"
    )
    if sandbox.pinned_path and pid is not None:
        lines.append(f"ip netns exec {sandbox.pinned_path.rsplit('/', 1)[-1]} ip -br addr   # the same netns, pinned")
    if pod.host_network:
        lines += ["ip -br addr   # hostNetwork: the pod sees the node's interfaces", "ss -ltnp"]
    else:
        lines += [
            f"{enter} ip -d link   # eth0: 'veth ... link-netnsid N', @ifNN is the host peer's ifindex",
            f"{enter} ip -br addr",
            f"{enter} ip route",
            f"{enter} ss -ltnp   # listeners of every container in the pod",
            f"{enter} ss -lunp   # UDP sockets bound by the pod (UDP has no listen state: bound and unconnected)",
        ]
        for interface in report.interfaces:
            peer = interface.peer
            if peer and peer.name:
                lines.append(f"ip -d link show {peer.name}   # the host end of {interface.name}")
                if peer.master:
                    lines.append(f"ip link show master {peer.master}   # every veth on the bridge")
                else:
                    lines.append(f"ip route | grep {peer.name}   # routed: a host route per pod")
    for port in sorted({l.port for l in report.listeners if l.protocol == "tcp"}):
        lines.append(f"{enter} bash -c 'echo > /dev/tcp/127.0.0.1/{port}' && echo reachable   # port {port}")
    lines += _path_commands(report, enter)
    return lines


def _path_commands(report: PodNetReport, enter: str) -> list[str]:
    """pod-ip, routes, mtu and the Multus annotation, by hand."""
    pod = report.pod
    lines = [
        f"bash -c 'echo > /dev/tcp/{ip}/{port}' && echo reachable   # from the node: port {port} at the pod IP"
        for ip, port in pod_ip_targets(report.listeners, pod.pod_ips)
    ]
    if pod.host_network:
        return lines
    eth0 = primary_interface(report.interfaces)
    peer = eth0.peer if eth0 else None
    where = " or ".join(n for n in (peer.name, peer.master) if n) if peer else "the pod's veth or its bridge"
    lines.append(f"{enter} ip -d link show eth0   # its mtu must equal the host peer's")
    lines += [f"ip route get {ip}   # the node's route to the pod: must leave by {where}" for ip in pod.pod_ips]
    lines.append("ip route show default   # the node's uplink; ip -d link show DEV gives its mtu (and any vxlan/geneve)")
    if pod.networks and pod.name:
        lines.append(f"kubectl get pod {pod.name} -n {pod.namespace} -o jsonpath="
                     "'{.metadata.annotations.k8s\\.v1\\.cni\\.cncf\\.io/network-status}'   # Multus: the "
                     "interfaces the pod asked for")
    return lines
