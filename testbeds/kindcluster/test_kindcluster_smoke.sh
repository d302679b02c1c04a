#!/usr/bin/env bash
# End-to-end check of the kind cluster tool, as root, on a machine where it is down:
#   up -> three nodes Ready -> exec on a worker -> kill -9 of dockerd -> up recovers ->
#   down -> the machine looks as before (processes, netns, mounts, iptables rules of the
#   machine's own netns, cgroups, sysctls, directories).
# Usage: bash testbeds/kindcluster/test_kindcluster_smoke.sh      Ends with "N passed, N failed".
set -u
cd "$(dirname "$0")/../.."  # the repository root: the tool is the package testbeds.kindcluster
KC="python3 -m testbeds.kindcluster"
. testbeds/common/smoke_lib.sh
need_root
if [ -e /run/podnet-kind ] || [ -e /var/lib/podnet-kind ]; then
    echo "the kind cluster is (partly) there; run '$KC down' first (this test never stops a cluster it did not start)" >&2
    exit 2
fi

ours() {  # processes in our netns or under our cgroup, found as down finds them
    python3 -c "from testbeds.kindcluster import lifecycle; print(len(lifecycle.our_pids()))"
}

snapshot() {  # what must be the same before up and after down
    echo "## mounts";   awk '{print $5}' /proc/self/mountinfo | grep -E 'podnet-kind|/lib/modules' | sort
    echo "## cgroups";  find /sys/fs/cgroup -maxdepth 2 -name podnet-kind | sort
    echo "## iptables"; iptables-save 2>/dev/null | grep -v '^#' | grep -v -E '^:' | sort
    echo "## sysctls";  for k in kernel vm fs; do find /proc/sys/$k -type f -perm -200 2>/dev/null; done | sort \
                           | grep -v -E 'ns_last_pid|/random/|hostname|domainname|binfmt_misc' \
                           | while read -r f; do echo "$f=$(cat "$f" 2>/dev/null | tr '\t\n' '  ')"; done
    echo "## procs";    ours
    echo "## dirs";     ls -d /var/lib/podnet-kind /run/podnet-kind /lib/modules 2>/dev/null
}

before="$(snapshot)"
start=$(date +%s)
if $KC up; then ok "up in $(( $(date +%s) - start ))s (three nodes Ready, exec on a worker)"; else bad "up failed"; fi
if [ "$($KC run -- kubectl get nodes --no-headers | grep -c ' Ready ')" = 3 ]; then
    ok "run -- kubectl get nodes: three nodes Ready"
else bad "not three nodes Ready"; fi
$KC status | grep -q "RSS sum" && ok "status reports the nodes and memory" || bad "status output"

pid="$(awk '{print $1}' /run/podnet-kind/pids/dockerd.pid)"
kill -9 "$pid"; sleep 1
start=$(date +%s)
if $KC up; then ok "up after kill -9 of dockerd (pid $pid) recovered in $(( $(date +%s) - start ))s"; else bad "up after kill -9 failed"; fi

down_leaves_nothing "$KC" "$before" "process, mount, cgroup, iptables rule, sysctl or directory"
finish
