#!/usr/bin/env bash
# Build the release files into dist/: the single-file kubectl-podnet per platform (linux and
# darwin, amd64 and arm64), their krew .tar.gz archives (with LICENSE), the krew manifest
# dist/podnet.yaml and SHA256SUMS. Needs python3 >= 3.11 with pip and the network to PyPI
# (wheels are cached in build/dist-cache). The same GitHub release workflow runs this.
#   PODNET_RELEASE_URL   where the archives will live (default: the GitHub release of the
#                        tag when run by GitHub Actions, else file:// of dist/)
#   --relock             resolve the dependencies anew and rewrite scripts/dist.lock
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "dist: $PYTHON is older than 3.11 (set PYTHON=/path/to/python3.11+)" >&2
  exit 2
fi
rm -rf dist
exec "$PYTHON" scripts/dist_build.py "$@"
