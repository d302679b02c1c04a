#!/usr/bin/env bash
# Set up a fresh Debian machine for kubectl-podnet: iproute2 for the lab, a venv with
# the plugin and its test tools. Idempotent; sourced by lab.sh and test.sh.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

if [ "$(id -u)" -ne 0 ]; then
  echo "setup: run as root (the lab and the privileged tests create netns and cgroups)" >&2
  exit 2
fi
# iproute2 for the lab (and iptables: the two-node modes break it, `connect` reads it); bash, zsh and fish drive
# the completion scripts in the unit tests;
# graphviz renders `node map -o dot` to SVG in them
missing=()
for tool in ip:iproute2 zsh:zsh fish:fish dot:graphviz iptables:iptables; do
  command -v "${tool%%:*}" >/dev/null 2>&1 || missing+=("${tool#*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
PYTHON="${PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))' 2>/dev/null; then
  echo "setup: $PYTHON is older than 3.11 (set PYTHON=/path/to/python3.11+)" >&2
  exit 2
fi
if [ ! -x .venv/bin/python ] && ! "$PYTHON" -m venv .venv >/dev/null 2>&1; then
  # Debian/Ubuntu ship venv's ensurepip separately
  rm -rf .venv
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3-venv >/dev/null
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --disable-pip-version-check -e '.[test]'
# mermaid's own parser (under jsdom) checks `node map -o mermaid` in the tests
if command -v npm >/dev/null 2>&1 && [ ! -d tests/mermaid/node_modules/mermaid ]; then
  npm ci --prefix tests/mermaid --no-audit --no-fund --silent
fi
