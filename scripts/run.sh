#!/usr/bin/env bash
# The main job: surveillx-launcher with pipelines/classroom.pipe, a local
# PostgreSQL (project-local cluster in var/pg, schema applied, a demo
# gallery enrolled the first time) and a local dashboard page
# (tools/dashboard, the same Socket.IO contract as the SurveillX Flask app).
#
#   scripts/run.sh            then open http://127.0.0.1:5000/
#   cameras: POST http://<this host>:8080/offer  (aiortc / the Windows client)
#
# Environment: PORT (8080), DASHBOARD_PORT (5000), PG_PORT (5433),
# SURVEILLX_DB to use an existing database instead of the local one.
# Ctrl-C stops everything (pipelines get EOS first, attendance is flushed).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/setup.sh
scripts/build.sh build

var=$top/var
port=${PORT:-8080}
dash_port=${DASHBOARD_PORT:-5000}
pg_port=${PG_PORT:-5433}
faces=${SURVEILLX_TESTDATA:-$top/../shared/testdata}/faces
mkdir -p "$var"
export GST_PLUGIN_PATH=$top/build/plugins/gst SURVEILLX_MODEL_DIR=$top/models
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -z "${SURVEILLX_DB:-}" ] && [ -f "$var/pg/data/postmaster.pid" ]; then
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl -D "$var/pg/data" -m fast stop >/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

# PostgreSQL: initdb refuses root, so the cluster belongs to the postgres user;
# it listens on 127.0.0.1 only and trusts local connections (a demo box).
if [ -z "${SURVEILLX_DB:-}" ]; then
  pgbin=/usr/lib/postgresql/15/bin
  if [ ! -f "$var/pg/data/PG_VERSION" ]; then
    mkdir -p "$var/pg/sock"
    chown -R postgres:postgres "$var/pg"
    runuser -u postgres -- "$pgbin/initdb" -D "$var/pg/data" -U postgres --auth=trust -E UTF8 >/dev/null
  fi
  runuser -u postgres -- "$pgbin/pg_ctl" -D "$var/pg/data" -l "$var/pg/log" -w \
    -o "-p $pg_port -k $var/pg/sock -c listen_addresses=127.0.0.1" start >/dev/null
  export SURVEILLX_DB="host=127.0.0.1 port=$pg_port user=postgres dbname=postgres"
fi
enroll=build/tools/surveillx-enroll
if [ -z "$("$enroll" --db "$SURVEILLX_DB" list)" ] && [ -d "$faces/identities" ]; then
  echo "run: enrolling the demo gallery (one photo of each of 8 people)"
  for photo in "$faces"/identities/*1.png; do
    name=$(basename "$photo" 1.png)
    "$enroll" --db "$SURVEILLX_DB" add --id "$name" --name "${name^}" "$photo" >/dev/null
  done
fi

# The dashboard's page needs the Socket.IO browser client (npm, MIT).
js=$var/socket.io-client/package/dist/socket.io.min.js
if [ ! -f "$js" ]; then
  mkdir -p "$var/socket.io-client"
  (cd "$var/socket.io-client" && npm pack --silent socket.io-client@4.8.1 >/dev/null &&
   tar -xzf socket.io-client-4.8.1.tgz package/dist/socket.io.min.js)
fi
/usr/bin/python3 tools/dashboard/dashboard.py --port "$dash_port" --db "$SURVEILLX_DB" \
  --socketio-js "$js" &
pids+=($!)

export SURVEILLX_GALLERY="$SURVEILLX_DB"
export SURVEILLX_SIO_URL="http://127.0.0.1:$dash_port"
build/launcher/surveillx-launcher --port "$port" pipelines/classroom.pipe &
pids+=($!)
echo "run: dashboard http://127.0.0.1:$dash_port/ — cameras POST http://<host>:$port/offer"
wait -n "${pids[@]}"
