#!/bin/bash
# podnet: runs before kind's own entrypoint in every node container (the image's ENTRYPOINT).
#
# Where the machine's root lacks CAP_SYS_RESOURCE (runc could not grant it to this privileged
# container, so a runtime wrapper removed it), nothing in the node can lower an OOM score:
# systemd refuses to start a unit with a negative OOMScoreAdjust (containerd's is -999), and
# runc fails every pod sandbox unless containerd clamps pod scores to its own
# (restrict_oom_score_adj, as kind itself does for rootless nodes).  Detected here, at boot,
# so the same image runs unchanged where the capability is present (GitHub runners).
set -euo pipefail
cap_bnd=$(awk '/^CapBnd:/ {print $2}' /proc/self/status)
if (( (16#${cap_bnd} >> 24 & 1) == 0 )); then
  echo "podnet-node-prep: no CAP_SYS_RESOURCE: restrict_oom_score_adj, OOMScoreAdjust=0 for units that lower it" >&2
  sed -i 's/restrict_oom_score_adj = false/restrict_oom_score_adj = true/' /etc/containerd/config.toml
  for unit in $(grep -l '^OOMScoreAdjust=-' /etc/systemd/system/*.service /lib/systemd/system/*.service 2>/dev/null); do
    dropin="/etc/systemd/system/$(basename "$unit").d"
    mkdir -p "$dropin"
    printf '[Service]\nOOMScoreAdjust=0\n' > "$dropin/10-podnet-no-sys-resource.conf"
  done
fi
exec "$@"
