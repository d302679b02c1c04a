#!/usr/bin/env bash
# The main job, no cluster needed: build a pod by hand on this machine and inspect it.
# Extra arguments go to `kubectl-podnet lab` (e.g. --keep, -o json, --show-commands).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/kubectl-podnet lab "$@"
