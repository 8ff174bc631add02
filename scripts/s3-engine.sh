#!/usr/bin/env bash
# A real S3 engine for tests: a one-node Ceph cluster (1 mon, 1 memstore OSD, no mgr) with a
# radosgw (beast frontend) on loopback. Everything it makes — config, run dir, admin sockets, logs,
# mon/osd data, pid files — lives under one scratch folder, so parallel runs with different
# folders (and ports) do not meet, and `stop` removes every trace.
#
# Usage:
#   scripts/s3-engine.sh install          apt-get the Ceph packages if missing (idempotent)
#   eval "$(scripts/s3-engine.sh start [DIR])"
#                                         start; prints `export` lines on stdout:
#                                         AWS_ENDPOINT_URL_S3 AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY
#                                         AWS_REGION S3_ENGINE_DIR (progress goes to stderr)
#   scripts/s3-engine.sh env [DIR]        print those export lines again for a running engine
#   scripts/s3-engine.sh status [DIR]     exit 0 and say "up" if it answers, else exit 1
#   scripts/s3-engine.sh stop [DIR]       stop rgw, osd, mon (TERM, then KILL) and remove DIR
# DIR defaults to a new `mktemp -d` for start and to $S3_ENGINE_DIR for env/status/stop.
#
# Environment:
#   S3_ENGINE_PORT        S3 port on 127.0.0.1 (default: a free one)
#   S3_ENGINE_MON_PORT    monitor port (default: a free one)
#   S3_ENGINE_MEM_BYTES   memstore size in bytes (default 4 GiB). Only the size the OSD reports:
#                         with no mgr there is no "full" flag, so it is NOT enforced. The OSD's
#                         memory grows with what is stored (~1.8x) and shrinks only after rgw's
#                         garbage collection (~1-2 min after a delete).
#   S3_ENGINE_TIMEOUT     seconds `start` may take before it fails (default 90)
#   S3_ENGINE_STOP_GRACE  seconds between TERM and KILL in `stop` (default 5)
#   S3_ENGINE_KEEP_ON_FAILURE=1  leave DIR (logs) behind when `start` fails
#   S3_ENGINE_WARMUP=0    skip the ~1 s warm-up (radosgw then creates its pools on the first
#                         CreateBucket/PutObject/multipart: a few hundred ms each)
# Credentials are fixed: access key "test", secret "testsecret", region us-east-1.
set -euo pipefail

PACKAGES=(ceph-mon ceph-osd radosgw ceph-common curl)
ACCESS_KEY="test"
SECRET_KEY=testsecret
REGION=us-east-1
MARKER=.s3-engine                      # a folder holding this file is one of ours
PORT_LOCKS=${S3_ENGINE_PORT_LOCKS:-/tmp/s3-engine-ports}
RGW_NAME=client.rgw.a

say() { printf '[s3-engine] %s\n' "$*" >&2 2>/dev/null || true; }
die() { say "error: $*"; exit 1; }

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed -e '/^set -euo/d' -e 's/^# \{0,1\}//' >&2
  exit 2
}

# ---- install ------------------------------------------------------------------------------------
missing_packages() {
  local p out=()
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || out+=("$p")
  done
  echo "${out[@]:-}"
}

