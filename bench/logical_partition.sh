#!/usr/bin/env bash
# bench/logical_partition.sh: what a partition removed whole costs when its table is
# published (docs/operations.md#logical-replication-and-cdc), on a throwaway cluster at
# wal_level logical with a logical slot (test_decoding) that keeps the WAL:
#  1. not published: DETACH CONCURRENTLY + DROP (nothing reaches a subscriber);
#  2. published as itself (FOR TABLE): TRUNCATE, then DETACH CONCURRENTLY + DROP;
#  3. published through its root (publish_via_partition_root): DELETE by batches.
# Each is CALL retention.run() on its own partitioned table of two monthly partitions, the
# first (--rows rows) wholly before the cutoff. Prints one table: milliseconds of the run,
# WAL bytes it wrote (what the slot and every subscriber must read), and the changes the
# slot decodes from it (what a subscriber must apply).
#
#   bench/logical_partition.sh [--rows N] [--no-build]
#   (PORT=NNNNN picks the cluster's port; default: a free one)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/scripts/lib.sh"

rows=1000000; build=1
while (($#)); do
  case $1 in
    --rows) rows=${2:?}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,15p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

rt_ensure_packages "${RT_PACKAGES[@]}"
((build)) && rt_build_install "$repo"
rt_bench_cluster "wal_level = logical" "jit = off" "max_parallel_workers_per_gather = 0" "max_wal_size = '4GB'"
psql_() { rt_as_postgres "$bindir/psql" -h "$cluster" -p "$port" -X -q -v ON_ERROR_STOP=1 "$@"; }

echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}'), $rows rows in the expired partition, $(nproc) cores"
psql_ -d postgres <<SQL
SET client_min_messages = warning;
CREATE EXTENSION pg_retention;
CREATE TABLE results (how text, ms float8, wal_bytes numeric, decoded bigint);
DO \$\$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['t_plain', 't_leaf', 't_root'] LOOP
    EXECUTE format('CREATE TABLE %I (id bigint, at timestamptz NOT NULL, payload text, PRIMARY KEY (id, at)) PARTITION BY RANGE (at)', t);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (''2024-01-01'') TO (''2024-02-01'')', t || '_01', t);
    EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES FROM (''2024-02-01'') TO (''2024-03-01'')', t || '_02', t);
    EXECUTE format('INSERT INTO %I SELECT g, ''2024-01-01''::timestamptz + (g %% 2600000) * interval ''1 second'', ''payload '' || g'
                   ' FROM generate_series(1, $rows) g', t);
    EXECUTE format('INSERT INTO %I VALUES (0, ''2024-02-20'', ''kept'')', t);
    PERFORM retention.add_policy(t::regclass, '30 days', 'at');
  END LOOP;
END \$\$;
CREATE PUBLICATION p_leaf FOR TABLE t_leaf;
CREATE PUBLICATION p_root FOR TABLE t_root WITH (publish_via_partition_root = true);
VACUUM ANALYZE;
CHECKPOINT;
SELECT pg_create_logical_replication_slot('bench', 'test_decoding') IS NOT NULL AS slot \gset
SQL

for how in plain leaf root; do
  before=$(psql_ -d postgres -Atc "SELECT pg_current_wal_insert_lsn()")
  start=$(date +%s%N)
  psql_ -d postgres -c "SET client_min_messages = warning" -c "CALL retention.run('t_$how', '2024-03-10 00:00+00')"
  ms=$(( ($(date +%s%N) - start) / 1000000 ))
  psql_ -d postgres -c "INSERT INTO results SELECT '$how', $ms,
      pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$before'),
      (SELECT count(*) FROM pg_logical_slot_get_changes('bench', NULL, NULL)
        WHERE data LIKE 'table public.t\\_$how%')"
done

psql_ -d postgres -P footer=off <<SQL
SELECT CASE how WHEN 'plain' THEN 'not published: DETACH CONCURRENTLY + DROP'
                WHEN 'leaf' THEN 'published as itself: TRUNCATE + DETACH CONCURRENTLY + DROP'
                ELSE 'published through its root: DELETE by batches' END AS "partition removed",
       ms AS "run ms", pg_size_pretty(wal_bytes) AS "WAL written", decoded AS "changes decoded",
       (SELECT r.rows || ' rows, ' || r.partitions || ' partition' FROM retention.runs r
         WHERE r.tbl = 'public.t_' || how) AS "run record"
  FROM results ORDER BY ms;
SQL
