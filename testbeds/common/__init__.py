"""What the two cluster tools share: one piece each where they used to keep a copy apiece.

failure (the error a step raises), pidfiles (daemons started and stopped by pidfile),
mounts (mountinfo, unmounting under a root), apt (missing Debian packages), mmdebstrap
(root filesystems from the machine's own apt sources), oci (image archives), smoke (the pod
that proves `up`), smoke_lib.sh (the shell helpers of the two smoke scripts).
"""