cmd_install() {
  local missing
  missing=$(missing_packages)
  if [[ -z "$missing" ]]; then
    say "packages present: $(dpkg-query -W -f='${Package} ${Version}\n' "${PACKAGES[@]}" | tr '\n' ' ')"
    return 0
  fi
  [[ $(id -u) -eq 0 ]] || die "installing $missing needs root (apt-get)"
  export DEBIAN_FRONTEND=noninteractive
  local apt=(apt-get -y -q -o Dpkg::Use-Pty=0 -o Dpkg::Options::=--force-confdef
             -o Dpkg::Options::=--force-confold)
  local log
  log=$(mktemp "${TMPDIR:-/tmp}/s3-engine-install.XXXXXX.log")
  say "installing $missing (about 500 MB, a minute or two; apt output in $log)"
  # A fresh machine has no package lists: update first then. Otherwise try without, and update
  # and retry only if the lists turn out to be stale.
  if ! compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null; then
    apt-get -q update >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "apt-get update failed"; }
  fi
  # shellcheck disable=SC2086
  if ! "${apt[@]}" install --no-install-recommends $missing >>"$log" 2>&1; then
    apt-get -q update >>"$log" 2>&1 || { tail -n 20 "$log" >&2; die "apt-get update failed"; }
    # shellcheck disable=SC2086
    "${apt[@]}" install --no-install-recommends $missing >>"$log" 2>&1 \
      || { tail -n 30 "$log" >&2; die "apt-get install failed (log: $log)"; }
  fi
  missing=$(missing_packages)
  [[ -z "$missing" ]] || die "still missing after apt-get: $missing"
  say "installed: $(dpkg-query -W -f='${Package} ${Version}\n' "${PACKAGES[@]}" | tr '\n' ' ')"
}

need_binaries() {
  local b
  for b in monmaptool ceph-mon ceph-osd radosgw radosgw-admin ceph curl; do
    command -v "$b" >/dev/null || die "$b not found: run '$0 install' first"
  done
}

# ---- ports --------------------------------------------------------------------------------------
port_in_use() { # is anything bound to this TCP port (any address, v4 or v6)?
  local hex
  hex=$(printf ':%04X ' "$1")
  cat /proc/net/tcp /proc/net/tcp6 2>/dev/null | awk '{print $2" "}' | grep -q -- "$hex"
}

# Reserve a port with an atomic mkdir under $PORT_LOCKS, so two parallel `start`s never pick the
# same one before their daemons bind it. A reservation whose owner folder is gone is stale.
reserve_port() { # reserve_port PORT OWNER_DIR -> 0 if reserved
  local port=$1 owner=$2 lock=$PORT_LOCKS/$1 prev
  mkdir -p "$PORT_LOCKS" 2>/dev/null || true
  port_in_use "$port" && return 1
  if ! mkdir "$lock" 2>/dev/null; then
    prev=$(cat "$lock/owner" 2>/dev/null || true)
    if [[ -n "$prev" && ! -e "$prev/$MARKER" ]]; then
      rm -rf "$lock"
      mkdir "$lock" 2>/dev/null || return 1
    else
      return 1
    fi
  fi
  echo "$owner" >"$lock/owner"
  echo "$port" >>"$owner/ports"
}

pick_port() { # pick_port OWNER_DIR -> prints a reserved free port (20000-32767, below ephemerals)
  local i port
  for i in $(seq 1 200); do
    port=$((20000 + (RANDOM * 32768 + RANDOM) % 12768))
    if reserve_port "$port" "$1"; then echo "$port"; return 0; fi
  done
  die "no free port found"
}

release_ports() {
  local dir=$1 port
  [[ -f "$dir/ports" ]] || return 0
  while read -r port; do
    if [[ -n "$port" && "$(cat "$PORT_LOCKS/$port/owner" 2>/dev/null)" == "$dir" ]]; then
      rm -rf "${PORT_LOCKS:?}/$port"
    fi
  done <"$dir/ports"
  return 0
}

# ---- processes ----------------------------------------------------------------------------------
# A pid counts as ours only while its command line still names our config file (pids get reused).
ours() { # ours PID DIR
  local pid=$1 dir=$2
  [[ -n "$pid" && -r /proc/$pid/cmdline ]] || return 1
  tr '\0' ' ' </proc/"$pid"/cmdline | grep -qF -- "$dir/ceph.conf"
}

pids_of_dir() { # every process whose command line names DIR/ceph.conf
  local dir=$1 p
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [[ $p == "$$" ]] && continue
    ours "$p" "$dir" 2>/dev/null && echo "$p"
  done
  return 0
}

