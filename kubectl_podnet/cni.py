"""Which CNI wired a node, and what each CNI means a healthy pod to look like. Pure.

A check that judges a wiring must judge it as the CNI that built it means it: Cilium
reaches its local pods through `cilium_host` with no route per pod, Calico swallows a pod's
missing /32 in the blackhole of its IPAM block, AWS VPC CNI and Azure CNI route each pod by
a /32 to its own veth. `FAMILIES` is the one registry of what we know of each: the devices
and config plugin types that name it, the host veth prefix it uses, the node devices a
healthy route to one of its pods may name, how it crosses nodes, and the fixes in its own
terms. `identify` reads a node's devices first (what is wired), its CNI config second
(what the runtime will call), and says which told it. docs/cni.md is the table, with
sources.
"""

from __future__ import annotations

from dataclasses import dataclass

from kubectl_podnet.model import CniConfig, CniInfo, NodeLink, OverlayLink


@dataclass(frozen=True)
class Family:
    name: str  # the report's `cni.family`
    title: str  # how its users call it
    devices: tuple[str, ...] = ()  # node devices only this CNI creates
    veth_prefix: str | None = None  # the host end of each pod's veth (None: the generic `veth…`)
    plugins: tuple[str, ...] = ()  # CNI config plugin types that name it (the chain's first)
    config_names: tuple[str, ...] = ()  # config `name`s that name it (kindnet runs the generic ptp)
    delivery: tuple[str, ...] = ()  # node devices a healthy route to a local pod may name besides its veth
    tunnels: dict[str, str] | None = None  # device -> mode, when the CNI crosses nodes through it
    native: str = "native"  # the mode with no tunnel device ("": a one-node plugin, no mode to name)
    restore_route: str = "recreate the pod so the CNI writes its route again"
    set_mtu: str = "set the CNI's MTU to LIMIT or less and recreate the pods"
    source: str = ""


FAMILIES: tuple[Family, ...] = (
    Family(
        "cilium", "Cilium",
        devices=("cilium_host", "cilium_net", "cilium_vxlan", "cilium_geneve", "cilium_wg0"),
        veth_prefix="lxc", plugins=("cilium-cni",), delivery=("cilium_host",),
        tunnels={"cilium_vxlan": "vxlan", "cilium_geneve": "geneve", "cilium_wg0": "wireguard"},
        restore_route="Cilium writes its node routes when its agent starts: restart the Cilium agent on this node "
        "(kubectl -n kube-system delete pod -l k8s-app=cilium --field-selector spec.nodeName=NODE) or recreate the "
        "pod",
        set_mtu="Cilium gives each pod a route MTU of its device MTU minus the tunnel's overhead (pkg/mtu): set the "
        "`mtu` key of the cilium-config ConfigMap (or let it auto-detect) so routes carry LIMIT or less, restart the "
        "Cilium agent on the node and recreate the pods",
        source="cilium/cilium: pkg/mtu/mtu.go (TunnelOverhead 50, route MTU); plugins/cilium-cni (pod routes via "
        "the router IP on cilium_host); docs: routing (tunnel vs native, per-endpoint routes off by default)",
    ),
    Family(
        "calico", "Calico",
        devices=("vxlan.calico", "vxlan-v6.calico", "wireguard.cali", "wg-v6.cali"),
        veth_prefix="cali", plugins=("calico",),
        tunnels={"vxlan.calico": "vxlan", "vxlan-v6.calico": "vxlan", "wireguard.cali": "wireguard",
                 "wg-v6.cali": "wireguard", "tunl0": "ipip"},
        native="bgp",
        restore_route="Felix (calico-node) writes each local workload's /32 route through its cali veth: restart "
        "calico-node on this node (kubectl -n kube-system delete pod -l k8s-app=calico-node --field-selector "
        "spec.nodeName=NODE; with the operator: -n calico-system) or recreate the pod",
        set_mtu="set Calico's MTU to LIMIT or less (veth_mtu in the calico-config ConfigMap, or "
        "spec.calicoNetwork.mtu of the operator's Installation; Calico auto-detects it when unset) and recreate the "
        "pods",
        source="projectcalico/calico: cni-plugin dataplane_linux.go (pod: default via 169.254.1.1, "
        "169.254.1.1 dev eth0 scope link; host: POD_IP dev caliX scope link, proxy_arp, mac ee:ee:ee:ee:ee:ee); "
        "felix route table (blackhole for each IPAM block this node owns); calico/networking/mtu.md (vxlan 50, "
        "IP-in-IP 20, WireGuard 60)",
    ),
    Family(
        "flannel", "flannel",
        devices=("flannel.1", "flannel-v6.1", "flannel-wg", "flannel-wg-v6"),
        plugins=("flannel",),
        tunnels={"flannel.1": "vxlan", "flannel-v6.1": "vxlan", "flannel-wg": "wireguard", "flannel-wg-v6": "wireguard"},
        native="host-gw",
        restore_route="flannel delegates to the bridge plugin, which puts the pod on cni0: recreate the pod; if "
        "cni0's own route is gone, restart kube-flannel on this node",
        set_mtu="flannel writes the pod MTU to /run/flannel/subnet.env (FLANNEL_MTU) from its backend device: fix "
        "the backend's MTU (or net-conf.json), restart kube-flannel and recreate the pods (LIMIT or less)",
        source="flannel-io/flannel: Documentation/backends.md (vxlan: flannel.1, port 8472; host-gw); the CNI "
        "flannel plugin delegating to bridge (cni0)",
    ),
    Family(
        "aws-vpc", "AWS VPC CNI", veth_prefix="eni", plugins=("aws-cni",),
        restore_route="ipamd (aws-node) and the aws-cni plugin write each pod's /32 route and its "
        "`from all to POD_IP lookup main` rule: restart aws-node on this node or recreate the pod",
        set_mtu="set AWS_VPC_ENI_MTU on the aws-node DaemonSet to LIMIT or less and recreate the pods",
        source="aws/amazon-vpc-cni-k8s: cmd/routed-eni-cni-plugin/driver/driver.go (pod: default via 169.254.1.1 "
        "with a permanent neighbour entry for the host veth; host: POD_IP dev eniX scope link, rule 512 to "
        "POD_IP lookup main); docs/cni-proposal.md",
    ),
    Family(
        "azure", "Azure CNI", devices=("azure0",), veth_prefix="azv", plugins=("azure-vnet",),
        restore_route="azure-vnet writes the pod's route through its azv veth when the pod is created (transparent "
        "mode): recreate the pod, and read /var/log/azure-vnet.log on the node",
        set_mtu="Azure CNI takes the pod MTU from the node's interface: make the pods' MTU LIMIT or less and "
        "recreate them",
        source="Azure/azure-container-networking: network/transparent_endpointclient_linux.go (virtual gateway "
        "169.254.1.1/32, host veth mac aa:aa:aa:aa:aa:aa, POD_IP/32 dev azvX on the host)",
    ),
    Family(
        "kindnet", "kindnet", config_names=("kindnet",),
        restore_route="kindnet's CNI config runs the ptp plugin, which writes the pod's /32 at pod creation: "
        "recreate the pod (kindnetd itself routes only other nodes' pod CIDRs)",
        source="kubernetes-sigs/kind: images/kindnetd (the 10-kindnet.conflist of ptp + portmap, routes to other "
        "nodes' pod CIDRs via their node IPs); containernetworking/plugins plugins/main/ptp",
    ),
    Family(
        "ptp", "the ptp plugin", plugins=("ptp",), native="",
        source="containernetworking/plugins: plugins/main/ptp (a veth per pod, a host /32 route, the host "
        "end's address as gateway)",
    ),
    Family(
        "bridge", "the bridge plugin", plugins=("bridge",), native="",
        source="containernetworking/plugins: plugins/main/bridge (cni0, isGateway)",
    ),
)
BY_NAME = {family.name: family for family in FAMILIES}
UNKNOWN = Family("unknown", "an unrecognised CNI")


