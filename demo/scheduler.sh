#!/bin/bash
# demo/scheduler.sh: the scheduler doing the work by itself.
# Starts a throw-away cluster with pg_retention preloaded (naptime 2 s), loads the demo
# shop, declares two policies, and then only watches: nobody calls retention.run(), yet
# the expired rows go and retention.runs fills with the worker's runs.
# Run as root from the repository root after `make install` into the PostgreSQL of
# PG_CONFIG (default: pg_config on PATH):  demo/scheduler.sh [PG_CONFIG]
set -eu
PGC=${1:-pg_config}
BIN=$($PGC --bindir)
ROOT=/tmp/retention-demo-scheduler
PORT=${PORT:-56095}
HERE=$(cd "$(dirname "$0")" && pwd)

q() { runuser -u postgres -- "$BIN/psql" -h "$ROOT" -p "$PORT" -d shop -X -v ON_ERROR_STOP=1 "$@"; }
stop() { [[ -f $ROOT/data/postmaster.pid ]] && runuser -u postgres -- "$BIN/pg_ctl" -D "$ROOT/data" -m fast stop >/dev/null; return 0; }
trap stop EXIT

stop
rm -rf "$ROOT"; mkdir -p "$ROOT"; chown postgres "$ROOT"
runuser -u postgres -- "$BIN/initdb" -D "$ROOT/data" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
cat >>"$ROOT/data/postgresql.conf" <<EOF
port = $PORT
unix_socket_directories = '$ROOT'
listen_addresses = ''
shared_preload_libraries = 'pg_retention'
timezone = 'UTC'
retention.naptime = '2s'
EOF
runuser -u postgres -- "$BIN/pg_ctl" -D "$ROOT/data" -l "$ROOT/server.log" -w start >/dev/null
runuser -u postgres -- "$BIN/createdb" -h "$ROOT" -p "$PORT" shop

echo "== loading the demo shop (scale 0.2)"
q -q -v seed=42 -v scale=0.2 -f "$HERE/generate_dataset.sql" >/dev/null
q -q -c "CREATE EXTENSION pg_retention"

echo "== the scheduler runs here:"
q -c "SELECT backend_type, datname FROM pg_stat_activity WHERE backend_type LIKE 'pg_retention%' ORDER BY 1"

echo "== declaring policies: access log kept 1 year; orders kept 3 years (those with payments stay: ON DELETE RESTRICT)"
q -q -c "SELECT retention.add_policy('shop.access_log', interval '1 year', 'at', basis => 'security logging')" \
      -c "SELECT retention.add_policy('shop.orders', interval '3 years', 'ordered_at', basis => 'consumer law')" 2>/dev/null
q -c "SELECT policy_id, tbl, keep, after, basis FROM retention.policies"
q -c "SELECT tbl, rows_overdue, oldest_overdue, next_run FROM retention.status"

echo "== now only watching (no CALL retention.run):"
for i in 1 2 3 4 5; do
	q -A -t -c "SELECT format('%s  %s: %s rows overdue', to_char(clock_timestamp(), 'HH24:MI:SS'), tbl, rows_overdue) FROM retention.status ORDER BY tbl::text"
	sleep 2
done
q -c "SELECT run_id, tbl, rows, batches, status, trigger, finished_at - started_at AS took FROM retention.runs ORDER BY run_id"
q -c "SELECT tbl, rows_overdue, last_status, last_success, next_run FROM retention.status"
