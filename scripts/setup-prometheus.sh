#!/usr/bin/env bash
# Installs Debian's `prometheus` package (the Prometheus server and promtool) for the dashboard and
# alert-rule checks in test/dashboards/, if it is missing. Safe to run again.
#
# The package would start a system-wide Prometheus service on :9090; the tests need none (they start
# their own server on 127.0.0.1 with their own config), so service start-up is blocked during the
# install with a temporary policy-rc.d when the machine has none of its own.
set -euo pipefail

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ "$(uname -s)" != Linux ]; then
  echo "setup-prometheus: not Linux; install Prometheus (prometheus and promtool on PATH) yourself" >&2
  exit 0
fi

if command -v promtool >/dev/null 2>&1 && command -v prometheus >/dev/null 2>&1; then
  exit 0
fi

echo "setup-prometheus: installing prometheus (server and promtool)"
POLICY=/usr/sbin/policy-rc.d
added_policy=0
if [ ! -e "$POLICY" ]; then
  as_root sh -c "printf '#!/bin/sh\nexit 101\n' > $POLICY && chmod 755 $POLICY"
  added_policy=1
fi
cleanup() {
  if [ "$added_policy" = 1 ]; then as_root rm -f "$POLICY"; fi
}
trap cleanup EXIT

as_root apt-get update -qq
as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
promtool --version 2>&1 | head -1
