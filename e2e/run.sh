#!/usr/bin/env bash
# The one command that runs the e2e tier, on a laptop, here and in CI:
#
#   e2e/run.sh [pytest options...]     e.g. e2e/run.sh -k lifecycle --keep-cluster
#
# Target: KUBECONFIG / --kubeconfig if given; else the local one-node cluster if it runs
# (e2e/localcluster/localcluster.py status); else a kind cluster from e2e/kind.yaml,
# deleted afterwards unless --keep-cluster. Environment knobs: see e2e/README.md.
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
exec "$python" -m pytest e2e/ --e2e -v "$@"
