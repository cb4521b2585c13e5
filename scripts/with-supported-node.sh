#!/usr/bin/env bash
# Runs a command with a Node.js the agent supports first on PATH: the system's own when it is one,
# else the newest build scripts/setup.sh fetched (a fresh Debian 12 machine has Node.js 20).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/node-builds.sh
supported() { "$1" --input-type=module -e "import { nodeSupported } from './dist/node-support.js'; process.exit(nodeSupported(process.versions.node) ? 0 : 1)" 2>/dev/null; }
if ! command -v node >/dev/null || ! supported node; then
  newest=$(node_build_dir "${NODE_BUILDS[-1]}")
  if [ ! -x "$newest/bin/node" ]; then
    echo "with-supported-node: $(node --version 2>/dev/null || echo 'no node') is not supported and no Node.js build is fetched: run ./scripts/setup.sh" >&2
    exit 1
  fi
  export PATH="$newest/bin:$PATH"
fi
exec "$@"