stop_pid() { # stop_pid PID DIR GRACE -> TERM, wait, KILL
  local pid=$1 dir=$2 grace=$3 i
  ours "$pid" "$dir" || return 0
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < grace * 10; i++)); do
    ours "$pid" "$dir" || return 0
    # a zombie (already exited, not yet reaped) counts as stopped
    [[ "$(awk '{print $3}' /proc/"$pid"/stat 2>/dev/null)" == Z ]] && return 0
    sleep 0.1
  done
  say "pid $pid did not stop in ${grace}s: KILL"
  kill -KILL "$pid" 2>/dev/null || true
  for ((i = 0; i < 50; i++)); do
    ours "$pid" "$dir" || return 0
    [[ "$(awk '{print $3}' /proc/"$pid"/stat 2>/dev/null)" == Z ]] && return 0
    sleep 0.1
  done
}

stop_all() { # stop_all DIR GRACE: rgw, then osd, then mon, then any stragglers
  local dir=$1 grace=$2 name pid
  for name in rgw osd mon; do
    pid=$(cat "$dir/pids/$name.pid" 2>/dev/null || true)
    if [[ -n "$pid" ]]; then stop_pid "$pid" "$dir" "$grace"; fi
  done
  for pid in $(pids_of_dir "$dir"); do
    kill -KILL "$pid" 2>/dev/null || true
  done
  sleep 0.2
  for pid in $(pids_of_dir "$dir"); do
    [[ "$(awk '{print $3}' /proc/"$pid"/stat 2>/dev/null)" == Z ]] && continue
    say "warning: pid $pid still running"
  done
  return 0
}

# Start a daemon in the foreground (-f) in its own session, its stdio to files and every other
# inherited descriptor closed, so that it neither holds the caller's $(...) pipe (or any pipe a
# test harness passed down) open nor dies with the caller's terminal.
launch() { # launch NAME CMD...
  local name=$1; shift
  (
    for fd in /proc/"$BASHPID"/fd/*; do
      fd=${fd##*/}
      if (( fd > 2 )); then eval "exec $fd>&-" 2>/dev/null || true; fi
    done
    trap - PIPE
    exec setsid "$@"
  ) </dev/null >>"$DIR/log/$name.out" 2>&1 &
  echo $! >"$DIR/pids/$name.pid"
}

# ---- start --------------------------------------------------------------------------------------
DIR=''
CREATED=0
STARTED=0
DEADLINE=0

fail_start() { # fail_start MESSAGE LOG... : show log tails, clean up, exit 1
  local msg=$1 f; shift
  say "error: $msg"
  for f in "$@"; do
    [[ -s "$f" ]] || continue
    say "---- last lines of $f ----"
    tail -n 30 "$f" >&2
  done
  cleanup_start
  exit 1
}

cleanup_start() {
  [[ $STARTED -eq 1 ]] && return 0
  STARTED=1 # run once
  stop_all "$DIR" 1 || true
  release_ports "$DIR" || true
  if [[ $CREATED -eq 1 && "${S3_ENGINE_KEEP_ON_FAILURE:-0}" != 1 ]]; then
    rm -rf "$DIR"
  else
    say "left $DIR for inspection"
  fi
}

time_left() { (( SECONDS < DEADLINE )); }

ceph_() { timeout 15 ceph -c "$DIR/ceph.conf" --connect-timeout 10 "$@" 2>>"$DIR/log/cli.err"; }

alive() { # alive NAME -> the daemon is still running
  local pid
  pid=$(cat "$DIR/pids/$1.pid" 2>/dev/null) || return 1
  ours "$pid" "$DIR" && [[ "$(awk '{print $3}' /proc/"$pid"/stat 2>/dev/null)" != Z ]]
}

http_up() { # any HTTP answer at all from the S3 port
  curl -s -o /dev/null -m 3 -w '%{http_code}' "http://127.0.0.1:$1/" | grep -q '^[1-5]'
}

s3curl() { # a SigV4-signed request as the test user (curl 7.88 leaves out x-amz-content-sha256)
  curl -sf -m 30 --user "$ACCESS_KEY:$SECRET_KEY" --aws-sigv4 "aws:amz:$REGION:s3" \
    -H 'x-amz-content-sha256: UNSIGNED-PAYLOAD' "$@"
}

