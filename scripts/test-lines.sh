#!/usr/bin/env bash
# `npm test`: the whole suite on every Node.js build in scripts/node-builds.sh (fetched by setup.sh),
# one after another, then the tests that run once per `npm test` (test/**/*.once.mjs, the fleet of
# agents behind one Prometheus: too heavy for every line) on the newest build, then a table of the
# results. Extra arguments go to the lines' mocha. To run the suite on your own Node.js instead:
# `npm run test:here`.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/node-builds.sh
rows=()
passed=0
failed=0

# run_suite <row label> <node version> <mocha arguments...>: one row of the table.
run_suite() {
  local label=$1 version=$2 dir start log status summary p f
  shift 2
  dir=$(node_build_dir "$version")
  if [ ! -x "$dir/bin/node" ]; then
    echo "test-lines: Node.js $version is not fetched: run ./scripts/setup.sh" >&2
    rows+=("$label | not fetched")
    failed=$((failed + 1))
    return
  fi
  echo "=== $label"
  start=$SECONDS
  log=$(mktemp)
  PATH="$dir/bin:$PATH" npx mocha "$@" 2>&1 | tee "$log"
  status=${PIPESTATUS[0]}
  summary=$(grep -E '^mocha: [0-9]+ passed, [0-9]+ failed' "$log" | tail -1)
  rm -f "$log"
  p=$(sed -E 's/^mocha: ([0-9]+) passed.*/\1/' <<<"${summary:-mocha: 0 passed}")
  f=$(sed -E 's/^mocha: [0-9]+ passed, ([0-9]+) failed.*/\1/' <<<"${summary:-mocha: 0 passed, 1 failed}")
  # No summary, or mocha failing after it (an error at exit): the suite failed.
  [ -n "$summary" ] && [ "$status" -eq 0 ] || f=$((f > 0 ? f : 1))
  passed=$((passed + p))
  failed=$((failed + f))
  rows+=("$label | $p passed, $f failed | $((SECONDS - start)) s")
}

for version in "${NODE_BUILDS[@]}"; do
  run_suite "Node.js $version" "$version" "$@"
done
run_suite "once, Node.js ${NODE_BUILDS[-1]}" "${NODE_BUILDS[-1]}" --config .mocharc.once.json
echo
echo "suite | tests | time"
printf '%s\n' "${rows[@]}"
echo
echo "all: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
