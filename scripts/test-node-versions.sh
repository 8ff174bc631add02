#!/usr/bin/env bash
# The test suite on the other Node versions we support (README "Quick start"): Node 20 runs it in
# `npm test` itself; this runs the same vitest suite on Node 22 and 24, from npm's `node@22` /
# `node@24` packages installed into a cache folder (nothing global changes). Children the tests
# start (`process.execPath`, and `node` on PATH) run on the same version. Left out there, to keep
# CI under its limit: the property tests (pure routing logic, exercised at length on Node 20) and
# the browser tests (the browser is the same whichever Node serves the pages).
#
# Environment: NODE_VERSIONS (default "22 24"), NODE_VERSIONS_CACHE (default .cache/node-versions).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD
CACHE=${NODE_VERSIONS_CACHE:-$REPO/.cache/node-versions}
say() { printf '[node-versions] %s\n' "$*" >&2; }

for major in ${NODE_VERSIONS:-22 24}; do
  dir=$CACHE/$major
  if [[ ! -x $dir/node_modules/.bin/node ]]; then
    say "installing node@$major into $dir"
    mkdir -p "$dir"
    printf '{"name":"node-%s","private":true}\n' "$major" >"$dir/package.json"
    # The `node` package fetches its binary from npm in an install script.
    npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "node@$major" >&2
  fi
  bin=$dir/node_modules/node/bin
  [[ -x $bin/node ]] || bin=$dir/node_modules/.bin
  version=$("$bin/node" --version)
  [[ $version == v$major.* ]] || { say "expected Node $major, got $version"; exit 1; }
  say "vitest on Node $version"
  t0=$SECONDS
  PATH="$bin:$PATH" "$bin/node" "$REPO/node_modules/vitest/vitest.mjs" run --exclude 'test/property/**' --exclude 'test/e2e/ui.test.ts' --exclude 'test/s3/**'
  say "Node $version: passed in $((SECONDS - t0))s"
done