print_env() { # print_env DIR
  local port
  port=$(cat "$1/rgw.port")
  cat <<EOF
export AWS_ENDPOINT_URL_S3=http://127.0.0.1:$port
export AWS_ACCESS_KEY_ID=$ACCESS_KEY
export AWS_SECRET_ACCESS_KEY=$SECRET_KEY
export AWS_REGION=$REGION
export S3_ENGINE_DIR=$1
EOF
}

cmd_start() {
  need_binaries
  local timeout=${S3_ENGINE_TIMEOUT:-90}
  local mem=${S3_ENGINE_MEM_BYTES:-$((4 * 1024 * 1024 * 1024))}
  [[ "$mem" =~ ^[0-9]+$ ]] || die "S3_ENGINE_MEM_BYTES must be a number of bytes"
  DEADLINE=$((SECONDS + timeout))

  if [[ -n "${1:-}" ]]; then
    DIR=$1
    if [[ -e "$DIR" ]]; then
      [[ -d "$DIR" ]] || die "$DIR is not a folder"
      [[ -z "$(ls -A "$DIR")" ]] || die "$DIR is not empty (already running? stop it first)"
    else
      mkdir -p "$DIR"; CREATED=1
    fi
    DIR=$(cd "$DIR" && pwd)
  else
    DIR=$(mktemp -d "${TMPDIR:-/tmp}/s3-engine.XXXXXX"); CREATED=1
  fi
  # If our stderr reader goes away (say, the caller's pipeline was killed), writing to it must not
  # kill us before the cleanup has stopped what we started.
  trap '' PIPE
  trap 'cleanup_start' EXIT
  trap 'say "interrupted"; exit 130' INT TERM
  : >"$DIR/$MARKER"
  mkdir -p "$DIR"/{run,log,pids,mon,osd,rgw,crash,tmp}

  local mon_port rgw_port fsid osd_uuid
  if [[ -n "${S3_ENGINE_MON_PORT:-}" ]]; then
    mon_port=$S3_ENGINE_MON_PORT
    reserve_port "$mon_port" "$DIR" || fail_start "monitor port $mon_port is in use"
  else
    mon_port=$(pick_port "$DIR")
  fi
  if [[ -n "${S3_ENGINE_PORT:-}" ]]; then
    rgw_port=$S3_ENGINE_PORT
    reserve_port "$rgw_port" "$DIR" || fail_start "S3 port $rgw_port is in use"
  else
    rgw_port=$(pick_port "$DIR")
  fi
  echo "$rgw_port" >"$DIR/rgw.port"
  fsid=$(cat /proc/sys/kernel/random/uuid)
  osd_uuid=$(cat /proc/sys/kernel/random/uuid)

  cat >"$DIR/ceph.conf" <<EOF
[global]
fsid = $fsid
mon host = v2:127.0.0.1:$mon_port
mon initial members = a
public addr = 127.0.0.1
cluster addr = 127.0.0.1
ms bind ipv6 = false
auth cluster required = none
auth service required = none
auth client required = none
auth supported = none
# radosgw defaults to "secure" mode towards the mon, which auth none cannot provide
ms mon client mode = crc secure
run dir = $DIR/run
crash dir = $DIR/crash
tmp dir = $DIR/tmp
log to stderr = false
err to stderr = true
log to syslog = false
mon cluster log to syslog = false
mon cluster log file = $DIR/log/cluster.log
osd pool default size = 1
osd pool default min size = 1
osd pool default pg num = 8
osd pool default pgp num = 8
osd pool default pg autoscale mode = off
mon allow pool size one = true
mon allow pool delete = true
mon warn on pool no redundancy = false
osd crush chooseleaf type = 0

[mon]
mon data = $DIR/mon
# commit map changes (pool creation, osd boot) quickly: a one-mon test cluster needs no batching
paxos propose interval = 0.05
paxos min wait = 0.01
log file = $DIR/log/\$name.log

[osd]
osd data = $DIR/osd
osd objectstore = memstore
memstore device bytes = $mem
osd max object size = 1073741824
log file = $DIR/log/\$name.log

[$RGW_NAME]
rgw data = $DIR/rgw
rgw frontends = beast endpoint=127.0.0.1:$rgw_port
log file = $DIR/log/\$name.log
rgw gc obj min wait = 60
rgw gc processor period = 60
rgw enable usage log = false
EOF

  local t0=$SECONDS
  # -- monitor
  say "mon: port $mon_port, folder $DIR"
  monmaptool --create --clobber --fsid "$fsid" --addv a "[v2:127.0.0.1:$mon_port]" \
    "$DIR/monmap" >>"$DIR/log/setup.log" 2>&1 || fail_start "monmaptool failed" "$DIR/log/setup.log"
  ceph-mon -c "$DIR/ceph.conf" -i a --mkfs --monmap "$DIR/monmap" >>"$DIR/log/setup.log" 2>&1 \
    || fail_start "ceph-mon --mkfs failed" "$DIR/log/setup.log" "$DIR/log/mon.a.log"
  launch mon ceph-mon -f -c "$DIR/ceph.conf" -i a
  until ceph_ -s >/dev/null; do
    alive mon || fail_start "ceph-mon exited" "$DIR/log/mon.out" "$DIR/log/mon.a.log"
    time_left || fail_start "monitor not up in ${timeout}s" "$DIR/log/mon.a.log" "$DIR/log/cli.err"
    sleep 0.3
  done

  # -- osd
  say "osd: memstore of $mem bytes"
  local id
  id=$(ceph_ osd new "$osd_uuid") || fail_start "ceph osd new failed" "$DIR/log/cli.err"
  [[ "$id" == 0 ]] || fail_start "ceph osd new gave id '$id', expected 0" "$DIR/log/cli.err"
  ceph-osd -c "$DIR/ceph.conf" -i 0 --mkfs --osd-uuid "$osd_uuid" >>"$DIR/log/setup.log" 2>&1 \
    || fail_start "ceph-osd --mkfs failed" "$DIR/log/setup.log" "$DIR/log/osd.0.log"
  launch osd ceph-osd -f -c "$DIR/ceph.conf" -i 0
  until ceph_ osd stat 2>/dev/null | grep -q '1 up'; do
    alive osd || fail_start "ceph-osd exited" "$DIR/log/osd.out" "$DIR/log/osd.0.log"
    time_left || fail_start "osd not up in ${timeout}s" "$DIR/log/osd.0.log" "$DIR/log/mon.a.log"
    sleep 0.3
  done

  # -- radosgw (creates its pools on first start)
  say "rgw: http://127.0.0.1:$rgw_port"
  launch rgw radosgw -f -c "$DIR/ceph.conf" -n "$RGW_NAME"
  until http_up "$rgw_port"; do
    alive rgw || fail_start "radosgw exited" "$DIR/log/rgw.out" "$DIR/log/$RGW_NAME.log"
    time_left || fail_start "radosgw not answering in ${timeout}s" "$DIR/log/$RGW_NAME.log" \
      "$DIR/log/osd.0.log"
    sleep 0.3
  done

  say "rgw: answering after $((SECONDS - t0))s; creating user"
  # -- the test user, with fixed keys
  local rgwadmin=(timeout 30 radosgw-admin -c "$DIR/ceph.conf")
  until "${rgwadmin[@]}" user info --uid=test >/dev/null 2>>"$DIR/log/cli.err"; do
    "${rgwadmin[@]}" user create --uid=test --display-name=test --access-key="$ACCESS_KEY" \
      --secret-key="$SECRET_KEY" >/dev/null 2>>"$DIR/log/cli.err" || true
    time_left || fail_start "could not create the S3 user in ${timeout}s" "$DIR/log/cli.err" \
      "$DIR/log/$RGW_NAME.log"
  done
  # An authenticated request must now succeed (ListBuckets, SigV4-signed by curl).
  until s3curl -o /dev/null -m 5 "http://127.0.0.1:$rgw_port/" 2>/dev/null; do
    alive rgw || fail_start "radosgw exited" "$DIR/log/rgw.out" "$DIR/log/$RGW_NAME.log"
    time_left || fail_start "authenticated ListBuckets still failing after ${timeout}s" \
      "$DIR/log/$RGW_NAME.log"
    sleep 0.3
  done

  # Warm-up: radosgw creates its index, data and multipart pools on first use, which makes a
  # fresh engine's first CreateBucket, PutObject and multipart upload slower. Pay that here.
  if [[ "${S3_ENGINE_WARMUP:-1}" == 1 ]]; then
    say "rgw: user ready after $((SECONDS - t0))s; warming up"
    local wb="http://127.0.0.1:$rgw_port/s3-engine-warmup-$$" upload
    s3curl -X PUT "$wb" >/dev/null || fail_start "warm-up CreateBucket failed" "$DIR/log/$RGW_NAME.log"
    s3curl -X PUT --data-binary warm "$wb/o" >/dev/null \
      || fail_start "warm-up PutObject failed" "$DIR/log/$RGW_NAME.log"
    upload=$(s3curl -X POST "$wb/m?uploads=" | sed -n 's:.*<UploadId>\(.*\)</UploadId>.*:\1:p')
    [[ -n "$upload" ]] || fail_start "warm-up CreateMultipartUpload failed" "$DIR/log/$RGW_NAME.log"
    s3curl -X DELETE "$wb/m?uploadId=$upload" >/dev/null
    s3curl -X DELETE "$wb/o" >/dev/null
    s3curl -X DELETE "$wb" >/dev/null || fail_start "warm-up DeleteBucket failed" "$DIR/log/$RGW_NAME.log"
  fi

  STARTED=1
  trap - EXIT INT TERM
  say "ready in $((SECONDS - t0))s"
  print_env "$DIR"
}

