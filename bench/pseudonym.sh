#!/usr/bin/env bash
# bench/pseudonym.sh: per-row cost of retention.pseudonym() against md5() and
# pgcrypto's encode(hmac(..., 'sha256'), 'hex') over the same values, on a throwaway
# cluster.  Prints one table: median milliseconds over the rounds, microseconds per row
# (gross, and net of a plain count(v) scan), and the ratio to pseudonym.
#
#   bench/pseudonym.sh [--rows N] [--rounds R] [--no-build]
#   (PORT=NNNNN picks the cluster's port; default: a free one)
#
# Each round evaluates every expression once with SELECT count(expr) FROM bench, in a
# rotating order so that no expression always runs first (cache warm-up) or last;
# parallel query and JIT are off, so each figure is one backend's per-row cost.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/scripts/lib.sh"

rows=1000000; rounds=5; build=1
while (($#)); do
  case $1 in
    --rows) rows=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

rt_ensure_packages "${RT_PACKAGES[@]}"
((build)) && rt_build_install "$repo"
rt_bench_cluster "jit = off" "max_parallel_workers_per_gather = 0" "retention.key_file = 'bench.key'"
psql_() { rt_as_postgres "$bindir/psql" -h "$cluster" -p "$port" -X -q -v ON_ERROR_STOP=1 "$@"; }

echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}'), libsodium $(dpkg-query -W -f '${Version}' libsodium23 2>/dev/null || echo '?'), $rows rows, $rounds rounds, $(nproc) cores"
psql_ -d postgres <<SQL
CREATE EXTENSION pg_retention;
CREATE EXTENSION pgcrypto;
SELECT retention.create_key() IS NOT NULL AS key_created \gset
CREATE TABLE bench AS
  SELECT 'customer' || i || '@example.com' AS v FROM generate_series(1, $rows) AS i;
VACUUM ANALYZE bench;

CREATE TABLE timings (round int, expr text, ms float8);
CREATE FUNCTION time_ms(sql text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz;
BEGIN
  t0 := clock_timestamp();
  EXECUTE sql;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;

DO \$\$
DECLARE
  exprs text[] := ARRAY['v', 'md5(v)', 'encode(hmac(v, ''k3y'', ''sha256''), ''hex'')', 'retention.pseudonym(v)'];
  n int := array_length(exprs, 1);
BEGIN
  -- one untimed pass of each, so that every round finds the same caches
  FOR i IN 1..n LOOP PERFORM time_ms('SELECT count(' || exprs[i] || ') FROM bench'); END LOOP;
  FOR r IN 1..$rounds LOOP
    FOR k IN 0..n - 1 LOOP
      INSERT INTO timings
        SELECT r, exprs[1 + (k + r) % n], time_ms('SELECT count(' || exprs[1 + (k + r) % n] || ') FROM bench');
    END LOOP;
  END LOOP;
END \$\$;

\pset footer off
WITH m AS (
  SELECT expr, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM timings GROUP BY expr),
b AS (SELECT ms FROM m WHERE expr = 'v'),
p AS (SELECT ms FROM m WHERE expr = 'retention.pseudonym(v)')
SELECT CASE m.expr WHEN 'v' THEN 'count(v) (scan only)' ELSE m.expr END AS expression,
       round(m.ms::numeric, 1) AS median_ms,
       round((m.ms * 1000 / $rows)::numeric, 3) AS us_per_row,
       round(((m.ms - b.ms) * 1000 / $rows)::numeric, 3) AS net_us_per_row,
       CASE WHEN m.expr = 'v' THEN NULL
            ELSE round(((m.ms - b.ms) / nullif(p.ms - b.ms, 0))::numeric, 2) END AS net_vs_pseudonym,
       CASE WHEN m.expr = 'v' THEN NULL
            ELSE round((m.ms / p.ms)::numeric, 2) END AS gross_vs_pseudonym
  FROM m, b, p
 ORDER BY m.ms;
SQL
