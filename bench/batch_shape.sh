#!/usr/bin/env bash
# bench/batch_shape.sh: how should a retention batch be shaped?  Deletes the expired
# rows of a synthetic table (ROWS rows, default 2,000,000; an index on the anchor)
# with pg_retention and with the hand-written alternatives, alternating, REPEAT times
# (default 3), and prints the median time, rows/s and WAL bytes per deleted row.
#   bench/batch_shape.sh [ROWS] [REPEAT]
# Scenarios: "bulk" (half the table expired, spread over every page) and "trickle"
# (1 % expired, the steady state of a policy run every day).
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/scripts/lib.sh"
rows=${1:-2000000}; repeat=${2:-3}
rt_ensure_packages "${RT_PACKAGES[@]}"
rt_build_install "$repo"
rt_bench_cluster "shared_buffers = '1GB'" "max_wal_size = '8GB'" "checkpoint_timeout = '1h'"
q() { rt_as_postgres "$bindir/psql" -h "$cluster" -p "$port" -d bench -X -q -t -A -v ON_ERROR_STOP=1 -c "$1"; }
rt_as_postgres "$bindir/createdb" -h "$cluster" -p "$port" bench
q "CREATE EXTENSION pg_retention"
q "CREATE TABLE tmpl AS SELECT g AS id, timestamptz '2026-01-01' - (g % 1000) * interval '1 day' AS at,
   md5(g::text) AS payload FROM generate_series(1, $rows) g"

# mk: a fresh copy of the template, indexed, vacuumed, checkpointed
mk() { q "DROP TABLE IF EXISTS big"; q "CREATE TABLE big AS SELECT * FROM tmpl";
       q "ALTER TABLE big ADD PRIMARY KEY (id)"; q "CREATE INDEX ON big (at)";
       q "VACUUM ANALYZE big"; q "CHECKPOINT"; }
# measure NAME SQL: runs SQL on a fresh table, records ms, deleted rows and WAL bytes
declare -A ms wal del
measure() {
  local name=$1 sql=$2 before lsn0 lsn1 t0 t1 after
  mk; before=$(q "SELECT count(*) FROM big")
  lsn0=$(q "SELECT pg_current_wal_insert_lsn()"); t0=$(date +%s%3N)
  q "$sql" >/dev/null 2>&1
  t1=$(date +%s%3N); lsn1=$(q "SELECT pg_current_wal_insert_lsn()")
  after=$(q "SELECT count(*) FROM big")
  ms[$name]+="$((t1 - t0)) "; del[$name]=$((before - after))
  wal[$name]+="$(q "SELECT pg_wal_lsn_diff('$lsn1', '$lsn0')::bigint") "
}
median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for scenario in bulk trickle; do
  if [[ $scenario == bulk ]]; then keep='500 days'; else keep='990 days'; fi
  CUT="timestamptz '2026-01-01' - interval '$keep'"
  hand="DO \$\$ DECLARE n int; BEGIN LOOP DELETE FROM big WHERE ctid = ANY(ARRAY(SELECT ctid FROM big WHERE at < $CUT LIMIT 10000)) AND at < $CUT; GET DIAGNOSTICS n = ROW_COUNT; COMMIT; EXIT WHEN n = 0; END LOOP; END \$\$"
  for i in $(seq 1 "$repeat"); do
    measure "$scenario single DELETE" "DELETE FROM big WHERE at < $CUT"
    measure "$scenario hand loop, 10000" "$hand"
    for bs in 1000 10000 50000; do
      measure "$scenario pg_retention, $bs" "SELECT retention.drop_policy(policy_id) FROM retention.policies;
        SELECT retention.add_policy('big', '$keep', 'at', batch_size => $bs);
        CALL retention.run('big', '2026-01-01')"
    done
  done
done

echo "| scenario | method, batch | rows deleted | median ms | rows/s | WAL bytes/row |"
echo "|---|---|---:|---:|---:|---:|"
for scenario in bulk trickle; do
  for m in "single DELETE" "hand loop, 10000" "pg_retention, 1000" "pg_retention, 10000" "pg_retention, 50000"; do
    k="$scenario $m"; t=$(median "${ms[$k]}"); w=$(median "${wal[$k]}")
    awk -v s="$scenario" -v m="$m" -v d="${del[$k]}" -v t="$t" -v w="$w" \
      'BEGIN {printf "| %s | %s | %d | %d | %.0f | %.1f |\n", s, m, d, t, d / (t / 1000.0), w / d}'
  done
done
echo
echo "$rows rows, median of $repeat, $("$(rt_pg_config)" --version), $(nproc) cores; bench/batch_shape.sh $rows $repeat"
