#!/usr/bin/env bash
# The one command that runs the e2e tier, on a laptop, here and in CI:
#
#   E2E_CLUSTER=local e2e/run.sh [pytest options...]   the one-node cluster (testbeds.localcluster)
#   E2E_CLUSTER=kind  e2e/run.sh [pytest options...]   the three-node kind cluster (testbeds.kindcluster)
#   KUBECONFIG=F      e2e/run.sh [pytest options...]   any other cluster
#
# The target is chosen explicitly, never guessed; the cluster must be up (each tool's `up`).
# On kind, pytest runs inside the cluster's network namespace (`python3 -m testbeds.kindcluster
# run`), where kind publishes the API server on 127.0.0.1. Environment knobs: see e2e/README.md.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ -n "${PYTHON:-}" ]]; then
    python="$PYTHON"
elif [[ -n "${VIRTUAL_ENV:-}" ]]; then
    python="$VIRTUAL_ENV/bin/python"
elif [[ -x .venv/bin/python ]]; then
    python=.venv/bin/python  # the one scripts/setup.sh makes
else
    python="$(command -v python3)"
fi
if ! "$python" -c 'import kubectl_podnet, pytest' 2>/dev/null; then
    echo "e2e/run.sh: $python cannot import kubectl_podnet and pytest: run scripts/setup.sh or" \
         "pip install -e '.[test]' first (or set PYTHON=/path/to/venv/bin/python)" >&2
    exit 2
fi
case "${E2E_CLUSTER:-}" in
    kind) exec python3 -m testbeds.kindcluster run -- "$python" -m pytest e2e/ --e2e -v "$@" ;;
    local | "") exec "$python" -m pytest e2e/ --e2e -v "$@" ;;
    *) echo "e2e/run.sh: E2E_CLUSTER=$E2E_CLUSTER: expected local or kind" >&2; exit 2 ;;
esac
