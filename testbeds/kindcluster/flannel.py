"""flannel for the kind cluster: the manifest upstream's kube-flannel.yml applies, built as data.

vxlan overlay, pods on a `cni0` bridge, subnets from each Node's podCIDR
(`--kube-subnet-mgr`).  As upstream, two init containers install the `flannel` CNI plugin
into /opt/cni/bin and the conflist into /etc/cni/net.d; flanneld writes
/run/flannel/subnet.env, which the plugin hands to its `bridge` + `host-local` delegate.
The image is ours (localhost/podnet/flannel), loaded into the nodes, IfNotPresent.
"""
from __future__ import annotations

import json

from testbeds.kindcluster import kind_settings as K

NAMESPACE = "kube-flannel"
CNI_CONF = {
    "name": "cbr0",
    "cniVersion": "0.3.1",
    "plugins": [
        {"type": "flannel", "delegate": {"hairpinMode": True, "isDefaultGateway": True}},
        {"type": "portmap", "capabilities": {"portMappings": True}},
    ],
}


def net_conf(pod_subnet: str) -> dict[str, object]:
    return {"Network": pod_subnet, "EnableNFTables": False, "Backend": {"Type": "vxlan"}}


def manifest(image: str = K.FLANNEL_IMAGE, pod_subnet: str = K.POD_SUBNET) -> str:
    """Pure: a v1 List of every object, as JSON (kubectl apply -f - reads it)."""
    labels = {"app": "flannel", "k8s-app": "flannel", "tier": "node"}
    volume_mounts_cni = [{"name": "cni-plugin", "mountPath": "/opt/cni/bin"}]
    pod_spec = {
        "hostNetwork": True,
        "priorityClassName": "system-node-critical",
        "serviceAccountName": "flannel",
        "tolerations": [{"operator": "Exists", "effect": "NoSchedule"}],
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "initContainers": [
            {"name": "install-cni-plugin", "image": image, "imagePullPolicy": "IfNotPresent",
             "command": ["cp"], "args": ["-f", "/flannel", "/opt/cni/bin/flannel"],
             "volumeMounts": volume_mounts_cni},
            {"name": "install-cni", "image": image, "imagePullPolicy": "IfNotPresent",
             "command": ["cp"], "args": ["-f", "/etc/kube-flannel/cni-conf.json", "/etc/cni/net.d/10-flannel.conflist"],
             "volumeMounts": [{"name": "cni", "mountPath": "/etc/cni/net.d"},
                              {"name": "flannel-cfg", "mountPath": "/etc/kube-flannel/"}]},
        ],
        "containers": [{
            "name": "kube-flannel", "image": image, "imagePullPolicy": "IfNotPresent",
            "command": ["/opt/bin/flanneld"], "args": ["--ip-masq", "--kube-subnet-mgr"],
            "resources": {"requests": {"cpu": "50m", "memory": "50Mi"}},
            "securityContext": {"privileged": False, "capabilities": {"add": ["NET_ADMIN", "NET_RAW"]}},
            "env": [
                {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "POD_NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
                {"name": "EVENT_QUEUE_DEPTH", "value": "5000"},
            ],
            "volumeMounts": [{"name": "run", "mountPath": "/run/flannel"},
                             {"name": "flannel-cfg", "mountPath": "/etc/kube-flannel/"},
                             {"name": "xtables-lock", "mountPath": "/run/xtables.lock"}],
        }],
        "volumes": [
            {"name": "run", "hostPath": {"path": "/run/flannel"}},
            {"name": "cni-plugin", "hostPath": {"path": "/opt/cni/bin"}},
            {"name": "cni", "hostPath": {"path": "/etc/cni/net.d"}},
            {"name": "flannel-cfg", "configMap": {"name": "kube-flannel-cfg"}},
            {"name": "xtables-lock", "hostPath": {"path": "/run/xtables.lock", "type": "FileOrCreate"}},
        ],
    }
    items = [
        {"apiVersion": "v1", "kind": "Namespace",
         "metadata": {"name": NAMESPACE, "labels": {"k8s-app": "flannel",
                                                    "pod-security.kubernetes.io/enforce": "privileged"}}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": {"name": "flannel", "namespace": NAMESPACE}},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": "flannel"},
         "rules": [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get"]},
                   {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]},
                   {"apiGroups": [""], "resources": ["nodes/status"], "verbs": ["patch"]}]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": "flannel"},
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "flannel"},
         "subjects": [{"kind": "ServiceAccount", "name": "flannel", "namespace": NAMESPACE}]},
        {"apiVersion": "v1", "kind": "ConfigMap",
         "metadata": {"name": "kube-flannel-cfg", "namespace": NAMESPACE, "labels": labels},
         "data": {"cni-conf.json": json.dumps(CNI_CONF, indent=2), "net-conf.json": json.dumps(net_conf(pod_subnet))}},
        {"apiVersion": "apps/v1", "kind": "DaemonSet",
         "metadata": {"name": "kube-flannel-ds", "namespace": NAMESPACE, "labels": labels},
         "spec": {"selector": {"matchLabels": {"app": "flannel"}},
                  "template": {"metadata": {"labels": labels}, "spec": pod_spec}}},
    ]
    return json.dumps({"apiVersion": "v1", "kind": "List", "items": items}, indent=1)
