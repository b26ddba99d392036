#!/bin/bash
# bench/scheduler.sh: measures the scheduler and prints a table.
#   1. latency: time from a row becoming due (its anchor crossing the cutoff) to the
#      row being gone, with no manual call, for retention.naptime = 1s and the default 60s;
#   2. idle cost: CPU time of the database worker and of the launcher over 60 s, with
#      1,000 policies whose tables have nothing expired, for the same two naptimes.
# Run as root from the repository root, after `make install` into the PostgreSQL of
# PG_CONFIG (default: pg_config on PATH):  bench/scheduler.sh [PG_CONFIG [PART...]]
# where PART is latency1, latency60, idle1 or idle60 (default: all four).
# It starts throw-away clusters under /tmp/sched-bench on port 56090 and stops them.
set -eu
PGC=${1:-pg_config}
shift || true
PARTS=${*:-latency1 latency60 idle1 idle60}
BIN=$($PGC --bindir)
ROOT=/tmp/sched-bench
PORT=56090
CLK=$(getconf CLK_TCK)

q() { runuser -u postgres -- "$BIN/psql" -h "$ROOT" -p "$PORT" -d "$1" -X -q -t -A -v ON_ERROR_STOP=1 -c "$2"; }

start_cluster() {
	stop_cluster
	rm -rf "$ROOT"; mkdir -p "$ROOT"; chown postgres "$ROOT"
	runuser -u postgres -- "$BIN/initdb" -D "$ROOT/data" -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
	cat >>"$ROOT/data/postgresql.conf" <<-EOF
	port = $PORT
	unix_socket_directories = '$ROOT'
	listen_addresses = ''
	shared_preload_libraries = 'pg_retention'
	timezone = 'UTC'
	retention.naptime = '$1'
	EOF
	runuser -u postgres -- "$BIN/pg_ctl" -D "$ROOT/data" -l "$ROOT/server.log" -w start >/dev/null
}

stop_cluster() {
	[[ -f $ROOT/data/postmaster.pid ]] && runuser -u postgres -- "$BIN/pg_ctl" -D "$ROOT/data" -m fast stop >/dev/null
	return 0
}
trap stop_cluster EXIT

# latency NAPTIME SPREAD: rows falling due at t0+5s, t0+5s+SPREAD/8, ... ; prints min/median/max
latency() {
	local naptime=$1 spread=$2
	start_cluster "$naptime"
	q postgres "CREATE DATABASE lat" >/dev/null
	q lat "CREATE EXTENSION pg_retention;
	       CREATE TABLE due(id int PRIMARY KEY, at timestamptz NOT NULL);
	       SELECT retention.add_policy('due', interval '1 hour', 'at');" >/dev/null 2>&1
	sleep 2
	# row k falls due at t0 + 5 + k * spread / 8 seconds
	local t0
	t0=$(q lat "SELECT extract(epoch FROM now())")
	q lat "INSERT INTO due SELECT k, to_timestamp($t0) - interval '1 hour' + (5 + k * $spread / 8.0) * interval '1 second'
	       FROM generate_series(0, 8) k" >/dev/null
	declare -A gone=()
	local deadline=$(( $(date +%s) + spread + 5 + 2 * ${naptime%s} + 10 ))
	while (( ${#gone[@]} < 9 && $(date +%s) < deadline )); do
		local left now
		now=$(date +%s.%N)
		left=" $(q lat "SELECT string_agg(id::text, ' ') FROM due") "
		for k in 0 1 2 3 4 5 6 7 8; do
			[[ -z ${gone[$k]:-} && $left != *" $k "* ]] && gone[$k]=$(echo "$now - ($t0 + 5 + $k * $spread / 8)" | bc -l)
		done
		sleep 0.1
	done
	printf '%s\n' "${gone[@]}" | sort -n | awk -v n="$naptime" '
		{ v[NR] = $1 } END {
			if (NR < 9) { printf "| latency, naptime %-4s | %d of 9 rows purged in time |\n", n, NR; exit }
			printf "| latency, naptime %-4s | min %.1f s, median %.1f s, max %.1f s (9 rows) |\n", n, v[1], v[5], v[9] }'
	stop_cluster
}

# cpu_seconds PID: user + system CPU seconds of a process so far
cpu_seconds() { awk -v clk="$CLK" '{ printf "%.2f", ($14 + $15) / clk }' "/proc/$1/stat"; }

# idle NAPTIME: CPU of the worker and the launcher over 60 s with 1,000 idle policies
idle() {
	local naptime=$1
	start_cluster "$naptime"
	q postgres "CREATE DATABASE idle" >/dev/null
	q idle "CREATE EXTENSION pg_retention;
	        DO \$\$BEGIN
	          FOR i IN 1..1000 LOOP
	            EXECUTE format('CREATE TABLE t%s(id int PRIMARY KEY, at timestamptz NOT NULL)', i);
	            EXECUTE format('CREATE INDEX ON t%s(at)', i);
	            EXECUTE format('INSERT INTO t%s SELECT g, now() FROM generate_series(1, 10) g', i);
	            PERFORM retention.add_policy(format('t%s', i)::regclass, interval '30 days', 'at');
	          END LOOP;
	        END\$\$;" >/dev/null 2>&1
	# let the first pass (every policy visited once) finish
	sleep $(( ${naptime%s} + 5 ))
	local worker launcher w0 l0 w1 l1
	worker=$(q postgres "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_retention worker' AND datname = 'idle'")
	launcher=$(q postgres "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_retention launcher'")
	w0=$(cpu_seconds "$worker"); l0=$(cpu_seconds "$launcher")
	sleep 60
	w1=$(cpu_seconds "$worker"); l1=$(cpu_seconds "$launcher")
	local runs
	runs=$(q idle "SELECT count(*) FROM retention.runs")
	printf '| idle CPU, naptime %-3s | worker %.2f s, launcher %.2f s per 60 s (%.2f %% of a core); %s runs recorded |\n' \
		"$naptime" "$(echo "$w1 - $w0" | bc)" "$(echo "$l1 - $l0" | bc)" \
		"$(echo "($w1 - $w0 + $l1 - $l0) / 60 * 100" | bc -l)" "$runs"
	stop_cluster
}

echo "| measure | result |"
echo "|---|---|"
# due times 11/8 s apart, so that they fall at different points of a 1 s naptime
[[ " $PARTS " == *" latency1 "* ]] && latency 1s 11
[[ " $PARTS " == *" latency60 "* ]] && latency 60s 120
[[ " $PARTS " == *" idle1 "* ]] && idle 1s
[[ " $PARTS " == *" idle60 "* ]] && idle 60s
exit 0
