#!/usr/bin/env bash
# MCP conformance (server mode) against our Streamable HTTP front, at both protocol revisions
# (`--requirements 2025-11-25` and `--requirements 2026-07-28`: each revision's frozen
# requirements at its own wire), in three passes per revision:
#   fixture     test/fixtures/conformance-server.mjs served directly over HTTP: the reference a
#               transparent proxy must match. What it does not implement is listed, with reasons,
#               in conformance/baseline-fixture-REV.yml.
#   standalone  `artifact-workspace serve --transport http` with no config, against
#               conformance/baseline-standalone-REV.yml (only scenarios that need the suite's own
#               `test_*` fixtures belong there).
#   proxy       the same front with the fixture as its only downstream (over stdio). Its baseline
#               is not kept by hand: it is exactly what the fixture failed directly in the same
#               run, so the proxy must pass every scenario the fixture passes.
# The conformance tool needs Node >= 22, so Node 22 comes from the npm registry (the `node`
# package) into a cache folder; our own servers run on the machine's node, the one we support.
# Exits non-zero when any pass has an unexpected failure or a stale baseline entry.
#
# Environment: CONFORMANCE_CACHE (default .cache/conformance), CONFORMANCE_PASSES (default
# "fixture standalone proxy"), CONFORMANCE_CLI (our command, default "node dist/cli.js": the
# standalone and proxy passes need a build, or an installed `artifact-workspace`).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$PWD

NODE_PKG=node@22.23.3
CONFORMANCE_PKG=@modelcontextprotocol/conformance@0.2.0-alpha.12
read -r -a REVISIONS <<<"${CONFORMANCE_REVISIONS:-2025-11-25 2026-07-28}"

CACHE=${CONFORMANCE_CACHE:-$REPO/.cache/conformance}
mkdir -p "$CACHE"
CACHE=$(cd "$CACHE" && pwd)
PASSES=${CONFORMANCE_PASSES:-fixture standalone proxy}
HOST_NODE=$(command -v node)
read -r -a CLI <<<"${CONFORMANCE_CLI:-$HOST_NODE $REPO/dist/cli.js}"

say() { printf '[conformance] %s\n' "$*" >&2; }

# ---- tools ------------------------------------------------------------------------------------
stamp="$NODE_PKG $CONFORMANCE_PKG"
if [[ "$(cat "$CACHE/.installed" 2>/dev/null)" != "$stamp" ]]; then
  say "installing $NODE_PKG and $CONFORMANCE_PKG into $CACHE"
  t0=$SECONDS
  rm -rf "$CACHE/node_modules" "$CACHE/package.json" "$CACHE/package-lock.json" "$CACHE/.installed"
  printf '{"name":"conformance-tools","private":true}\n' >"$CACHE/package.json"
  # The `node` package fetches its binary in an install script, so scripts stay enabled.
  npm install --prefix "$CACHE" --no-audit --no-fund --loglevel=error "$NODE_PKG" "$CONFORMANCE_PKG" >&2
  echo "$stamp" >"$CACHE/.installed"
  say "installed in $((SECONDS - t0))s"
fi
NODE22=$CACHE/node_modules/.bin/node
CONFORMANCE=$CACHE/node_modules/@modelcontextprotocol/conformance/dist/index.js
node22_version=$("$NODE22" --version)
[[ $node22_version == v22.* ]] || { say "expected Node 22 from $NODE_PKG, got $node22_version"; exit 1; }

# ---- servers ----------------------------------------------------------------------------------
WORK=$(mktemp -d "${TMPDIR:-/tmp}/aw-conformance.XXXXXX")
RESULTS=$CACHE/results
rm -rf "$RESULTS" && mkdir -p "$RESULTS"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${PIDS[@]}"; do
    # Give each server (and the downstream it stops in steps) a moment, then insist.
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
  done
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
  "$HOST_NODE" -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

# wait_for_port PID PORT LOG: until PORT accepts a connection; fail if PID exits first.
wait_for_port() {
  local pid=$1 port=$2 log=$3
  for _ in $(seq 200); do
    if ! kill -0 "$pid" 2>/dev/null; then
      say "server exited before listening on $port; its stderr:"
      sed 's/^/    /' "$log" >&2
      return 1
    fi
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  say "nothing listening on $port after 20s; server stderr:"
  sed 's/^/    /' "$log" >&2
  return 1
}

