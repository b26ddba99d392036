#!/usr/bin/env bash
# bench/citus.sh: pg_retention on a Citus distributed table against the hand-written way,
# batched DELETEs by ranges of time, doing the same work in the same run
# (docs/operations.md#citus, docs/benchmarks.md).
#
#   CITUS_SRC=/path/to/citus bench/citus.sh [ROWS] [REPEAT]
#   CITUS_DIR=/sockets CITUS_PORT=5432 bench/citus.sh [ROWS] [REPEAT]   # a cluster that runs already
#
# A distributed table of ROWS rows (default 1,000,000; 32 shards, an index on the anchor)
# whose anchor spreads evenly over 1000 days, half of them expired, is made afresh before each
# measurement; then either CALL retention.run() with batches of BATCH rows (default 10000)
# deletes the expired half, or a DO block does what one would write by hand: the oldest expired
# time and the count of expired rows, then DELETE ... WHERE at >= lo AND at < lo + step for
# time ranges sized to BATCH rows, committing after each.  The two alternate, REPEAT times
# (default 3); the script prints the median time and rows/s of each, and their ratio.
# Without CITUS_DIR it builds Citus from CITUS_SRC and starts a coordinator and two workers
# (scripts/citus-lib.sh), stopped and removed at the end.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/scripts/lib.sh"
source "$repo/scripts/citus-lib.sh"
rows=${1:-1000000}; repeat=${2:-3}; batch=${BATCH:-10000}

if [[ -n ${CITUS_DIR:-} && -n ${CITUS_PORT:-} ]]; then
  CITUS_BINDIR=$("$(rt_pg_config)" --bindir)
else
  [[ -n ${CITUS_SRC:-} ]] || { echo "set CITUS_SRC (a Citus source tree) or CITUS_DIR and CITUS_PORT (a running cluster)" >&2; exit 2; }
  rt_ensure_packages "${RT_PACKAGES[@]}" "${RT_CITUS_PACKAGES[@]}"
  citus_build_install "$CITUS_SRC" "${CITUS_BUILD_DIR:-/tmp/pg_retention_citus_build}"
  rt_build_install "$repo"
  work=$(mktemp -d /tmp/pg_retention_bench_citus.XXXXXX)
  [[ $(id -u) == 0 ]] && chown postgres "$work"
  trap 'citus_cluster_stop "$work/cluster"; rm -rf "$work"' EXIT
  citus_cluster_start "$work/cluster" "${PORT:-54600}" "shared_buffers = '512MB'" "max_wal_size = '8GB'" \
    "checkpoint_timeout = '1h'"
fi
db=bench_citus
for n in 0 1 2; do citus_psql "$n" postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null; done
citus_database "$db"
q() { citus_psql 0 "$db" -t -A -c "$1"; }

q "CREATE TABLE tmpl (tenant int NOT NULL, id bigint NOT NULL, at timestamptz NOT NULL, payload text)"
q "SELECT create_distributed_table('tmpl', 'tenant', shard_count => 32)" >/dev/null
q "INSERT INTO tmpl SELECT g % 997, g, timestamptz '2026-01-01' - (g % 1000) * interval '1 day' - (g % 86400) * interval '1 second',
   md5(g::text) FROM generate_series(1, $rows) g"
keep='500 days'
cutoff="timestamptz '2026-01-01' - interval '$keep'"

# mk: a fresh distributed copy of the template, indexed, analyzed, checkpointed on every node
mk() {
  q "DROP TABLE IF EXISTS big"
  q "CREATE TABLE big (tenant int NOT NULL, id bigint NOT NULL, at timestamptz NOT NULL, payload text, PRIMARY KEY (tenant, id))"
  q "SELECT create_distributed_table('big', 'tenant', colocate_with => 'tmpl')" >/dev/null
  q "INSERT INTO big SELECT * FROM tmpl"
  q "CREATE INDEX ON big (at)"
  q "ANALYZE big"
  q "SELECT run_command_on_all_nodes('CHECKPOINT')" >/dev/null
}
hand="DO \$\$
DECLARE
  cutoff timestamptz := $cutoff;
  lo timestamptz; due bigint; step interval; hi timestamptz;
BEGIN
  SELECT min(at), count(*) INTO lo, due FROM big WHERE at < cutoff;
  IF due = 0 THEN RETURN; END IF;
  step := (cutoff - lo) * ($batch::float8 / due);
  WHILE lo < cutoff LOOP
    hi := least(lo + step, cutoff);
    -- literals, as a script would send them: each DELETE planned for its own range
    EXECUTE format('DELETE FROM big WHERE at >= %L AND at < %L', lo, hi);
    lo := hi;
    COMMIT;
  END LOOP;
END \$\$"
engine="SET retention.batch_size = $batch; CALL retention.run('big', '2026-01-01')"

declare -A ms del
measure() {
  local name=$1 sql=$2 before after t0 t1
  mk
  [[ $name == engine ]] && q "SELECT retention.add_policy('big', '$keep', 'at')" >/dev/null
  before=$(q "SELECT count(*) FROM big")
  t0=$(date +%s%3N)
  citus_psql 0 "$db" -c "$sql" >/dev/null 2>&1
  t1=$(date +%s%3N)
  after=$(q "SELECT count(*) FROM big")
  if [[ $(q "SELECT count(*) FROM big WHERE at < $cutoff") != 0 ]]; then
    echo "$name left expired rows" >&2; exit 1
  fi
  ms[$name]+="$((t1 - t0)) "; del[$name]=$((before - after))
}
median() { printf '%s\n' $1 | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

for i in $(seq 1 "$repeat"); do
  measure "hand-written time ranges" "$hand"
  measure engine "$engine"
  [[ $(q "SELECT status FROM retention.runs ORDER BY run_id DESC LIMIT 1") == success ]] ||
    { echo "the engine's run did not succeed" >&2; exit 1; }
done

echo "pg_retention on Citus: $rows rows, 32 shards on 2 workers, $(q "SELECT count(*) FROM tmpl WHERE at < $cutoff") expired, batches of $batch rows, median of $repeat"
echo "| method | rows deleted | median ms | rows/s |"
echo "|---|---:|---:|---:|"
for m in "hand-written time ranges" engine; do
  t=$(median "${ms[$m]}")
  awk -v m="$m" -v d="${del[$m]}" -v t="$t" 'BEGIN { printf "| %s | %d | %d | %d |\n", m, d, t, d * 1000 / t }'
done
th=$(median "${ms["hand-written time ranges"]}"); te=$(median "${ms[engine]}")
awk -v th="$th" -v te="$te" 'BEGIN { printf "engine / hand-written (rows/s): %.2f\n", th / te }'
