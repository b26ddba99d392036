#!/usr/bin/env bash
# bench/anonymize.sh: does the cost of an anonymize run grow with the newly expired
# rows or with the history of rows anonymized before?  On a throwaway cluster, for each
# history size and index choice, a table with one row per minute (e-mail and phone
# tagged) is anonymized up to a day, then timed: a run that finds one more day of expired
# rows (1440), a rerun with nothing to do, and a run after one late row arrived with an
# old anchor.  Prints one table of run durations from retention.runs (milliseconds).
#
#   bench/anonymize.sh [--sizes "100000 400000"] [--no-build]
#   (PORT=NNNNN picks the cluster's port; default: a free one)
#
# Index choices: "anchor" is a plain btree index on the anchor (runs walk every expired
# row, anonymized or not); "advised" is the partial index of retention.index_advice(),
# which holds only the rows still to anonymize.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/scripts/lib.sh"

sizes="100000 400000"; build=1
while (($#)); do
  case $1 in
    --sizes) sizes=${2:?}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

rt_ensure_packages "${RT_PACKAGES[@]}"
((build)) && rt_build_install "$repo"
rt_bench_cluster "jit = off"
psql_() { rt_as_postgres "$bindir/psql" -h "$cluster" -p "$port" -X -q -v ON_ERROR_STOP=1 "$@"; }

echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}'), $(nproc) cores, history sizes: $sizes"
psql_ -d postgres -c "CREATE EXTENSION pg_retention" \
  -c "CREATE TABLE results (history int, index text, step text, rows bigint, ms numeric)"
for size in $sizes; do
  for index in anchor advised; do
    # the history: $size rows, one a minute; a run as of the last one anonymizes all but a day
    psql_ -d postgres -v size="$size" -v index="$index" <<'SQL' >/dev/null
SET client_min_messages = warning;
DROP TABLE IF EXISTS big;
SELECT retention.drop_policy(policy_id) FROM retention.policies;
CREATE TABLE big (id bigint PRIMARY KEY, email text, phone text, seen timestamptz NOT NULL);
INSERT INTO big SELECT i, 'user' || i || '@example.com', '138' || lpad(i::text, 8, '0'),
                       timestamptz '2020-01-01 00:00+00' + i * interval '1 minute'
  FROM generate_series(1, :size + 3 * 1440) AS i;
SELECT retention.tag('big', 'email', 'email');
SELECT retention.tag('big', 'phone', 'phone');
SELECT retention.add_policy('big', interval '1 day', 'seen', 'anonymize') AS pid \gset
SELECT CASE :'index' WHEN 'advised' THEN retention.index_advice(:pid)
                     ELSE 'CREATE INDEX ON big (seen)' END \gexec
VACUUM ANALYZE big;
SELECT timestamptz '2020-01-01 00:00+00' + (:size + 1440) * interval '1 minute' AS t0 \gset
CALL retention.run('big', :'t0');
VACUUM ANALYZE big;
-- one more day expires
CALL retention.run('big', timestamptz :'t0' + interval '1 day');
-- nothing new
CALL retention.run('big', timestamptz :'t0' + interval '1 day');
-- a late row with an old anchor
INSERT INTO big VALUES (0, 'late@example.com', '13912345678', '2020-01-01 00:00+00');
CALL retention.run('big', timestamptz :'t0' + interval '1 day');
INSERT INTO results
SELECT :size, :'index', (ARRAY['history', 'one more day', 'rerun', 'late row'])[n], rows, ms
  FROM (SELECT row_number() OVER (ORDER BY run_id) AS n, rows,
               round(extract(epoch FROM finished_at - started_at) * 1000, 1) AS ms
          FROM retention.runs WHERE policy_id = :pid) r;
SQL
  done
done
psql_ -d postgres -P footer=off -c "
SELECT history, step, max(rows) AS rows,
       max(ms) FILTER (WHERE index = 'anchor') AS ms_anchor_index,
       max(ms) FILTER (WHERE index = 'advised') AS ms_advised_index
  FROM results GROUP BY history, step
 ORDER BY history, array_position(ARRAY['history', 'one more day', 'rerun', 'late row'], step)"
