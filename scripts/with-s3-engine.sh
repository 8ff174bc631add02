#!/usr/bin/env bash
# Runs a command with a real S3 engine beside it (scripts/s3-engine.sh: a one-node Ceph radosgw on
# loopback), its AWS_* variables exported, and stops the engine afterwards whatever happens.
# - An engine already named by AWS_ENDPOINT_URL_S3 is used as it is.
# - Without Ceph on the machine the command runs without an engine (the S3 suite skips), unless
#   REQUIRE_S3 is set (CI): then that is an error.
# Usage: scripts/with-s3-engine.sh COMMAND [ARGS…]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
say() { printf '[with-s3-engine] %s\n' "$*" >&2; }
if [[ -n "${AWS_ENDPOINT_URL_S3:-}" ]]; then
  exec "$@"
fi
if ! command -v radosgw >/dev/null || ! command -v ceph-mon >/dev/null; then
  if [[ -n "${REQUIRE_S3:-}" ]]; then
    say "REQUIRE_S3 is set but Ceph is not installed: run scripts/s3-engine.sh install (as root)"
    exit 1
  fi
  say "no Ceph on this machine: the S3 suite will skip (scripts/s3-engine.sh install adds it)"
  exec "$@"
fi
dir=$(mktemp -d "${TMPDIR:-/tmp}/aw-s3-engine.XXXXXX")
cleanup() { bash "$here/s3-engine.sh" stop "$dir" >/dev/null 2>&1 || true; }
trap cleanup EXIT INT TERM
t0=$SECONDS
eval "$(bash "$here/s3-engine.sh" start "$dir")"
say "engine up at $AWS_ENDPOINT_URL_S3 in $((SECONDS - t0))s"
set +e
"$@"
rc=$?
set -e
exit $rc
