#!/usr/bin/env bash
# `npm test`: the whole suite on every Node.js build in scripts/node-builds.sh (fetched by setup.sh),
# one after another, then a table of the results. Extra arguments go to mocha. To run the suite on
# your own Node.js instead: `npm run test:here`.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/node-builds.sh
rows=()
passed=0
failed=0
for version in "${NODE_BUILDS[@]}"; do
  dir=$(node_build_dir "$version")
  if [ ! -x "$dir/bin/node" ]; then
    echo "test-lines: Node.js $version is not fetched: run ./scripts/setup.sh" >&2
    rows+=("$version | not fetched")
    failed=$((failed + 1))
    continue
  fi
  echo "=== Node.js $version"
  start=$SECONDS
  log=$(mktemp)
  PATH="$dir/bin:$PATH" npx mocha "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  summary=$(grep -E '^mocha: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  rm -f "$log"
  p=$(sed -E 's/^mocha: ([0-9]+) passed.*/\1/' <<<"${summary:-mocha: 0 passed}")
  f=$(sed -E 's/^mocha: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"${summary:-mocha: 0 passed, 1 failed}")
  # No summary, or mocha failing after it (an error at exit): the line failed.
  [ -n "$summary" ] && [ "$status" -eq 0 ] || f=$((f > 0 ? f : 1))
  passed=$((passed + p))
  failed=$((failed + f))
  rows+=("$version | $p passed, $f failed | $((SECONDS - start)) s")
done
echo
echo "Node.js | tests | time"
printf '%s\n' "${rows[@]}"
echo
echo "all lines: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