# ---- stop / status / env ------------------------------------------------------------------------
resolve_dir() { # resolve_dir [DIR] -> an existing engine folder
  local d=${1:-${S3_ENGINE_DIR:-}}
  [[ -n "$d" ]] || die "no folder given and S3_ENGINE_DIR is not set"
  [[ -d "$d" ]] || die "$d does not exist"
  d=$(cd "$d" && pwd)
  [[ -e "$d/$MARKER" ]] || die "$d is not an s3-engine folder (no $MARKER)"
  echo "$d"
}

cmd_stop() {
  local d=${1:-${S3_ENGINE_DIR:-}}
  [[ -n "$d" ]] || die "no folder given and S3_ENGINE_DIR is not set"
  if [[ ! -d "$d" ]]; then say "$d does not exist: nothing to stop"; return 0; fi
  d=$(resolve_dir "$d")
  stop_all "$d" "${S3_ENGINE_STOP_GRACE:-5}"
  release_ports "$d"
  rm -rf "$d"
  say "stopped; removed $d"
}

cmd_status() {
  local d port name pid ok=1
  d=$(resolve_dir "${1:-}")
  port=$(cat "$d/rgw.port" 2>/dev/null || echo '?')
  for name in mon osd rgw; do
    pid=$(cat "$d/pids/$name.pid" 2>/dev/null || true)
    if ours "$pid" "$d"; then say "$name: running (pid $pid)"; else say "$name: not running"; ok=0; fi
  done
  if [[ $ok -eq 1 ]] && http_up "$port"; then
    echo "up http://127.0.0.1:$port $d"
  else
    echo "down $d"; return 1
  fi
}

case "${1:-}" in
  install) cmd_install ;;
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) shift; cmd_status "$@" ;;
  env) shift; print_env "$(resolve_dir "${1:-}")" ;;
  -h|--help|help|'') usage ;;
  *) say "unknown command: $1"; usage ;;
esac
