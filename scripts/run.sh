#!/usr/bin/env bash
# The main job: surveillx-launcher with pipelines/classroom.pipe, a local
# PostgreSQL (project-local cluster in var/pg, schema applied, a demo
# gallery enrolled the first time) and a local dashboard page
# (tools/dashboard, the same Socket.IO contract as the SurveillX Flask app).
#
#   scripts/run.sh            then open http://127.0.0.1:5000/
#   cameras: POST http://<this host>:8080/offer  (aiortc / the Windows client)
#            with "Authorization: Bearer <token>": the operator's token in
#            var/secrets/operator-token, or a camera's own token from
#            surveillx-launcher --camera-secret-file var/secrets/camera-secret
#            --camera-token ID (docs/security.md). Both are made on the first
#            run; SURVEILLX_TOKEN / SURVEILLX_CAMERA_SECRET replace them.
#
# Environment:
#   PORT (8080), DASHBOARD_PORT (5000), PG_PORT (5433)
#   SURVEILLX_DB              use an existing database instead of the local one
#   SURVEILLX_VAR_DIR         state folder (default var/): the local cluster,
#                             the dashboard's socket.io client, run.pids
#   SURVEILLX_BUILD_DIR       the build to run (default build/)
#   SURVEILLX_NO_BUILD=1      skip scripts/setup.sh and the build: packages are
#                             installed and SURVEILLX_BUILD_DIR is built (as
#                             under `meson test`)
#   SURVEILLX_LAUNCHER_ARGS   extra launcher options, split on spaces
#                             (e.g. "--ice-address 192.0.2.1 --max-cameras 4")
#   SURVEILLX_SOCKETIO_JS     the dashboard page's socket.io.min.js, instead of
#                             fetching socket.io-client with npm
#
# Stopping: Ctrl-C, SIGTERM (kill, systemd) or SIGHUP stop everything this
# run started: the launcher first with SIGTERM (pipelines get EOS, attendance
# is flushed), then the dashboard, then the local PostgreSQL. A run killed
# outright (SIGKILL) cannot clean up: the next run finds what it left behind
# through var/run.pids and var/pg/data/postmaster.pid, stops it and starts
# afresh. If the launcher or the dashboard dies, the rest is stopped and the
# script exits non-zero.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
build=${SURVEILLX_BUILD_DIR:-build}
case $build in /*) ;; *) build=$top/$build ;; esac
if [ "${SURVEILLX_NO_BUILD:-}" != 1 ]; then
  scripts/setup.sh
  scripts/build.sh "$build"
fi

var=${SURVEILLX_VAR_DIR:-$top/var}
mkdir -p "$var"
var=$(cd "$var" && pwd)
port=${PORT:-8080}
dash_port=${DASHBOARD_PORT:-5000}
pg_port=${PG_PORT:-5433}
read -ra launcher_args <<<"${SURVEILLX_LAUNCHER_ARGS:-}"
faces=${SURVEILLX_TESTDATA:-$top/../shared/testdata}/faces
pgbin=/usr/lib/postgresql/15/bin
data=$var/pg/data
pidfile=$var/run.pids
# Every process this run starts carries the var folder in its environment:
# with the pid and start time in run.pids, that is how a later run knows a
# leftover process is really one of ours before it signals it.
export SURVEILLX_VAR_DIR=$var
export GST_PLUGIN_PATH=$build/plugins/gst SURVEILLX_MODEL_DIR=$top/models

# The launcher listens on the network, so it asks for credentials: made
# once, readable by this user only, passed as files (a command line is
# visible to every user in /proc).
secrets=$var/secrets
mkdir -p "$secrets"
chmod 700 "$secrets"
for f in operator-token camera-secret; do
  if [ ! -s "$secrets/$f" ]; then
    (umask 077 && od -An -N24 -tx1 /dev/urandom | tr -d ' \n' >"$secrets/$f" &&
      echo >>"$secrets/$f")
  fi
done
secret_args=()
[ -n "${SURVEILLX_TOKEN:-}" ] || secret_args+=(--token-file "$secrets/operator-token")
[ -n "${SURVEILLX_CAMERA_SECRET:-}" ] ||
  secret_args+=(--camera-secret-file "$secrets/camera-secret")

# The server runs as postgres (initdb refuses root). Sanitizer preloads are
# for the processes that load the plugin, not for PostgreSQL.
as_postgres() {
  env -u LD_PRELOAD -u ASAN_OPTIONS -u UBSAN_OPTIONS \
    runuser -u postgres -- "$@"
}
# Start time of a live process (clock ticks since boot, /proc/PID/stat field
# 22): with the pid it names one process, even after the pid is reused.
started_at() {
  local stat
  { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
  stat=${stat##*) }
  # shellcheck disable=SC2086  # the fields, split on spaces
  set -- $stat
  [ "$1" != Z ] || return 1
  echo "${20}"
}
alive() { started_at "$1" >/dev/null; }
cmdline_has() { tr '\0' '\n' 2>/dev/null <"/proc/$1/cmdline" | grep -qF -- "$2"; }
environ_has() { tr '\0' '\n' 2>/dev/null <"/proc/$1/environ" | grep -qxF -- "$2"; }
# ROLE PID START (a line of run.pids): still that process, and ours?
ours() {
  [ "$(started_at "$2" || true)" = "$3" ] || return 1
  case $1 in
    script) cmdline_has "$2" run.sh ;;
    launcher) cmdline_has "$2" surveillx-launcher &&
      environ_has "$2" "SURVEILLX_VAR_DIR=$var" ;;
    dashboard) cmdline_has "$2" tools/dashboard/dashboard.py &&
      environ_has "$2" "SURVEILLX_VAR_DIR=$var" ;;
    *) return 1 ;;
  esac
}
record() { echo "$1 $2 $(started_at "$2" || echo gone)" >>"$pidfile"; }
# SIGTERM, up to $2 seconds to exit, then SIGKILL.
stop_process() {
  kill -TERM "$1" 2>/dev/null || return 0
  local i
  for ((i = 0; i < $2 * 10; i++)); do
    alive "$1" || break
    sleep 0.1
  done
  if alive "$1"; then
    echo "run: pid $1 still running after ${2} s: SIGKILL" >&2
    kill -KILL "$1" 2>/dev/null || true
  fi
  wait "$1" 2>/dev/null || true # reaps it when it is our child
}
# The processes of our cluster: the postmaster and its backends all work in
# the data folder.
cluster_pids() {
  local p
  for p in /proc/[0-9]*; do
    [ ! "$p/cwd" -ef "$data" ] || echo "${p#/proc/}"
  done
}
# The postmaster of our cluster, if one runs: the pid postmaster.pid names,
# when that process is a postgres working in $data (not a pid reused by an
# unrelated process after a crash).
postmaster_pid() {
  local pid
  [ -f "$data/postmaster.pid" ] || return 1
  read -r pid <"$data/postmaster.pid" || return 1
  [[ $pid =~ ^[0-9]+$ ]] && alive "$pid" && cmdline_has "$pid" postgres &&
    [ "/proc/$pid/cwd" -ef "$data" ] || return 1
  echo "$pid"
}

launcher_pid='' dashboard_pid='' pg_started_here=0 owns_pidfile=0
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  local rc=$?
  trap '' INT TERM HUP # cleanup is bounded; let it finish
  # The launcher first, while the dashboard and the database still answer:
  # SIGTERM sends EOS through every pipeline and attendance is flushed,
  # bounded by its --eos-timeout (8 s).
  [ -z "$launcher_pid" ] || stop_process "$launcher_pid" 30
  [ -z "$dashboard_pid" ] || stop_process "$dashboard_pid" 10
  # and any child a signal caught before its pid was noted
  local pid
  for pid in $(jobs -p); do stop_process "$pid" 10; done
  # SURVEILLX_DB is exported below for the children, so it cannot tell
  # whether this run started the server: pg_started_here does.
  if [ "$pg_started_here" = 1 ]; then
    as_postgres "$pgbin/pg_ctl" -D "$data" -m fast -w stop >/dev/null 2>&1 || true
  fi
  [ "$owns_pidfile" = 0 ] || rm -f "$pidfile"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# What a previous run killed outright (SIGKILL, OOM) left behind: its
# launcher and dashboard hold the ports; stop them, the launcher first so
# its pipelines still flush to the database it used. A run still alive is
# not a leftover: refuse rather than take its processes away.
leftovers=()
if [ -f "$pidfile" ]; then
  while read -r role pid start; do
    ours "$role" "$pid" "$start" || continue
    if [ "$role" = script ]; then
      if [ "$pid" != $$ ]; then
        echo "run: scripts/run.sh (pid $pid) is already running with $var;" \
          "stop it first (kill $pid)" >&2
        exit 1
      fi
    else
      leftovers+=("$role:$pid")
    fi
  done <"$pidfile"
fi
for what in "${leftovers[@]}"; do
  [ "${what%%:*}" = launcher ] || continue
  echo "run: stopping the launcher a previous run left running (pid ${what#*:})"
  stop_process "${what#*:}" 30
done
for what in "${leftovers[@]}"; do
  [ "${what%%:*}" = dashboard ] || continue
  echo "run: stopping the dashboard a previous run left running (pid ${what#*:})"
  stop_process "${what#*:}" 10
done
owns_pidfile=1
echo "script $$ $(started_at $$)" >"$pidfile"

# PostgreSQL: the cluster belongs to the postgres user; it listens on
# 127.0.0.1 only and trusts local connections (a demo box).
if [ -z "${SURVEILLX_DB:-}" ]; then
  # A server a killed run left running is stopped and started again rather
  # than reused: it may listen on another PG_PORT or socket than this run
  # asks for, and a server this run starts is this run's to stop at exit,
  # like everything else. It costs a second or two.
  if pid=$(postmaster_pid); then
    echo "run: stopping the PostgreSQL a previous run left running (pid $pid)"
    as_postgres "$pgbin/pg_ctl" -D "$data" -m fast -w -t 30 stop >/dev/null ||
      as_postgres "$pgbin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null
  elif [ -f "$data/postmaster.pid" ]; then
    # The postmaster is gone (crash, SIGKILL) and left its postmaster.pid.
    # Its backends notice within a moment and exit: give them that moment.
    # Once no process of the cluster is left the file is stale: remove it
    # (PostgreSQL would start over it with a warning, but refuses if its pid
    # now belongs to another process). If the backends stay, PostgreSQL's
    # own check refuses to start and says why.
    for ((i = 0; i < 100; i++)); do
      [ -n "$(cluster_pids)" ] || break
      sleep 0.1
    done
    if [ -z "$(cluster_pids)" ]; then
      echo "run: the PostgreSQL of a previous run died; removing its stale postmaster.pid"
      rm -f "$data/postmaster.pid" "$var"/pg/sock/.s.PGSQL.*.lock
    fi
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$var/pg/sock"
    chown -R postgres:postgres "$var/pg"
    if ! as_postgres test -x "$var/pg"; then
      echo "run: the postgres user cannot reach $var/pg (a folder above it" \
        "is private); choose another SURVEILLX_VAR_DIR" >&2
      exit 1
    fi
    as_postgres "$pgbin/initdb" -D "$data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  # Set before starting: a signal during the start is handled after it,
  # and the server must then be stopped too.
  pg_started_here=1
  as_postgres "$pgbin/pg_ctl" -D "$data" -l "$var/pg/log" -w \
    -o "-p $pg_port -k $var/pg/sock -c listen_addresses=127.0.0.1" start >/dev/null
  export SURVEILLX_DB="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres"
fi
enroll=$build/tools/surveillx-enroll
if [ -z "$("$enroll" --db "$SURVEILLX_DB" list)" ] && [ -d "$faces/identities" ]; then
  echo "run: enrolling the demo gallery (one photo of each of 8 people)"
  for photo in "$faces"/identities/*1.png; do
    name=$(basename "$photo" 1.png)
    "$enroll" --db "$SURVEILLX_DB" add --id "$name" --name "${name^}" \
      --consent "demo gallery: test photos, internal testing only" \
      "$photo" >/dev/null
  done
fi

# The dashboard's page needs the Socket.IO browser client (npm, MIT).
js=${SURVEILLX_SOCKETIO_JS:-$var/socket.io-client/package/dist/socket.io.min.js}
if [ ! -f "$js" ]; then
  mkdir -p "$var/socket.io-client"
  (cd "$var/socket.io-client" && npm pack --silent socket.io-client@4.8.1 >/dev/null &&
    tar -xzf socket.io-client-4.8.1.tgz package/dist/socket.io.min.js)
fi
/usr/bin/python3 tools/dashboard/dashboard.py --port "$dash_port" --db "$SURVEILLX_DB" \
  --socketio-js "$js" &
dashboard_pid=$!
record dashboard "$dashboard_pid"

export SURVEILLX_GALLERY="$SURVEILLX_DB"
export SURVEILLX_SIO_URL="http://127.0.0.1:$dash_port"
"$build/launcher/surveillx-launcher" --port "$port" "${secret_args[@]}" \
  "${launcher_args[@]}" pipelines/classroom.pipe &
launcher_pid=$!
record launcher "$launcher_pid"
echo "run: dashboard http://127.0.0.1:$dash_port/ — cameras POST http://<host>:$port/offer" \
  "with the token in $secrets/operator-token (or a camera token: docs/security.md)"

# Either one exiting on its own ends the job: the EXIT trap stops the other
# and the database. A signal interrupts the wait and goes the same way.
status=0
wait -n -p ended "$launcher_pid" "$dashboard_pid" || status=$?
if [ "${ended:-}" = "$launcher_pid" ]; then
  what=launcher launcher_pid=''
else
  what=dashboard dashboard_pid=''
fi
echo "run: the $what exited by itself (status $status); stopping the rest" >&2
exit $((status == 0 ? 1 : status))
