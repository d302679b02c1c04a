#!/usr/bin/env bash
# The test command: strict typing, then unit and privileged tests (root: real netns).
# A privileged test that would be skipped fails instead, and "no tests ran" fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
.venv/bin/mypy  # --strict over kubectl_podnet, tests, e2e, testbeds and bench (pyproject.toml [tool.mypy])
export PODNET_REQUIRE_PRIVILEGED=1
set +e
.venv/bin/python -m pytest tests "$@"
status=$?
set -e
if [ "$status" -eq 5 ]; then
  echo "test: pytest collected no tests: the setup is broken" >&2
  exit 1
fi
exit "$status"
