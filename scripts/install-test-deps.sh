#!/usr/bin/env bash
# What the tests need besides npm packages: Debian's chromium for the browser tests
# (test/e2e/ui.test.ts drives it with playwright-core; no browser download), and Ceph's mon, OSD
# and radosgw for the S3 suite (test/s3/, on the engine scripts/s3-engine.sh runs). Needs root,
# or both already on the machine. CI runs it before `npm test`.
set -euo pipefail
say() { printf '[test-deps] %s\n' "$*" >&2; }
here=$(cd "$(dirname "$0")" && pwd)
t0=$SECONDS
bash "$here/s3-engine.sh" install
say "ceph ready in $((SECONDS - t0))s"
if [[ -x /usr/bin/chromium ]]; then
  say "chromium: $(/usr/bin/chromium --version 2>/dev/null || echo present)"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  say "chromium is missing and this is not root: install Debian's chromium (apt-get install chromium), or the browser tests skip"
  exit 1
fi
t0=$SECONDS
say "installing Debian's chromium"
apt-get update -qq >/dev/null
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
say "chromium $(/usr/bin/chromium --version 2>/dev/null) installed in $((SECONDS - t0))s"