# start NAME CWD CMD...: start a server in CWD with stderr to a log; sets PORT and URL.
start() {
  local name=$1 cwd=$2
  shift 2
  PORT=$(free_port)
  URL=http://127.0.0.1:$PORT/mcp
  local log=$RESULTS/$name.server.log
  local -a cmd=()
  local a
  for a in "$@"; do cmd+=("${a//@PORT@/$PORT}"); done
  (cd "$cwd" && exec env -u ARTIFACT_WORKSPACE_CONFIG "${cmd[@]}" >"$log.stdout" 2>"$log") &
  PIDS+=($!)
  wait_for_port "$!" "$PORT" "$log" && return 0
  say "$name: FAILED — the server did not start"
  FAILED=1
  N_FAILED=$((N_FAILED + 1))
  return 1
}

# ---- passes -----------------------------------------------------------------------------------
# summarize NAME BASELINE SECONDS: one line per pass from the saved checks.json files.
summarize() {
  "$NODE22" --input-type=module - "$RESULTS/$1" "$2" "$1" "$3" "${4:-}" <<'EOF'
import fs from 'node:fs';
import path from 'node:path';
const [dir, baselineFile, name, secs, failedOut] = process.argv.slice(2);
const expected = new Set([...fs.readFileSync(baselineFile, 'utf8').matchAll(/^\s*-\s*([\w-]+)/gm)].map((m) => m[1]));
const failed = new Map(); // scenario -> messages of its failed checks ([] when it passed)
for (const d of fs.existsSync(dir) ? fs.readdirSync(dir) : []) {
  const m = /^server-(.+)-\d{4}-\d\d-\d\dT/.exec(d);
  const file = path.join(dir, d, 'checks.json');
  if (!m || !fs.existsSync(file)) continue;
  const bad = JSON.parse(fs.readFileSync(file, 'utf8')).filter((c) => c.status === 'FAILURE' || c.status === 'WARNING');
  failed.set(m[1], [...(failed.get(m[1]) ?? []), ...bad.map((c) => `${c.status} ${c.id}: ${c.errorMessage ?? c.description}`)]);
}
const all = [...failed.keys()];
const bad = (s) => failed.get(s).length > 0;
const unexpected = all.filter((s) => bad(s) && !expected.has(s));
const stale = all.filter((s) => !bad(s) && expected.has(s));
const passed = all.filter((s) => !bad(s)).length;
const ok = unexpected.length === 0 && stale.length === 0;
console.log(
  `[conformance] ${name}: ${ok ? 'OK' : 'FAILED'} — ${passed}/${all.length} scenarios passed, ` +
    `${all.length - passed - unexpected.length} expected failures, ${unexpected.length} unexpected` +
    `${unexpected.length ? ` (${unexpected.join(', ')})` : ''}, ${stale.length} stale baseline` +
    `${stale.length ? ` (${stale.join(', ')})` : ''} [${secs}s]`,
);
for (const s of unexpected) for (const msg of failed.get(s)) console.log(`    ${s}: ${msg}`);
if (all.length === 0) console.log('    no results: see the conformance log beside the results folder');
if (failedOut) {
  const list = all.filter(bad);
  fs.writeFileSync(failedOut, list.length ? `server:\n${list.map((s) => `  - ${s}\n`).join('')}` : 'server: []\n');
}
process.exitCode = ok && all.length > 0 ? 0 : 1;
EOF
}

# run_pass NAME REVISION BASELINE [FAILED_OUT]: the revision's requirements against $URL; the
# scenarios that failed are written to FAILED_OUT when given.
run_pass() {
  local name=$1@$2 rev=$2 baseline=$3 failed_out=${4:-} rc=0 t0=$SECONDS
  local out=$RESULTS/$name
  say "$name: $URL against ${baseline#"$REPO"/}"
  "$NODE22" "$CONFORMANCE" server --url "$URL" --requirements "$rev" --expected-failures "$baseline" -o "$out" >"$out.log" 2>&1 || rc=1
  summarize "$name" "$baseline" "$((SECONDS - t0))" "$failed_out" || rc=1
  if ((rc)); then
    say "$name: details in $out and $out.log"
    FAILED=1
    N_FAILED=$((N_FAILED + 1))
  else
    N_PASSED=$((N_PASSED + 1))
  fi
  return 0
}

