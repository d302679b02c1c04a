#!/usr/bin/env bash
# End-to-end check of the local cluster tool, as root, on a machine where it is down:
#   up -> node Ready -> exec answers -> down -> the machine looks as before
#   (processes, links, netns, cgroups, mounts, sysctls).
# Usage: bash testbeds/localcluster/test_localcluster_smoke.sh [--network bridge|ptp]
# Ends with the plain "N passed, N failed" line.
set -u
cd "$(dirname "$0")/../.."  # the repository root: the tool is the package testbeds.localcluster
LC="python3 -m testbeds.localcluster"
NETWORK="${2:-bridge}"
[ "${1:-}" = "--network" ] || NETWORK=bridge
. testbeds/common/smoke_lib.sh
need_root
if $LC status >/dev/null 2>&1; then
    echo "the local cluster is running; run '$LC down' first (this test never stops a cluster it did not start)" >&2
    exit 2
fi

snapshot() {  # what must be the same before up and after down
    # Only names this tool can create are compared: other work on the machine (tests
    # making their own netns, veths or cgroups) may come and go meanwhile.
    echo "## links";   ip -o link show | awk -F': ' '{print $2}' | sed 's/@.*//' | grep -E '^(cni0|lcnode0)$' | sort
    echo "## netns";   ls /run/netns 2>/dev/null | grep '^cni-' | sort
    echo "## cgroups"; find /sys/fs/cgroup -mindepth 2 -maxdepth 2 -type d \( -name kubepods -o -name k8s.io \) | sort
    echo "## mounts";  awk '{print $5}' /proc/self/mountinfo | grep -v -E '^/run/netns/' | sort
    echo "## sysctls"; for k in vm/overcommit_memory vm/panic_on_oom kernel/panic kernel/panic_on_oops \
                                 kernel/keys/root_maxkeys kernel/keys/root_maxbytes net/ipv4/ip_forward; do
                           echo "$k=$(cat /proc/sys/$k)"; done
    echo "## procs";   for f in /proc/[0-9]*/cmdline; do tr '\0' ' ' < "$f" 2>/dev/null; echo; done \
                           | grep -c -E '/(podnet-localcluster)/' 
    echo "## dirs";    ls -d /var/lib/podnet-localcluster /run/podnet-localcluster /run/containerd \
                           /var/lib/cni /var/log/containers 2>/dev/null
}

before="$(snapshot)"
start=$(date +%s)
if $LC up --network "$NETWORK"; then ok "up ($NETWORK) in $(( $(date +%s) - start ))s"; else bad "up failed"; fi

KCFG="$($LC kubeconfig)"
KUBECTL="$($LC status | awk '/^kubectl:/ {print $2}')"
if [ -n "$KCFG" ] && "$KUBECTL" --kubeconfig "$KCFG" get nodes | grep -q ' Ready '; then
    ok "kubectl --kubeconfig \$($LC kubeconfig) get nodes shows Ready"
else bad "node not Ready"; fi

"$KUBECTL" --kubeconfig "$KCFG" run smoke-exec --image=localhost/podnet/busybox:1.35 --image-pull-policy=Never \
    --restart=Never --command -- sleep 600 >/dev/null
if "$KUBECTL" --kubeconfig "$KCFG" wait pod/smoke-exec --for=condition=Ready --timeout=60s >/dev/null &&
   [ "$("$KUBECTL" --kubeconfig "$KCFG" exec smoke-exec -- echo exec-ok)" = exec-ok ]; then
    ok "kubectl exec into a pod"
else bad "kubectl exec failed"; fi

status_out="$($LC status)"; echo "$status_out" | grep -q "total rss" && ok "status reports processes and memory" || bad "status output"

down_leaves_nothing "$LC" "$before" "process, link, netns, cgroup, mount, sysctl or directory"
finish