def family_of(cni: CniInfo | None) -> Family:
    return BY_NAME.get(cni.family, UNKNOWN) if cni is not None else UNKNOWN


def _by_config(config: CniConfig | None) -> Family | None:
    if config is None:
        return None
    for family in FAMILIES:
        if config.name in family.config_names:
            return family
    first = config.plugins[0] if config.plugins else None
    return next((family for family in FAMILIES if first in family.plugins), None)


def _by_devices(links: list[NodeLink]) -> tuple[Family, list[str]] | None:
    names = sorted(link.name for link in links)
    for family in FAMILIES:
        evidence = [f"device {name}" for name in names if name in family.devices]
        if family.veth_prefix:
            veths = [link.name for link in links if link.kind == "veth" and link.link_netnsid is not None
                     and link.name.startswith(family.veth_prefix)]
            if veths:
                evidence.append(f"{len(veths)} pod veth{'s' if len(veths) != 1 else ''} {family.veth_prefix}*")
        if evidence:
            return family, evidence
    return None


def _mode(family: Family, links: list[NodeLink], overlays: list[OverlayLink]) -> tuple[str, list[str]]:
    """How the family crosses nodes here, and the tunnels its traffic enters with no route into them."""
    present = {link.name for link in links}
    routed = {overlay.name for overlay in overlays if overlay.routes}
    tunnels = [name for name in (family.tunnels or {}) if name in present]
    if family.name == "calico":  # tunl0 exists wherever the ipip module is loaded: only Calico's routes make it
        tunnels = [name for name in tunnels if name != "tunl0" or name in routed]
    modes = [(family.tunnels or {})[name] for name in tunnels]
    mode = "+".join(dict.fromkeys(modes)) if modes else family.native
    # Cilium's eBPF redirects pod traffic into its tunnel: no route leads there to be read
    unrouted = [name for name in tunnels if name not in routed] if family.name == "cilium" else []
    return mode, unrouted


def identify(links: list[NodeLink], overlays: list[OverlayLink], config: CniConfig | None) -> CniInfo:
    """The node's CNI: from its devices when they name one (what is wired), else from its CNI config
    (what the runtime calls), else a bridge of pods or nothing known. A config that names another
    CNI than the devices is kept in the evidence: a leftover file, or a migration half done."""
    by_devices, by_config = _by_devices(links), _by_config(config)
    evidence: list[str] = []
    if by_devices is not None:
        family, evidence = by_devices
    elif by_config is not None:
        family = by_config
    elif any(link.kind == "bridge" and link.name in ("cni0", "docker0", "cbr0") for link in links):
        family, evidence = BY_NAME["bridge"], ["a pod bridge (cni0, docker0 or cbr0)"]
    else:
        family = UNKNOWN
    if config is not None:
        said = f"config {config.file} ({config.name or 'no name'}: {', '.join(config.plugins) or 'no plugins'})"
        if by_config is not None and by_config is not family:
            said += f", which names {by_config.title}"
        evidence.append(said)
    mode, tunnels = _mode(family, links, overlays)
    return CniInfo(family=family.name, mode=mode if family is not UNKNOWN and mode else None, tunnels=tunnels,
                   evidence=evidence, config=config)


def describe(cni: CniInfo | None) -> str:
    """`Cilium (vxlan)`, as a report's title line says it."""
    family = family_of(cni)
    if cni is None or family is UNKNOWN:
        return "unknown CNI"
    return f"{family.title} ({cni.mode})" if cni.mode else family.title