# proxy_pass NAME PROTOCOL REVISION...: our front with the fixture as its one downstream (over
# stdio, spoken to at PROTOCOL), held at each REVISION to what the fixture failed directly (plus,
# for NAME@REVISION, conformance/baseline-NAME-REVISION.yml when it exists).
proxy_pass() {
  local name=$1 protocol=$2 rev
  shift 2
  mkdir -p "$WORK/$name"
  "$HOST_NODE" -e '
    const [dir, node, fixture, protocol] = process.argv.slice(1);
    const config = { workspace: { root: dir + "/ws" }, mcpServers: { conf: { command: node, args: [fixture], protocol } } };
    require("fs").writeFileSync(dir + "/mcp.config.json", JSON.stringify(config, null, 2));
  ' "$WORK/$name" "$HOST_NODE" "$REPO/test/fixtures/conformance-server.mjs" "$protocol"
  start "$name" "$WORK/$name" "${CLI[@]}" serve --transport http --port @PORT@ --config "$WORK/$name/mcp.config.json" || return 0
  for rev in "$@"; do
    # What the fixture failed directly in this run; without a fixture pass, its kept baseline.
    local fixture_failed=$WORK/fixture-failed-$rev.yml
    [[ -f $fixture_failed ]] || fixture_failed=$REPO/conformance/baseline-fixture-$rev.yml
    local merged=$WORK/$name-baseline-$rev.yml
    "$HOST_NODE" -e '
      const fs = require("fs");
      const names = process.argv.slice(1, -1).filter((f) => fs.existsSync(f))
        .flatMap((f) => [...fs.readFileSync(f, "utf8").matchAll(/^\s*-\s*([\w-]+)/gm)].map((m) => m[1]));
      const list = [...new Set(names)];
      fs.writeFileSync(process.argv.at(-1), list.length ? `server:\n${list.map((n) => `  - ${n}\n`).join("")}` : "server: []\n");
    ' "$fixture_failed" "$REPO/conformance/baseline-$name-$rev.yml" "$merged"
    run_pass "$name" "$rev" "$merged"
  done
}

FAILED=0
N_PASSED=0
N_FAILED=0
for pass in $PASSES; do
  case $pass in
    fixture)
      start fixture "$REPO" "$HOST_NODE" "$REPO/test/fixtures/conformance-server.mjs" --http @PORT@ &&
        for rev in "${REVISIONS[@]}"; do run_pass fixture "$rev" "$REPO/conformance/baseline-fixture-$rev.yml" "$WORK/fixture-failed-$rev.yml"; done
      ;;
    standalone)
      # Its own temp working folder, so no ./mcp.config.json is picked up.
      mkdir -p "$WORK/standalone"
      start standalone "$WORK/standalone" "${CLI[@]}" serve --transport http --port @PORT@ --root "$WORK/standalone/ws" &&
        for rev in "${REVISIONS[@]}"; do run_pass standalone "$rev" "$REPO/conformance/baseline-standalone-$rev.yml"; done
      ;;
    proxy)
      # The fixture speaks both revisions; the proxy speaks 2025-11-25 to such a server by default
      # (`protocol: auto`). At the 2026-07-28 wire that proxy bridges the fixture's questions into
      # rounds of its own; scenarios that need the server's own rounds verbatim are listed, with
      # reasons, in conformance/baseline-proxy-2026-07-28.yml. The relay pass pins the fixture to
      # 2026-07-28, where the rounds cross as they are: it must match the fixture exactly.
      proxy_pass proxy auto "${REVISIONS[@]}"
      if [[ " ${REVISIONS[*]} " == *" 2026-07-28 "* ]]; then proxy_pass proxy-relay 2026-07-28 2026-07-28; fi
      ;;
    *) say "unknown pass: $pass"; exit 2 ;;
  esac
done
# A plain closing line (passes, not scenarios) for whoever reads the end of the log.
echo "conformance: $N_PASSED passed, $N_FAILED failed"
exit "$FAILED"
