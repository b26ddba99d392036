#!/usr/bin/env bash
# bench/run.sh: the benchmark suite.  Compares pg_retention with what users would do
# instead, on a throwaway cluster, and writes the tables to docs/benchmarks.md (and prints
# them).  Each comparison runs every side in the same run, alternating the order round
# by round, and reports medians and ratios:
#   1. delete throughput and WAL per row: pg_retention vs a single DELETE vs a batched
#      DELETE loop at the same batch size (half the table expired; and 1 % expired);
#   2. impact on a concurrent pgbench: TPS, p99 and max latency while each of them runs;
#   3. anonymize throughput, WAL per row and HOT updates vs a batched UPDATE with the same
#      masks, the masked column indexed and not;
#   4. per-row cost of retention.pseudonym() and the other masks vs md5() and pgcrypto hmac();
#   5. a partitioned table: pg_retention vs pg_partman's retention vs row deletes;
#   6. idle cost: 1,000 policies with nothing due: worker CPU per pass, pgbench TPS with
#      the library preloaded vs not;
#   7. idle passes over expired rows foreign keys keep: 2,000 against 2,000,000;
#   8. protecting the workload: pgbench TPS against the purge rate for the hand-written loop
#      with pg_sleep, pg_retention with fixed pauses and adaptive (a chart), and a streaming
#      standby's replay lag during a large purge with and without retention.max_replica_lag;
#   9. scale: delete and anonymize throughput and WAL per row at 1M, 5M and 20M rows against
#      the loop (a chart);
#  10. erasure requests: bench/erasure.sh, on a cluster of its own.
#
#   bench/run.sh [--quick] [--rounds N] [--only "1 2 ..."] [--scale-sizes "N ..."] [--out FILE] [--no-build]
#   (PG_CONFIG picks the PostgreSQL; PORT=NNNNN the cluster's port; run as root or postgres)
#
# The default run takes about 80-100 minutes on 2 cores (comparison 9 needs some 12 GB of
# disk for its 20M-row tables and their WAL); --quick (small tables, one or two rounds)
# about 12.  Absolute figures vary between machines; the ratios are the point.  The charts
# (PNG, gnuplot) are written beside the page.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/scripts/lib.sh"

quick=0; build=1; rounds=""; only="1 2 3 4 5 6 7 8 9 10"; out="$repo/docs/benchmarks.md"; sizes=""
args="$*"
while (($#)); do
  case $1 in
    --quick) quick=1; shift ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --only) only=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --scale-sizes) sizes=${2:?}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
if ((quick)); then
  : "${rounds:=2}"
  del_rows=300000; pgb_scale=2; pgb_rows=200000; pgb_secs=10; anon_rows=100000
  mask_rows=200000; part_rows=50000; idle_secs=10; idle_tps_secs=8
  kept_rows=200000; kept_secs=10
  prot_rows=200000; prot_secs=14; prot_rounds=1; prot_pauses="0 50 200"; prot_rates="4 8 16"
  rep_rows=300000; rep_limit_ms=200
  scale_sizes="100000 300000 1000000"; scale_rounds=1
  erasure_args="--customers 20000 --erasures 100 --entries 200 --rounds 3"
else
  : "${rounds:=3}"
  del_rows=2000000; pgb_scale=10; pgb_rows=600000; pgb_secs=12; anon_rows=400000
  mask_rows=1000000; part_rows=500000; idle_secs=30; idle_tps_secs=10
  kept_rows=2000000; kept_secs=20
  prot_rows=600000; prot_secs=24; prot_rounds=2; prot_pauses="0 25 50 100 200"; prot_rates="4 8 16 32"
  rep_rows=2000000; rep_limit_ms=200
  scale_sizes="1000000 5000000 20000000"; scale_rounds=1
  erasure_args="--customers 200000 --erasures 200 --entries 1000 --rounds 5"
fi
# comparison 9's table sizes (rows), when the time or the disk does not allow the default ones
[[ -n $sizes ]] && scale_sizes=$sizes
batch=10000
pause_ms=100

rt_ensure_packages "${RT_PACKAGES[@]}"
# gnuplot draws the charts of comparisons 8 and 9 (Debian's package; without it, no chart)
rt_ensure_packages gnuplot-nox || true
pgc=$(rt_pg_config)
bindir=$("$pgc" --bindir)
# pg_partman for comparison 5: Debian's package for the Debian PostgreSQL, if missing
if [[ $(id -u) == 0 && $pgc == /usr/lib/postgresql/15/bin/pg_config &&
      ! -f $("$pgc" --sharedir)/extension/pg_partman.control ]]; then
  rt_ensure_packages postgresql-15-partman || true
fi
((build)) && rt_build_install "$repo"

conf=("shared_buffers = '512MB'" "max_wal_size = '8GB'" "checkpoint_timeout = '1h'" "jit = off"
      "autovacuum = off" "max_parallel_workers_per_gather = 0" "retention.key_file = 'bench.key'"
      "log_min_messages = warning")
rt_bench_cluster "${conf[@]}"
mkdir -p "$work/out" && [[ $(id -u) == 0 ]] && chown postgres "$work/out"

psql_() { rt_as_postgres env PGOPTIONS='-c client_min_messages=warning' "$bindir/psql" -h "$cluster" -p "$port" -X -q -v ON_ERROR_STOP=1 "$@"; }
q() { psql_ -d bench -t -A -c "$1"; }
now_ms() { date +%s%3N; }
lsn() { q "SELECT pg_current_wal_insert_lsn()"; }
wal_since() { q "SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), '$1')::bigint"; }
# median VALUES...: the median (the mean of the middle two for an even count)
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }
# rotate N R: the numbers 0..N-1 starting at R mod N, so each round starts with another side
rotate() { local n=$1 r=$2 i; for ((i = 0; i < n; i++)); do echo $(((i + r) % n)); done; }
section() { printf '%s\n' "$@" >>"$work/out/sections.md"; }
target() { printf '%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" >>"$work/out/targets.tsv"; }
# verdict VALUE OP LIMIT: "met" or "missed"
verdict() { awk -v v="$1" -v l="$3" -v op="$2" 'BEGIN {ok = (op == ">=") ? v >= l : v <= l; print ok ? "met" : "missed"}'; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

psql_ -d postgres -c "CREATE DATABASE bench"
q "CREATE EXTENSION pg_retention"
q "SELECT retention.create_key() IS NOT NULL" >/dev/null
pgbench_bin=$bindir/pgbench; [[ -x $pgbench_bin ]] || pgbench_bin=$(command -v pgbench)
has_partman=$(q "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_partman'")
started=$(date -u '+%Y-%m-%d %H:%M UTC'); t_start=$(now_ms)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------------------------------
# 1. delete throughput and WAL per row
# ---------------------------------------------------------------------------------------
bench_delete() {
  log "1. delete throughput ($del_rows rows, $rounds rounds)"
  q "CREATE TABLE del_tmpl AS SELECT g AS id, timestamptz '2026-01-01' - (g % 1000) * interval '1 day' AS at,
     md5(g::text) AS payload FROM generate_series(1, $del_rows) g"
  local scenario keep cut name i r
  declare -A ms wal rows
  local names=("single DELETE" "batched DELETE loop" "pg_retention")
  for scenario in bulk trickle; do
    if [[ $scenario == bulk ]]; then keep='500 days'; else keep='990 days'; fi
    cut="timestamptz '2026-01-01' - interval '$keep'"
    local sql=(
      "DELETE FROM big WHERE at < $cut"
      "DO \$\$ DECLARE n int; BEGIN LOOP DELETE FROM big WHERE ctid = ANY(ARRAY(SELECT ctid FROM big WHERE at < $cut LIMIT $batch)) AND at < $cut; GET DIAGNOSTICS n = ROW_COUNT; COMMIT; EXIT WHEN n = 0; END LOOP; END \$\$"
      "CALL retention.run('big', timestamptz '2026-01-01')")
    for ((r = 0; r < rounds; r++)); do
      for i in $(rotate 3 "$r"); do
        q "DROP TABLE IF EXISTS big; SELECT retention.drop_policy(policy_id) FROM retention.policies" >/dev/null
        q "CREATE TABLE big AS SELECT * FROM del_tmpl"
        q "ALTER TABLE big ADD PRIMARY KEY (id)"; q "CREATE INDEX ON big (at)"; q "VACUUM ANALYZE big"
        ((i == 2)) && q "SELECT retention.add_policy('big', '$keep', 'at', batch_size => $batch)" >/dev/null
        q "CHECKPOINT"
        local before l0 t0 t1
        before=$(q "SELECT count(*) FROM big"); l0=$(lsn); t0=$(now_ms)
        psql_ -d bench -c "${sql[$i]}" >/dev/null 2>&1
        t1=$(now_ms)
        name="$scenario/${names[$i]}"
        ms[$name]+="$((t1 - t0)) "; wal[$name]+="$(wal_since "$l0") "
        rows[$name]=$((before - $(q "SELECT count(*) FROM big")))
      done
    done
  done
  section "## 1. Delete throughput and WAL per row" ""
  section "A table of $del_rows rows (id, timestamptz anchor, 32-character payload; primary key and an index on the anchor), freshly copied, vacuumed and checkpointed before each measure. *bulk*: half the rows expired, spread over every page; *trickle*: 0.9 % expired (the steady state of a daily policy). Batch size $batch for the loop and for pg_retention. The loop is the usual hand-written one: \`DELETE ... WHERE ctid = ANY(ARRAY(SELECT ctid ... WHERE at < cutoff LIMIT $batch)) AND at < cutoff\`, committed after each batch in a \`DO\` block. WAL is the LSN difference (pg_retention's own run records and audit entries included). Median of $rounds rounds, the three run in rotating order." ""
  section "| scenario | method | rows deleted | median ms | rows/s | WAL bytes/row | throughput vs loop | WAL/row vs loop |" "|---|---|---:|---:|---:|---:|---:|---:|"
  for scenario in bulk trickle; do
    local lt lw
    lt=$(median ${ms[$scenario/batched DELETE loop]}); lw=$(median ${wal[$scenario/batched DELETE loop]})
    for name in "${names[@]}"; do
      local k="$scenario/$name" t w
      t=$(median ${ms[$k]}); w=$(median ${wal[$k]})
      section "$(awk -v s="$scenario" -v m="$name" -v d="${rows[$k]}" -v t="$t" -v w="$w" -v lt="$lt" -v lw="$lw" \
        'BEGIN {printf "| %s | %s | %d | %.0f | %.0f | %.1f | %.2f | %.2f |", s, m, d, t, d / (t / 1000.0), w / d, lt / t, w / lw}')"
      if [[ $name == pg_retention && $scenario == bulk ]]; then
        local ratio wr
        ratio=$(awk -v a="$lt" -v b="$t" 'BEGIN {printf "%.2f", a / b}')
        wr=$(awk -v a="$w" -v b="$lw" 'BEGIN {printf "%.2f", a / b}')
        target "Delete throughput ≥ 0.9× the batched loop (same batch size)" "$ratio×" "$(verdict "$ratio" ">=" 0.9)" "comparison 1, bulk"
        target "WAL per row ≤ 1.1× the batched loop" "$wr×" "$(verdict "$wr" "<=" 1.1)" "comparison 1, bulk"
      fi
    done
  done
  section ""
  q "DROP TABLE IF EXISTS big, del_tmpl; SELECT retention.drop_policy(policy_id) FROM retention.policies" >/dev/null
}

# ---------------------------------------------------------------------------------------
# 2. impact on a concurrent pgbench workload
# ---------------------------------------------------------------------------------------
# pgbench_window DIR FROM TO: "tps p99_ms max_ms count" of the transactions that ended in [FROM, TO]
pgbench_window() {
  cat "$1"/log* | awk -v a="$2" -v b="$3" '{ t = $5 + $6 / 1e6; if (t >= a && t <= b) print $3 / 1000.0 }' |
    sort -g | awk -v a="$2" -v b="$3" '
    { lat[NR] = $1 }
    END {
      if (NR == 0) { print "0 0 0 0"; exit }
      k = int(NR * 0.99); if (k < 1) k = 1
      printf "%.1f %.1f %.1f %d\n", NR / (b - a), lat[k], lat[NR], NR }'
}

bench_pgbench() {
  log "2. pgbench impact (scale $pgb_scale, $pgb_rows-row purge table, ${pgb_secs}s, $rounds rounds)"
  rt_as_postgres "$pgbench_bin" -h "$cluster" -p "$port" -i -q -s "$pgb_scale" bench >/dev/null 2>&1
  q "CREATE TABLE pgb_tmpl AS SELECT g AS id, timestamptz '2026-01-01' - (g % 1000) * interval '1 day' AS at,
     md5(g::text) AS payload FROM generate_series(1, $pgb_rows) g"
  local cut="timestamptz '2026-01-01' - interval '500 days'"
  local names=("no purge" "single DELETE" "batched DELETE loop" "pg_retention" "pg_retention, batch_pause ${pause_ms} ms")
  declare -A tps p99 mx dur bt
  local r i
  for ((r = 0; r < rounds; r++)); do
    for i in $(rotate 5 "$r"); do
      local name=${names[$i]} dir=$work/pgb
      q "DROP TABLE IF EXISTS logs2; SELECT retention.drop_policy(policy_id) FROM retention.policies" >/dev/null
      q "CREATE TABLE logs2 AS SELECT * FROM pgb_tmpl"; q "ALTER TABLE logs2 ADD PRIMARY KEY (id)"
      q "CREATE INDEX ON logs2 (at)"; q "VACUUM ANALYZE logs2"
      q "TRUNCATE pgbench_history"; q "VACUUM ANALYZE pgbench_accounts, pgbench_branches, pgbench_tellers"
      ((i >= 3)) && q "SELECT retention.add_policy('logs2', '500 days', 'at', batch_size => $batch)" >/dev/null
      q "CHECKPOINT"
      rm -rf "$dir"; mkdir -p "$dir"; [[ $(id -u) == 0 ]] && chown postgres "$dir"
      local t0 ps pe
      t0=$(date +%s.%N)
      rt_as_postgres "$pgbench_bin" -h "$cluster" -p "$port" -n -c 4 -j 2 -T "$pgb_secs" -l --log-prefix="$dir/log" bench \
        >"$dir/out.txt" 2>&1 &
      local pgb=$!
      sleep 2
      ps=$(date +%s.%N)
      case $i in
        0) sleep 0 ;;
        1) psql_ -d bench -c "DELETE FROM logs2 WHERE at < $cut" >/dev/null ;;
        2) psql_ -d bench -c "DO \$\$ DECLARE n int; BEGIN LOOP DELETE FROM logs2 WHERE ctid = ANY(ARRAY(SELECT ctid FROM logs2 WHERE at < $cut LIMIT $batch)) AND at < $cut; GET DIAGNOSTICS n = ROW_COUNT; COMMIT; EXIT WHEN n = 0; END LOOP; END \$\$" >/dev/null ;;
        3) psql_ -d bench -c "CALL retention.run('logs2', timestamptz '2026-01-01')" >/dev/null 2>&1 ;;
        4) psql_ -d bench -c "SET retention.batch_pause = '${pause_ms}ms'" -c "CALL retention.run('logs2', timestamptz '2026-01-01')" >/dev/null 2>&1 ;;
      esac
      pe=$(date +%s.%N)
      wait "$pgb"
      if ((i == 0)); then
        # no purge: the same kind of window, from the 2nd second to the last but one
        pe=$(awk -v a="$t0" -v s="$pgb_secs" 'BEGIN {printf "%.3f", a + s - 1}')
      fi
      read -r w_tps w_p99 w_max _ < <(pgbench_window "$dir" "$ps" "$pe")
      tps[$name]+="$w_tps "; p99[$name]+="$w_p99 "; mx[$name]+="$w_max "
      dur[$name]+="$(awk -v a="$ps" -v b="$pe" 'BEGIN {printf "%.0f", (b - a) * 1000}') "
      if ((i >= 3)); then
        # the time of one batch: the run's duration without its pauses, per batch
        local pause=0; ((i == 4)) && pause=$pause_ms
        bt[$name]+="$(q "SELECT round((extract(epoch FROM finished_at - started_at) * 1000 - $pause * greatest(batches - 1, 0)) / greatest(batches, 1)) FROM retention.runs ORDER BY run_id DESC LIMIT 1") "
      fi
    done
  done
  local base; base=$(median ${tps["no purge"]})
  section "## 2. Impact on a concurrent pgbench workload" ""
  section "pgbench (TPC-B-like, scale $pgb_scale, 4 clients, 2 threads, ${pgb_secs} s) runs while a purge of half of a $pgb_rows-row table starts 2 s in. TPS, p99 and max latency are taken over the transactions that ended while the purge ran (for *no purge*: from the 2nd second to the last but one). Batch size $batch; \`retention.lock_timeout\` is 1 s (the default); *batch ms* is the run's duration, pauses taken out, divided by its batches. Median of $rounds rounds, the five in rotating order." ""
  section "| workload beside pgbench | purge ms | TPS | TPS vs no purge | p99 ms | max ms | batch ms |" "|---|---:|---:|---:|---:|---:|---:|"
  local name
  for name in "${names[@]}"; do
    local t b
    t=$(median ${tps[$name]})
    b="–"; [[ -n ${bt[$name]:-} ]] && b=$(median ${bt[$name]})
    section "$(awk -v n="$name" -v d="$(median ${dur[$name]})" -v t="$t" -v base="$base" -v p="$(median ${p99[$name]})" \
      -v m="$(median ${mx[$name]})" -v b="$b" 'BEGIN {printf "| %s | %s | %.0f | %.2f | %.1f | %.1f | %s |", n, (n == "no purge" ? "–" : sprintf("%.0f", d)), t, t / base, p, m, b}')"
  done
  section ""
  local k
  for k in "pg_retention" "pg_retention, batch_pause ${pause_ms} ms"; do
    local ratio m bound
    ratio=$(awk -v a="$(median ${tps[$k]})" -v b="$base" 'BEGIN {printf "%.2f", a / b}')
    target "During a purge, pgbench TPS ≥ 0.95× no purge ($k)" "$ratio×" "$(verdict "$ratio" ">=" 0.95)" "comparison 2"
    m=$(median ${mx[$k]}); bound=$(awk -v b="$(median ${bt[$k]})" 'BEGIN {print b + 1000}')
    target "Max latency ≤ one batch time + lock_timeout ($k)" "${m} ms ≤ ${bound} ms" "$(verdict "$m" "<=" "$bound")" "comparison 2"
  done
  q "DROP TABLE IF EXISTS logs2, pgb_tmpl; SELECT retention.drop_policy(policy_id) FROM retention.policies" >/dev/null
}

# ---------------------------------------------------------------------------------------
# 3. anonymize throughput, WAL per row and HOT updates
# ---------------------------------------------------------------------------------------
bench_anonymize() {
  log "3. anonymize throughput ($anon_rows rows, $rounds rounds)"
  q "CREATE TABLE anon_tmpl AS SELECT g AS id, 'user' || g || '@example.com' AS email,
     '138' || lpad((g % 100000000)::text, 8, '0') AS phone,
     timestamptz '2026-01-01' - (g % 1000) * interval '1 day' AS at FROM generate_series(1, $anon_rows) g"
  local cut="timestamptz '2026-01-01' - interval '500 days'"
  local pending="NOT ((email IS NULL OR email = retention.mask_email(email)) AND (phone IS NULL OR phone = retention.mask_phone(phone)))"
  local hand="DO \$\$ DECLARE n int; BEGIN LOOP UPDATE anon SET email = retention.mask_email(email), phone = retention.mask_phone(phone) WHERE ctid = ANY(ARRAY(SELECT ctid FROM anon WHERE at < $cut AND $pending LIMIT $batch)) AND at < $cut; GET DIAGNOSTICS n = ROW_COUNT; COMMIT; EXIT WHEN n = 0; END LOOP; END \$\$"
  declare -A ms wal rows hot
  local names=("batched UPDATE loop" "pg_retention") r i idx
  for idx in "not indexed" "indexed" "not indexed, fillfactor 90"; do
    for ((r = 0; r < rounds; r++)); do
      for i in $(rotate 2 "$r"); do
        q "DROP TABLE IF EXISTS anon; SELECT retention.drop_policy(policy_id) FROM retention.policies" >/dev/null
        q "CREATE TABLE anon (LIKE anon_tmpl)"
        [[ $idx == *fillfactor* ]] && q "ALTER TABLE anon SET (fillfactor = 90)"
        q "INSERT INTO anon SELECT * FROM anon_tmpl"; q "ALTER TABLE anon ADD PRIMARY KEY (id)"
        q "CREATE INDEX ON anon (at)"
        [[ $idx == indexed ]] && q "CREATE INDEX ON anon (email)"
        q "VACUUM ANALYZE anon"
        q "SELECT retention.tag('anon', 'email', 'email'), retention.tag('anon', 'phone', 'phone')" >/dev/null
        ((i == 1)) && q "SELECT retention.add_policy('anon', '500 days', 'at', 'anonymize', batch_size => $batch)" >/dev/null
        q "CHECKPOINT"; q "SELECT pg_stat_reset_single_table_counters('anon'::regclass)" >/dev/null
        local l0 t0 t1 name="$idx/${names[$i]}"
        l0=$(lsn); t0=$(now_ms)
        if ((i == 0)); then psql_ -d bench -c "$hand" >/dev/null
        else psql_ -d bench -c "CALL retention.run('anon', timestamptz '2026-01-01')" >/dev/null 2>&1; fi
        t1=$(now_ms)
        ms[$name]+="$((t1 - t0)) "; wal[$name]+="$(wal_since "$l0") "
        rows[$name]=$(q "SELECT count(*) FROM anon WHERE email LIKE '%*%'")
        sleep 0.6   # let the backend's statistics reach the cumulative stats
        hot[$name]+="$(q "SELECT round(100.0 * n_tup_hot_upd / greatest(n_tup_upd, 1), 1) FROM pg_stat_user_tables WHERE relid = 'anon'::regclass") "
      done
    done
  done
  section "## 3. Anonymize throughput, WAL per row and HOT updates" ""
  section "A table of $anon_rows rows (id, e-mail, mainland mobile number, timestamptz anchor; primary key and an index on the anchor), half of them expired; \`email\` and \`phone\` are tagged with the masks \`email\` and \`phone\`. The loop applies the same masks: \`UPDATE ... SET email = retention.mask_email(email), phone = retention.mask_phone(phone) WHERE ctid = ANY(ARRAY(SELECT ctid ... WHERE at < cutoff AND <not yet masked> LIMIT $batch))\`, one transaction per batch. *indexed*: a btree index on \`email\` as well. *fillfactor 90*: the table filled to 90 % when its rows were written, which leaves room for a new row version on the same page. HOT is the share of updates that were heap-only (pg_stat_user_tables): a HOT update writes no index entry. Median of $rounds rounds, alternating." ""
  section "| masked column | method | rows | median ms | rows/s | WAL bytes/row | HOT % | throughput vs loop | WAL/row vs loop |" "|---|---|---:|---:|---:|---:|---:|---:|---:|"
  for idx in "not indexed" "indexed" "not indexed, fillfactor 90"; do
    local lt lw name
    lt=$(median ${ms[$idx/batched UPDATE loop]}); lw=$(median ${wal[$idx/batched UPDATE loop]})
    for name in "${names[@]}"; do
      local k="$idx/$name"
      section "$(awk -v s="$idx" -v m="$name" -v d="${rows[$k]}" -v t="$(median ${ms[$k]})" -v w="$(median ${wal[$k]})" \
        -v h="$(median ${hot[$k]})" -v lt="$lt" -v lw="$lw" \
        'BEGIN {printf "| %s | %s | %d | %.0f | %.0f | %.1f | %.1f | %.2f | %.2f |", s, m, d, t, d / (t / 1000.0), w / d, h, lt / t, w / lw}')"
    done
  done
  section ""
  q "DROP TABLE IF EXISTS anon, anon_tmpl; SELECT retention.drop_policy(policy_id) FROM retention.policies" >/dev/null
}

# ---------------------------------------------------------------------------------------
# 4. per-row cost of the masks
# ---------------------------------------------------------------------------------------
bench_masks() {
  log "4. per-row mask cost ($mask_rows rows, $((rounds + 2)) rounds)"
  q "CREATE EXTENSION IF NOT EXISTS pgcrypto"
  q "CREATE TABLE masks AS SELECT 'customer' || i || '@example.com' AS v,
     '138' || lpad(i::text, 8, '0') AS phone, '4111 1111 ' || lpad((i % 10000)::text, 4, '0') || ' 1234' AS card,
     ('10.' || (i % 256) || '.' || (i / 256 % 256) || '.' || (i % 251))::inet AS ip,
     timestamptz '2024-01-01' + i * interval '1 minute' AS ts
     FROM generate_series(1, $mask_rows) AS i"
  q "VACUUM ANALYZE masks"
  q "CREATE TABLE timings (round int, expr text, ms float8)"
  q "CREATE FUNCTION time_ms(sql text) RETURNS float8 LANGUAGE plpgsql AS \$f\$
     DECLARE t0 timestamptz; BEGIN t0 := clock_timestamp(); EXECUTE sql;
     RETURN extract(epoch FROM clock_timestamp() - t0) * 1000; END \$f\$"
  local mr=$((rounds + 2))
  psql_ -d bench -c "DO \$\$
    DECLARE
      exprs text[] := ARRAY['v', 'md5(v)', 'encode(hmac(v, ''k3y'', ''sha256''), ''hex'')', 'retention.pseudonym(v)',
                            'retention.mask_email(v)', 'retention.mask_phone(phone)', 'retention.mask_card(card)',
                            'retention.mask_partial(v, 2, 2)', 'retention.generalize(ip, 24)',
                            'retention.generalize(ts, ''month'', ''UTC'')'];
      n int := array_length(exprs, 1);
    BEGIN
      FOR i IN 1..n LOOP PERFORM time_ms('SELECT count(' || exprs[i] || ') FROM masks'); END LOOP;
      FOR r IN 1..$mr LOOP
        FOR k IN 0..n - 1 LOOP
          INSERT INTO timings SELECT r, exprs[1 + (k + r) % n], time_ms('SELECT count(' || exprs[1 + (k + r) % n] || ') FROM masks');
        END LOOP;
      END LOOP;
    END \$\$" >/dev/null
  section "## 4. Per-row cost of the masks" ""
  section "\`SELECT count(expr) FROM masks\` over $mask_rows rows, one backend (no parallel query, no JIT), every expression once per round in rotating order after one untimed pass; median of $mr rounds. *net* subtracts the plain scan (\`count(v)\`). The hmac is pgcrypto's \`encode(hmac(v, key, 'sha256'), 'hex')\`; \`retention.pseudonym\` is keyed BLAKE2b (libsodium) with a key loaded from \`retention.key_file\`." ""
  section "| expression | median ms | µs/row | net µs/row | net cost vs retention.pseudonym |" "|---|---:|---:|---:|---:|"
  section "$(q "WITH m AS (SELECT expr, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM timings GROUP BY expr),
      b AS (SELECT ms FROM m WHERE expr = 'v'), p AS (SELECT ms FROM m WHERE expr = 'retention.pseudonym(v)')
    SELECT '| \`' || CASE m.expr WHEN 'v' THEN 'count(v) (scan only)' ELSE m.expr END || '\` | ' || round(m.ms::numeric, 1) || ' | '
           || round((m.ms * 1000 / $mask_rows)::numeric, 3) || ' | '
           || CASE WHEN m.expr = 'v' THEN '–' ELSE round(((m.ms - b.ms) * 1000 / $mask_rows)::numeric, 3)::text END || ' | '
           || CASE WHEN m.expr = 'v' THEN '–' ELSE round(((m.ms - b.ms) / nullif(p.ms - b.ms, 0))::numeric, 2)::text || '×' END || ' |'
      FROM m, b, p ORDER BY m.ms")"
  section ""
  local ratio
  ratio=$(q "WITH m AS (SELECT expr, percentile_cont(0.5) WITHIN GROUP (ORDER BY ms) AS ms FROM timings GROUP BY expr)
    SELECT round((((SELECT ms FROM m WHERE expr LIKE 'encode(hmac%') - (SELECT ms FROM m WHERE expr = 'v'))
           / ((SELECT ms FROM m WHERE expr = 'retention.pseudonym(v)') - (SELECT ms FROM m WHERE expr = 'v')))::numeric, 2)")
  target "retention.pseudonym ≥ 2× faster per row than encode(hmac(...),'hex')" "${ratio}× (net per-row cost)" "$(verdict "$ratio" ">=" 2)" "comparison 4"
  q "DROP TABLE masks, timings; DROP FUNCTION time_ms(text)"
}

# ---------------------------------------------------------------------------------------
# 5. a partitioned table: pg_retention vs pg_partman vs row deletes
# ---------------------------------------------------------------------------------------
bench_partitions() {
  if [[ $has_partman == 0 ]]; then
    log "5. skipped: pg_partman is not installed"
    section "## 5. A partitioned table" "" "Skipped: pg_partman is not installed for this PostgreSQL." ""
    target "Fully expired partitions removed ≥ 100× faster than deleting their rows" "not measured" "missed" "pg_partman missing"
    return
  fi
  log "5. partitions (8 monthly partitions of $part_rows rows, and of 1000, $rounds rounds)"
  q "CREATE SCHEMA partman; CREATE EXTENSION pg_partman SCHEMA partman"
  # eight months of data up to the current month; as of the 1st of this month, 4 months
  # kept: the four oldest partitions lie wholly before the cutoff, no other row has expired
  local names=("pg_retention (DETACH CONCURRENTLY + DROP; partition_row_count = auto, the default)"
               "pg_retention, partition_row_count = exact"
               "pg_partman run_maintenance()"
               "row deletes (pg_retention, partition_action 'rows')")
  declare -A ms wal rows parts vac small
  local r i size
  # mkset ROWS SIDE: the partition set for one side (pg_partman's keeps its DEFAULT partition)
  mkset() {
    q "DROP TABLE IF EXISTS pt; DELETE FROM partman.part_config; SELECT retention.drop_policy(policy_id) FROM retention.policies" >/dev/null
    q "CREATE TABLE pt (id bigint, at timestamptz NOT NULL, v int) PARTITION BY RANGE (at)"
    q "SELECT partman.create_parent('public.pt', 'at', 'native', 'monthly',
         p_start_partition => (date_trunc('month', now()) - interval '8 months')::text)" >/dev/null
    (($2 != 2)) && q "DROP TABLE pt_default"
    q "INSERT INTO pt SELECT g, m + (g % $1) * ((m + interval '1 month' - m) / $1), g
       FROM generate_series(1, 8) k, LATERAL (SELECT date_trunc('month', now()) - k * interval '1 month' AS m) x,
            generate_series(1, $1) g"
    q "CREATE INDEX ON pt (at)"; q "VACUUM ANALYZE pt"
    case $2 in
      0|1) q "SELECT retention.add_policy('pt', '4 months', 'at', batch_size => $batch)" >/dev/null ;;
      2) q "UPDATE partman.part_config SET retention = '4 months', retention_keep_table = false WHERE parent_table = 'public.pt'" ;;
      3) q "SELECT retention.add_policy('pt', '4 months', 'at', batch_size => $batch, partition_action => 'rows')" >/dev/null ;;
    esac
    q "CHECKPOINT"
  }
  # remove SIDE: what each side runs
  remove() {
    case $1 in
      0|3) psql_ -d bench -c "CALL retention.run('pt', date_trunc('month', now()))" >/dev/null ;;
      1) psql_ -d bench -c "SET retention.partition_row_count = exact" -c "CALL retention.run('pt', date_trunc('month', now()))" >/dev/null ;;
      2) psql_ -d bench -c "SELECT partman.run_maintenance('public.pt')" >/dev/null ;;
    esac
  }
  for ((r = 0; r < rounds; r++)); do
    for i in $(rotate 4 "$r"); do
      mkset "$part_rows" "$i"
      local before children l0 t0 t1 name=${names[$i]}
      before=$(q "SELECT count(*) FROM pt")
      children=$(q "SELECT string_agg(inhrelid::regclass::text, ',') FROM pg_inherits WHERE inhparent = 'pt'::regclass")
      l0=$(lsn); t0=$(now_ms)
      remove "$i"
      t1=$(now_ms)
      ms[$name]+="$((t1 - t0)) "; wal[$name]+="$(wal_since "$l0") "
      rows[$name]=$((before - $(q "SELECT count(*) FROM pt")))
      # of the partitions there were (pg_partman makes new ones ahead while it is at it)
      parts[$name]=$(q "SELECT count(*) FROM unnest(string_to_array('$children', ',')) c WHERE to_regclass(c) IS NULL")
      if ((i == 3)); then
        # the space of deleted rows comes back only with VACUUM; a dropped partition's at once
        t0=$(now_ms); q "VACUUM pt"; vac[$name]+="$(($(now_ms) - t0)) "
      fi
    done
    # the fixed cost of a partition: the same four removed, of 1,000 rows each
    for i in $(rotate 3 "$r"); do
      mkset 1000 "$i"
      t0=$(now_ms); remove "$i"; t1=$(now_ms)
      small[${names[$i]}]+="$((t1 - t0)) "
    done
  done
  local rt_ms exact_ms pm_ms rows_ms rows_vac_ms
  rt_ms=$(median ${ms[${names[0]}]}); exact_ms=$(median ${ms[${names[1]}]}); pm_ms=$(median ${ms[${names[2]}]})
  rows_ms=$(median ${ms[${names[3]}]})
  rows_vac_ms=$(awk -v a="$rows_ms" -v b="$(median ${vac[${names[3]}]})" 'BEGIN {print a + b}')
  section "## 5. A partitioned table: whole partitions vs pg_partman vs row deletes" ""
  section "Eight monthly partitions made by pg_partman $(q "SELECT extversion FROM pg_extension WHERE extname = 'pg_partman'") (\`create_parent(..., 'native', 'monthly')\`), $part_rows rows each (id, timestamptz anchor, integer), an index on the anchor, vacuumed and analyzed; 4 months kept, as of the first of the current month, so the four oldest partitions lie wholly before the cutoff and no other row has expired. pg_retention runs \`CALL retention.run()\` outside a transaction block, on the set without its DEFAULT partition (so DETACH ... CONCURRENTLY applies, which never locks the partitioned table against queries); with \`retention.partition_row_count = auto\` (the default) it counts the rows of a partition of up to 1,000 pages from its pages and estimates a larger one from pg_class.reltuples, marked as an estimate in the audit entry and the run's notes; with \`exact\` it counts every partition from its pages. pg_partman runs \`run_maintenance()\` with \`retention = '4 months'\`, \`retention_keep_table = false\` (on its set with the DEFAULT partition; a plain DETACH that locks the table, all partitions in one transaction; it also makes partitions ahead). Row deletes: the same pg_retention policy with \`partition_action => 'rows'\` (batches of $batch); their space comes back only with the VACUUM that follows (timed separately). Each time includes starting psql. Median of $rounds rounds, rotating." ""
  section "| method | partitions removed | rows removed | median ms | ms per partition | WAL bytes | this / pg_partman | row deletes / this | row deletes + VACUUM / this |" "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
  local name
  for name in "${names[@]}"; do
    section "$(awk -v n="$name" -v p="${parts[$name]}" -v d="${rows[$name]}" -v t="$(median ${ms[$name]})" \
      -v w="$(median ${wal[$name]})" -v rt="$rows_ms" -v rv="$rows_vac_ms" -v pm="$pm_ms" \
      'BEGIN {printf "| %s | %d | %d | %.0f | %.1f | %.0f | %.2f× | %.1f× | %.1f× |", n, p, d, t, (p > 0 ? t / p : 0), w, t / pm, rt / t, rv / t}')"
  done
  section "" "VACUUM after the row deletes: $(median ${vac[${names[3]}]}) ms (median)." ""
  section "The fixed cost of a partition: the same four partitions removed, of 1,000 rows each (nothing to count, little to drop), median ms per partition: pg_retention $(awk -v t="$(median ${small[${names[0]}]})" 'BEGIN {printf "%.1f", t / 4}'), with \`exact\` $(awk -v t="$(median ${small[${names[1]}]})" 'BEGIN {printf "%.1f", t / 4}'), pg_partman $(awk -v t="$(median ${small[${names[2]}]})" 'BEGIN {printf "%.1f", t / 4}') (each includes a quarter of starting psql). A concurrent detach commits twice a partition (the first commit marks it detach pending and does not wait for the WAL flush; the second drops it with its audit entry); pg_partman's plain DETACH commits all four once." ""
  local ratio eratio pratio epratio
  ratio=$(awk -v a="$rows_ms" -v b="$rt_ms" 'BEGIN {printf "%.0f", a / b}')
  eratio=$(awk -v a="$rows_ms" -v b="$exact_ms" 'BEGIN {printf "%.0f", a / b}')
  pratio=$(awk -v a="$rt_ms" -v b="$pm_ms" 'BEGIN {printf "%.2f", a / b}')
  epratio=$(awk -v a="$exact_ms" -v b="$pm_ms" 'BEGIN {printf "%.2f", a / b}')
  target "Whole partitions removed no slower than pg_partman's run_maintenance() (≤ 1.0×)" "${pratio}× (${rt_ms} ms vs ${pm_ms} ms; ${epratio}× with partition_row_count = exact)" "$(verdict "$pratio" "<=" 1.0)" "comparison 5"
  target "Fully expired partitions removed ≥ 100× faster than deleting their rows" "${ratio}× (auto), ${eratio}× (exact); $((4 * part_rows)) rows in 4 partitions" "$(verdict "$ratio" ">=" 100)" "comparison 5"
  q "DROP TABLE IF EXISTS pt; SELECT retention.drop_policy(policy_id) FROM retention.policies" >/dev/null
}

# ---------------------------------------------------------------------------------------
# 6. idle cost: 1,000 policies with nothing due
# ---------------------------------------------------------------------------------------
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

bench_idle() {
  log "6. idle cost (1,000 idle policies; ${idle_secs}s of CPU, pgbench ${idle_tps_secs}s x $((2 * rounds + 4)))"
  psql_ -d postgres -c "CREATE DATABASE idle" >/dev/null
  psql_ -d idle -c "CREATE EXTENSION pg_retention" >/dev/null
  psql_ -d idle -c "DO \$\$BEGIN
      FOR i IN 1..1000 LOOP
        EXECUTE format('CREATE TABLE t%s (id int PRIMARY KEY, at timestamptz NOT NULL)', i);
        EXECUTE format('CREATE INDEX ON t%s (at)', i);
        EXECUTE format('INSERT INTO t%s SELECT g, now() FROM generate_series(1, 10) g', i);
        PERFORM retention.add_policy(format('t%s', i)::regclass, interval '30 days', 'at');
      END LOOP;
    END\$\$" >/dev/null 2>&1
  rt_as_postgres "$pgbench_bin" -h "$cluster" -p "$port" -i -q -s 2 idle >/dev/null 2>&1
  local pgconf=$cluster/data/postgresql.conf clk; clk=$(getconf CLK_TCK)
  restart() { rt_as_postgres "$bindir/pg_ctl" -D "$cluster/data" -w -m fast restart -l "$cluster/server.log" >/dev/null; }

  # worker CPU per pass, at naptime 1 s (so that a short window holds many passes)
  echo "shared_preload_libraries = 'pg_retention'" >>"$pgconf"; echo "retention.naptime = '1s'" >>"$pgconf"
  restart; sleep 5
  local worker launcher w0 w1 l0 l1 passes
  worker=$(psql_ -d postgres -t -A -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_retention worker' AND datname = 'idle'")
  launcher=$(psql_ -d postgres -t -A -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_retention launcher'")
  w0=$(cpu_ticks "$worker"); l0=$(cpu_ticks "$launcher")
  sleep "$idle_secs"
  w1=$(cpu_ticks "$worker"); l1=$(cpu_ticks "$launcher")
  passes=$idle_secs
  local runs; runs=$(psql_ -d idle -t -A -c "SELECT count(*) FROM retention.runs")

  # pgbench TPS with the library preloaded (default naptime) vs not preloaded, alternating
  sed -i "/^retention.naptime = '1s'/d" "$pgconf"
  declare -A tps
  local r i
  local idle_rounds=$((rounds + 2))
  for ((r = 0; r < idle_rounds; r++)); do
    for i in $(rotate 2 "$r"); do
      if ((i == 0)); then sed -i "/^shared_preload_libraries = 'pg_retention'/d" "$pgconf"
      else echo "shared_preload_libraries = 'pg_retention'" >>"$pgconf"; fi
      restart
      # steady state: the worker's first pass after a start (1,000 cold relations) is over
      local k
      for ((k = 0; k < 60; k++)); do
        [[ $(psql_ -d postgres -t -A -c "SELECT count(*) FROM pg_stat_activity
              WHERE backend_type = 'pg_retention worker' AND state = 'active'") == 0 ]] && break
        sleep 0.5
      done
      sleep 2
      rt_as_postgres "$pgbench_bin" -h "$cluster" -p "$port" -S -c 2 -j 2 -T "$idle_tps_secs" idle >"$work/idle.txt" 2>&1
      tps[$i]+="$(awk '/^tps = / {print $3; exit}' "$work/idle.txt") "
    done
  done
  sed -i "/^shared_preload_libraries = 'pg_retention'/d" "$pgconf"; restart
  local off on ratio
  off=$(median ${tps[0]}); on=$(median ${tps[1]})
  ratio=$(awk -v a="$on" -v b="$off" 'BEGIN {printf "%.3f", a / b}')
  section "## 6. Idle cost: 1,000 policies with nothing due" ""
  section "One database with 1,000 tables of 10 fresh rows, each with a delete policy (30 days) and an index on its anchor, so every pass finds nothing due. Worker CPU is user + system time from /proc over ${idle_secs} s at \`retention.naptime = 1s\` (one pass a second). pgbench (select-only, so that any cost per transaction shows, scale 2, 2 clients, ${idle_tps_secs} s, in the same database) with pg_retention in \`shared_preload_libraries\` (launcher and worker running, default naptime 60 s, pgbench started once the worker's first pass after the restart is over) and without, the server restarted each time; median of $idle_rounds runs each, alternating." ""
  section "| measure | value |" "|---|---:|"
  section "$(awk -v w0="$w0" -v w1="$w1" -v l0="$l0" -v l1="$l1" -v clk="$clk" -v p="$passes" -v s="$idle_secs" -v runs="$runs" 'BEGIN {
    w = (w1 - w0) / clk; l = (l1 - l0) / clk
    printf "| worker CPU per pass (1,000 idle policies) | %.1f ms |\n", w * 1000 / p
    printf "| worker CPU at naptime 1 s | %.1f %% of a core |\n", w / s * 100
    printf "| worker CPU at the default naptime (60 s) | %.2f %% of a core |\n", w * 1000 / p / 60000 * 100
    printf "| launcher CPU | %.2f %% of a core |\n", l / s * 100
    printf "| runs recorded while idle | %d |", runs }')"
  section "| pgbench TPS without pg_retention preloaded | $(printf '%.0f' "$off") |" "| pgbench TPS with pg_retention preloaded | $(printf '%.0f' "$on") |" "| ratio | ${ratio}× |" ""
  target "Idle: pgbench TPS with the extension loaded ≥ 0.99× without" "${ratio}×" "$(verdict "$ratio" ">=" 0.99)" "comparison 6"
}

# ---------------------------------------------------------------------------------------
# 7. idle passes over expired rows that foreign keys keep
# ---------------------------------------------------------------------------------------
# schedstat_ns PID: the CPU time a process has used, in nanoseconds
schedstat_ns() { awk '{print $1}' "/proc/$1/schedstat"; }
# worker_of DB: the pid of the pg_retention worker connected to DB
worker_of() { psql_ -d postgres -t -A -c "SELECT pid FROM pg_stat_activity WHERE backend_type = 'pg_retention worker' AND datname = '$1'"; }
# kept_reads DB: rows read so far from customers and orders
kept_reads() { psql_ -d "$1" -t -A -c "SELECT sum(COALESCE(idx_tup_fetch, 0) + seq_tup_read + COALESCE(idx_scan, 0)) FROM pg_stat_user_tables WHERE relname IN ('customers', 'orders')"; }

bench_idle_kept() {
  local sizes=(2000 "$kept_rows") n db
  log "7. idle passes over kept rows (${sizes[*]} expired customers, each kept by an order; ${kept_secs}s a measure)"
  # comparison 6's 1,000 policies would keep a worker busy meanwhile
  psql_ -d postgres -c "DROP DATABASE IF EXISTS idle" >/dev/null
  for n in "${sizes[@]}"; do
    db=kept_$n
    psql_ -d postgres -c "CREATE DATABASE $db" >/dev/null
    psql_ -d "$db" >/dev/null <<SQL
CREATE EXTENSION pg_retention;
CREATE TABLE customers (id bigint PRIMARY KEY, created timestamptz NOT NULL, name text);
CREATE TABLE orders (id bigint PRIMARY KEY, customer_id bigint NOT NULL REFERENCES customers, at timestamptz NOT NULL);
INSERT INTO customers SELECT g, now() - interval '3 years' - g * interval '1 second', 'c' || g FROM generate_series(1, $n) g;
INSERT INTO customers SELECT $n + g, now() - g * interval '1 minute', 'fresh' FROM generate_series(1, 1000) g;
INSERT INTO orders SELECT g, g, now() FROM generate_series(1, $n) g;
CREATE INDEX ON customers (created);
CREATE INDEX ON orders (customer_id);
VACUUM ANALYZE customers, orders;
SELECT retention.add_policy('customers', '2 years', 'created');
SQL
  done
  local pgconf=$cluster/data/postgresql.conf
  restart() { rt_as_postgres "$bindir/pg_ctl" -D "$cluster/data" -w -m fast restart -l "$cluster/server.log" >/dev/null; }
  {
    echo "shared_preload_libraries = 'pg_retention'"; echo "retention.naptime = '1s'"; echo "retention.max_workers = 8"
  } >>"$pgconf"
  restart
  # the first pass of each worker tests every kept row once; then passes are idle
  local k
  for n in "${sizes[@]}"; do
    for ((k = 0; k < 600; k++)); do
      [[ -n $(worker_of "kept_$n") && $(kept_reads "kept_$n") -ge $n ]] && break
      sleep 0.5
    done
  done
  sleep 3
  # measure DB SECONDS: "cpu_us_per_pass rows_read_per_pass"
  measure() {
    local w s0 s1 r0 r1
    w=$(worker_of "$1"); s0=$(schedstat_ns "$w"); r0=$(kept_reads "$1")
    sleep "$2"
    s1=$(schedstat_ns "$w"); r1=$(kept_reads "$1")
    awk -v a="$s0" -v b="$s1" -v c="$r0" -v d="$r1" -v p="$2" 'BEGIN {printf "%.0f %.0f\n", (b - a) / 1000 / p, (d - c) / p}'
  }
  declare -A cpu reads
  # both databases at once: the same seconds of the same machine
  for n in "${sizes[@]}"; do measure "kept_$n" "$kept_secs" >"$work/kept_$n.txt" & done
  wait
  for n in "${sizes[@]}"; do read -r cpu[$n] reads[$n] <"$work/kept_$n.txt"; done
  local status_blocked
  status_blocked=$(psql_ -d "kept_${sizes[1]}" -t -A -c "SELECT rows_blocked FROM retention.status")
  # before: every pass tests every kept row (what retention.due_recheck_interval = 0 does)
  psql_ -d postgres -c "ALTER SYSTEM SET retention.due_recheck_interval = 0" -c "SELECT pg_reload_conf()" >/dev/null
  sleep 3
  local full_cpu full_reads
  read -r full_cpu full_reads < <(measure "kept_${sizes[1]}" "$kept_secs")
  psql_ -d postgres -c "ALTER SYSTEM RESET retention.due_recheck_interval" -c "SELECT pg_reload_conf()" >/dev/null
  sed -i "/^shared_preload_libraries = 'pg_retention'/d; /^retention.naptime = '1s'/d; /^retention.max_workers = 8/d" "$pgconf"
  restart
  for n in "${sizes[@]}"; do psql_ -d postgres -c "DROP DATABASE kept_$n" >/dev/null; done
  local ratio
  ratio=$(awk -v a="${cpu[${sizes[1]}]}" -v b="${cpu[${sizes[0]}]}" 'BEGIN {printf "%.2f", a / b}')
  section "## 7. Idle passes over expired rows that foreign keys keep" ""
  section "Two databases, each with a table of customers whose expired rows (kept 2 years; these are 3 years old) are all referenced by an order, so a run could delete none of them, and 1,000 fresh customers; an index on the anchor and on orders.customer_id. The worker passes once a second (\`retention.naptime = 1s\`); after its first pass (which tests every kept row once) it remembers the cutoff and the statistics counters of what could free a row (deletes and updates of orders, inserts and updates of customers) and reads only rows that expired since (docs/operations.md#idle-passes). Worker CPU is its scheduler time from /proc/PID/schedstat over ${kept_secs} s, both databases measured at once; rows read are the tuples fetched and index scans of customers and orders in pg_stat_user_tables. *Full test every pass* is \`retention.due_recheck_interval = 0\`, what every pass did before." ""
  section "| expired rows foreign keys keep | worker CPU per pass | rows read per pass |" "|---:|---:|---:|"
  for n in "${sizes[@]}"; do
    section "| $n | $(awk -v c="${cpu[$n]}" 'BEGIN {printf "%.2f ms", c / 1000}') | ${reads[$n]} |"
  done
  section "| ${sizes[1]}, full test every pass | $(awk -v c="$full_cpu" 'BEGIN {printf "%.2f ms", c / 1000}') | $full_reads |" ""
  section "\`retention.status\` still counts them: rows_blocked = $status_blocked for the ${sizes[1]}-row table." ""
  target "Idle pass cost independent of the rows foreign keys keep (${sizes[1]} vs ${sizes[0]}: ≤ 1.5×)" "${ratio}× ($(awk -v c="${cpu[${sizes[1]}]}" 'BEGIN {printf "%.2f", c / 1000}') vs $(awk -v c="${cpu[${sizes[0]}]}" 'BEGIN {printf "%.2f", c / 1000}') ms CPU a pass; full test every pass: $(awk -v c="$full_cpu" 'BEGIN {printf "%.0f", c / 1000}') ms)" "$(verdict "$ratio" "<=" 1.5)" "comparison 7"
}

# ---------------------------------------------------------------------------------------
# 8. protecting the workload: pgbench TPS against the purge rate; a standby's replay lag
# ---------------------------------------------------------------------------------------
# interp FILE X: y at x on the curve of "x y" points in FILE (sorted by x), clamped at its ends
interp() {
  sort -g "$1" | awk -v x="$2" '{xs[NR] = $1; ys[NR] = $2}
    END {
      if (x <= xs[1]) { print ys[1]; exit }
      if (x >= xs[NR]) { print ys[NR]; exit }
      for (i = 1; i < NR; i++) if (x >= xs[i] && x <= xs[i + 1]) {
        print (xs[i + 1] == xs[i]) ? ys[i] : ys[i] + (ys[i + 1] - ys[i]) * (x - xs[i]) / (xs[i + 1] - xs[i]); exit }
    }'
}

bench_protect() {
  local cut="timestamptz '2026-01-01' - interval '500 days'"
  log "8. protecting the workload (pgbench scale $pgb_scale, $prot_rows-row purge table, ${prot_secs}s, $prot_rounds rounds)"
  if [[ $(q "SELECT count(*) FROM pg_class WHERE relname = 'pgbench_accounts'") == 0 ]]; then
    rt_as_postgres "$pgbench_bin" -h "$cluster" -p "$port" -i -q -s "$pgb_scale" bench >/dev/null 2>&1
  fi
  q "DROP TABLE IF EXISTS prot_tmpl; CREATE TABLE prot_tmpl AS SELECT g AS id, timestamptz '2026-01-01' - (g % 1000) * interval '1 day' AS at,
     md5(g::text) AS payload FROM generate_series(1, $prot_rows) g"
  # the points: method:setting (pause ms for the loop and fixed pauses, MB/s for adaptive)
  local points=("none:0")
  local p
  for p in $prot_pauses; do points+=("hand:$p" "fixed:$p"); done
  for p in $prot_rates; do points+=("adaptive:$p"); done
  declare -A tps rate secs p99
  local r i n=${#points[@]}
  for ((r = 0; r < prot_rounds; r++)); do
    for i in $(rotate "$n" "$r"); do
      local pt=${points[$i]} method setting dir=$work/prot
      method=${pt%%:*}; setting=${pt#*:}
      q "DROP TABLE IF EXISTS prot; SELECT retention.drop_policy(policy_id) FROM retention.policies" >/dev/null
      q "CREATE TABLE prot AS SELECT * FROM prot_tmpl"; q "ALTER TABLE prot ADD PRIMARY KEY (id)"
      q "CREATE INDEX ON prot (at)"; q "VACUUM ANALYZE prot"
      q "TRUNCATE pgbench_history"; q "VACUUM ANALYZE pgbench_accounts, pgbench_branches, pgbench_tellers"
      [[ $method == fixed || $method == adaptive ]] &&
        q "SELECT retention.add_policy('prot', '500 days', 'at', batch_size => $batch)" >/dev/null
      q "CHECKPOINT"
      local before; before=$(q "SELECT count(*) FROM prot")
      rm -rf "$dir"; mkdir -p "$dir"; [[ $(id -u) == 0 ]] && chown postgres "$dir"
      local t0 ps pe pgb
      t0=$(date +%s.%N)
      rt_as_postgres "$pgbench_bin" -h "$cluster" -p "$port" -n -c 4 -j 2 -T "$prot_secs" -l --log-prefix="$dir/log" bench \
        >"$dir/out.txt" 2>&1 &
      pgb=$!
      sleep 2
      ps=$(date +%s.%N)
      case $method in
        none) sleep 0 ;;
        hand) psql_ -d bench -c "DO \$\$ DECLARE n int; BEGIN LOOP DELETE FROM prot WHERE ctid = ANY(ARRAY(SELECT ctid FROM prot WHERE at < $cut LIMIT $batch)) AND at < $cut; GET DIAGNOSTICS n = ROW_COUNT; COMMIT; EXIT WHEN n = 0; PERFORM pg_sleep($setting / 1000.0); END LOOP; END \$\$" >/dev/null ;;
        fixed) psql_ -d bench -c "SET retention.batch_pause = '${setting}ms'" -c "CALL retention.run('prot', timestamptz '2026-01-01')" >/dev/null 2>&1 ;;
        adaptive) psql_ -d bench -c "SET retention.throttle = adaptive" -c "SET retention.max_wal_rate = '${setting}MB'" \
                    -c "CALL retention.run('prot', timestamptz '2026-01-01')" >/dev/null 2>&1 ;;
      esac
      pe=$(date +%s.%N)
      wait "$pgb"
      # no purge: the same kind of window, from the 2nd second to the last but one
      [[ $method == none ]] && pe=$(awk -v a="$t0" -v s="$prot_secs" 'BEGIN {printf "%.3f", a + s - 1}')
      local w_tps w_p99 w_max
      read -r w_tps w_p99 w_max _ < <(pgbench_window "$dir" "$ps" "$pe")
      tps[$pt]+="$w_tps "; p99[$pt]+="$w_p99 "
      secs[$pt]+="$(awk -v a="$ps" -v b="$pe" 'BEGIN {printf "%.2f", b - a}') "
      rate[$pt]+="$(awk -v d="$((before - $(q "SELECT count(*) FROM prot")))" -v a="$ps" -v b="$pe" 'BEGIN {printf "%.0f", d / (b - a)}') "
    done
  done
  local base; base=$(median ${tps["none:0"]})
  : >"$work/prot_hand.dat"; : >"$work/prot_fixed.dat"; : >"$work/prot_adaptive.dat"
  section "## 8. Protecting the workload: pgbench TPS against the purge rate" ""
  section "pgbench (TPC-B-like, scale $pgb_scale, 4 clients, 2 threads, ${prot_secs} s) runs while half of a $prot_rows-row table is purged, starting 2 s in, in batches of $batch: by the usual hand-written loop (\`DELETE ... WHERE ctid = ANY(ARRAY(SELECT ctid ... LIMIT $batch))\`, a \`COMMIT\` and \`pg_sleep(pause)\` after each batch), by pg_retention with a fixed \`retention.batch_pause\`, and by pg_retention's adaptive throttle (\`retention.throttle = adaptive\`, \`retention.max_wal_rate\` set, the other limits at their defaults). TPS is taken over the transactions that ended while the purge ran (for *none*: from the 2nd second to the last but one); the purge rate is the rows deleted over that time. Median of $prot_rounds rounds, all points in rotating order." ""
  section "![pgbench TPS against the purge rate](bench_workload.png)" ""
  section "| method | pause / WAL limit | purge s | rows/s | TPS | TPS vs none | p99 ms |" "|---|---|---:|---:|---:|---:|---:|"
  local pt
  for pt in "${points[@]}"; do
    local method=${pt%%:*} setting=${pt#*:} t rr unit
    t=$(median ${tps[$pt]}); rr=$(median ${rate[$pt]})
    case $method in none) unit="–" ;; adaptive) unit="${setting} MB/s" ;; *) unit="${setting} ms" ;; esac
    section "$(awk -v m="$method" -v u="$unit" -v s="$(median ${secs[$pt]})" -v r="$rr" -v t="$t" -v b="$base" -v p="$(median ${p99[$pt]})" \
      'BEGIN {printf "| %s | %s | %s | %s | %.0f | %.2f | %.1f |", m, u, (m == "none" ? "–" : s), (m == "none" ? "–" : r), t, t / b, p}')"
    [[ $method != none ]] && awk -v r="$rr" -v t="$t" -v b="$base" 'BEGIN {printf "%s %.4f\n", r, t / b}' >>"$work/prot_$method.dat"
  done
  section ""
  # on or above the hand loop's curve: every pg_retention point whose rate the loop reaches
  # too, against the loop's TPS at that rate (a faster purge than the loop's fastest has no
  # loop point to compare with)
  local below=0 total=0 outside=0 worst=1 line lo hi
  lo=$(sort -g "$work/prot_hand.dat" | head -n 1 | cut -d' ' -f1)
  hi=$(sort -g "$work/prot_hand.dat" | tail -n 1 | cut -d' ' -f1)
  while read -r line; do
    local x y h
    x=${line% *}; y=${line#* }
    if awk -v x="$x" -v lo="$lo" -v hi="$hi" 'BEGIN {exit !(x < lo || x > hi)}'; then
      outside=$((outside + 1)); continue
    fi
    h=$(interp "$work/prot_hand.dat" "$x")
    total=$((total + 1))
    awk -v y="$y" -v h="$h" 'BEGIN {exit !(y < h)}' && below=$((below + 1))
    worst=$(awk -v w="$worst" -v y="$y" -v h="$h" 'BEGIN {d = y - h; print (d < w) ? d : w}')
  done < <(cat "$work/prot_fixed.dat" "$work/prot_adaptive.dat")
  if command -v gnuplot >/dev/null; then
    gnuplot <<GP
set terminal pngcairo size 900,560 font ",11" noenhanced
set output "$work/out/bench_workload.png"
set title "pgbench TPS during a purge, against the purge rate (2 cores, scale $pgb_scale, 4 clients)"
set xlabel "purge rate (rows deleted a second)"
set ylabel "pgbench TPS / TPS without a purge"
set key bottom left
set grid
plot "< sort -g $work/prot_hand.dat" using 1:2 with linespoints lw 2 title "hand-written loop, pg_sleep between batches", \
     "< sort -g $work/prot_fixed.dat" using 1:2 with linespoints lw 2 title "pg_retention, fixed retention.batch_pause", \
     "< sort -g $work/prot_adaptive.dat" using 1:2 with linespoints lw 2 title "pg_retention, adaptive (retention.max_wal_rate)"
GP
  fi
  target "Workload: pg_retention's TPS-against-purge-rate curve on or above the hand loop's" "$((total - below)) of $total pg_retention points within the loop's range of rates on or above its curve (closest: $(awk -v w="$worst" 'BEGIN {printf "%+.3f", w}') of the no-purge TPS); $outside faster or slower than any loop point" "$( ((below == 0 && total > 0)) && echo met || echo missed)" "comparison 8"
  q "DROP TABLE IF EXISTS prot, prot_tmpl; SELECT retention.drop_policy(policy_id) FROM retention.policies" >/dev/null
  bench_standby_lag
}

# bench_standby_lag: a streaming standby, a large purge, its replay lag with and without a limit
bench_standby_lag() {
  local sport sdir=$work/standby cut="timestamptz '2026-01-01' - interval '500 days'"
  log "8b. a standby's replay lag during a purge of half of $rep_rows rows (limit $rep_limit_ms ms)"
  sport=$(rt_free_port); while [[ $sport == "$port" ]]; do sport=$((sport + 1)); done
  mkdir -p "$sdir"; [[ $(id -u) == 0 ]] && chown postgres "$sdir"
  # the standby goes with the cluster, also when the script stops early
  trap 'rt_as_postgres "$bindir/pg_ctl" -D "$sdir/data" -m immediate stop >/dev/null 2>&1; rt_cluster_stop "$cluster"; rm -rf "$work"' EXIT
  # -c fast: the spread checkpoint a base backup waits for by default could take most of checkpoint_timeout (1h)
  rt_as_postgres "$bindir/pg_basebackup" -h "$cluster" -p "$port" -D "$sdir/data" -R -X stream -c fast >/dev/null 2>&1
  {
    echo "port = $sport"; echo "unix_socket_directories = '$sdir'"; echo "hot_standby = on"
  } >>"$sdir/data/postgresql.conf"
  rt_as_postgres "$bindir/pg_ctl" -D "$sdir/data" -l "$sdir/server.log" -w start >/dev/null
  q "CREATE UNLOGGED TABLE lag_samples (at timestamptz, lag_ms float8, behind bigint); CREATE UNLOGGED TABLE lag_stop (stop boolean)"
  q "CREATE TABLE rep_tmpl AS SELECT g AS id, timestamptz '2026-01-01' - (g % 1000) * interval '1 day' AS at,
     md5(g::text) AS payload FROM generate_series(1, $rep_rows) g"
  local mode
  declare -A maxlag maxbehind took runlag
  for mode in fixed adaptive; do
    q "DROP TABLE IF EXISTS rep; SELECT retention.drop_policy(policy_id) FROM retention.policies" >/dev/null
    q "CREATE TABLE rep AS SELECT * FROM rep_tmpl"; q "ALTER TABLE rep ADD PRIMARY KEY (id)"
    q "CREATE INDEX ON rep (at)"; q "VACUUM ANALYZE rep"
    q "SELECT retention.add_policy('rep', '500 days', 'at', batch_size => $batch)" >/dev/null
    q "CHECKPOINT"
    # the standby has caught up before the purge starts
    local k
    for ((k = 0; k < 600; k++)); do
      [[ $(q "SELECT count(*) FROM pg_stat_replication WHERE replay_lsn >= pg_current_wal_lsn()") == 1 ]] && break
      sleep 0.2
    done
    q "TRUNCATE lag_samples, lag_stop"
    # the sampler: pg_stat_replication every 50 ms until told to stop
    psql_ -d bench -c "DO \$\$ BEGIN LOOP
        INSERT INTO lag_samples SELECT clock_timestamp(), max(extract(epoch FROM replay_lag) * 1000),
               max(pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn)) FROM pg_stat_replication;
        EXIT WHEN EXISTS (SELECT 1 FROM lag_stop);
        COMMIT; PERFORM pg_sleep(0.05); END LOOP; END \$\$" >/dev/null &
    local sampler=$! t0 t1
    sleep 0.5
    t0=$(now_ms)
    if [[ $mode == fixed ]]; then
      psql_ -d bench -c "CALL retention.run('rep', timestamptz '2026-01-01')" >/dev/null 2>&1
    else
      # a limit the unthrottled purge went over: a third of the lag it caused, or the default
      local fixed_lag=${maxlag[fixed]:-0}
      if ((fixed_lag < 2 * rep_limit_ms)); then rep_limit_ms=$(( fixed_lag / 3 > 10 ? fixed_lag / 3 : 10 )); fi
      psql_ -d bench -c "SET retention.throttle = adaptive" -c "SET retention.max_replica_lag = '${rep_limit_ms}ms'" \
        -c "CALL retention.run('rep', timestamptz '2026-01-01')" >/dev/null 2>&1
    fi
    t1=$(now_ms)
    # until the standby has replayed the purge
    for ((k = 0; k < 600; k++)); do
      [[ $(q "SELECT count(*) FROM pg_stat_replication WHERE replay_lsn >= pg_current_wal_lsn()") == 1 ]] && break
      sleep 0.2
    done
    q "INSERT INTO lag_stop VALUES (true)"; wait "$sampler"
    maxlag[$mode]=$(q "SELECT round(coalesce(max(lag_ms), 0)) FROM lag_samples")
    maxbehind[$mode]=$(q "SELECT coalesce(max(behind), 0) FROM lag_samples")
    took[$mode]=$((t1 - t0))
    runlag[$mode]=$(q "SELECT coalesce(substring(notes FROM 'largest replica lag seen ([0-9]+) ms'), '–') FROM retention.runs ORDER BY run_id DESC LIMIT 1")
  done
  rt_as_postgres "$bindir/pg_ctl" -D "$sdir/data" -m fast stop >/dev/null
  trap 'rt_cluster_stop "$cluster"; rm -rf "$work"' EXIT
  q "DROP TABLE IF EXISTS rep, rep_tmpl, lag_samples, lag_stop; SELECT retention.drop_policy(policy_id) FROM retention.policies" >/dev/null
  section "### A standby's replay lag during a large purge" ""
  section "A streaming standby (\`pg_basebackup -R\`, on the same machine) replays while half of a $rep_rows-row table is purged in batches of $batch, with no other load. Replay lag is pg_stat_replication.replay_lag sampled every 50 ms on the primary from the start of the purge until the standby has replayed it; *bytes behind* is the primary's WAL position minus the standby's replay position. The adaptive run has \`retention.max_replica_lag = ${rep_limit_ms}ms\` (a third of the largest lag the unthrottled purge caused, when that was under twice the default of the script); *the run's own view* is the largest lag its throttle measured (its notes)." ""
  section "| run | purge ms | largest replay lag, ms | largest bytes behind | the run's own view, ms |" "|---|---:|---:|---:|---:|"
  section "| fixed (no limit) | ${took[fixed]} | ${maxlag[fixed]} | ${maxbehind[fixed]} | – |"
  section "| adaptive, max_replica_lag = $rep_limit_ms ms | ${took[adaptive]} | ${maxlag[adaptive]} | ${maxbehind[adaptive]} | ${runlag[adaptive]} |" ""
  target "With a standby and retention.max_replica_lag = $rep_limit_ms ms, its replay lag stays under the limit during a large purge" "largest ${maxlag[adaptive]} ms (without the limit: ${maxlag[fixed]} ms)" "$(verdict "${maxlag[adaptive]}" "<=" "$rep_limit_ms")" "comparison 8"
}

# ---------------------------------------------------------------------------------------
# 9. scale: delete and anonymize throughput and WAL per row as the table grows
# ---------------------------------------------------------------------------------------
bench_scale() {
  log "9. scale curve (${scale_sizes} rows; df: $(df -h "$cluster" | awk 'NR == 2 {print $4 " free"}'))"
  local size cut="timestamptz '2026-01-01' - interval '500 days'"
  local pending="NOT ((email IS NULL OR email = retention.mask_email(email)))"
  declare -A ms wal rows
  : >"$work/scale.dat"
  for size in $scale_sizes; do
    log "  $size rows"
    q "DROP TABLE IF EXISTS sc_tmpl; CREATE TABLE sc_tmpl AS SELECT g AS id, timestamptz '2026-01-01' - (g % 1000) * interval '1 day' AS at,
       'user' || g || '@example.com' AS email FROM generate_series(1, $size) g"
    local kind side r
    for kind in delete anonymize; do
      for ((r = 0; r < scale_rounds; r++)); do
        for side in $(rotate 2 "$r"); do
          q "DROP TABLE IF EXISTS sc; SELECT retention.drop_policy(policy_id) FROM retention.policies" >/dev/null
          q "CREATE TABLE sc AS SELECT * FROM sc_tmpl"; q "ALTER TABLE sc ADD PRIMARY KEY (id)"
          q "CREATE INDEX ON sc (at)"; q "VACUUM ANALYZE sc"
          if [[ $kind == anonymize ]]; then q "SELECT retention.tag('sc', 'email', 'email')" >/dev/null; fi
          if ((side == 1)); then
            q "SELECT retention.add_policy('sc', '500 days', 'at', '$( [[ $kind == delete ]] && echo delete || echo anonymize)', batch_size => $batch)" >/dev/null
          fi
          q "CHECKPOINT"
          local l0 t0 t1 name="$size/$kind/$side"
          l0=$(lsn); t0=$(now_ms)
          if ((side == 1)); then
            psql_ -d bench -c "CALL retention.run('sc', timestamptz '2026-01-01')" >/dev/null 2>&1
          elif [[ $kind == delete ]]; then
            psql_ -d bench -c "DO \$\$ DECLARE n int; BEGIN LOOP DELETE FROM sc WHERE ctid = ANY(ARRAY(SELECT ctid FROM sc WHERE at < $cut LIMIT $batch)) AND at < $cut; GET DIAGNOSTICS n = ROW_COUNT; COMMIT; EXIT WHEN n = 0; END LOOP; END \$\$" >/dev/null
          else
            psql_ -d bench -c "DO \$\$ DECLARE n int; BEGIN LOOP UPDATE sc SET email = retention.mask_email(email) WHERE ctid = ANY(ARRAY(SELECT ctid FROM sc WHERE at < $cut AND $pending LIMIT $batch)) AND at < $cut; GET DIAGNOSTICS n = ROW_COUNT; COMMIT; EXIT WHEN n = 0; END LOOP; END \$\$" >/dev/null
          fi
          t1=$(now_ms)
          ms[$name]+="$((t1 - t0)) "; wal[$name]+="$(wal_since "$l0") "
          if [[ $kind == delete ]]; then rows[$name]=$((size - $(q "SELECT count(*) FROM sc")))
          else rows[$name]=$(q "SELECT count(*) FROM sc WHERE email LIKE '%*%'"); fi
        done
      done
    done
    q "DROP TABLE IF EXISTS sc, sc_tmpl; SELECT retention.drop_policy(policy_id) FROM retention.policies" >/dev/null
  done
  section "## 9. Scale: throughput and WAL per row as the table grows" ""
  section "A table of N rows (id, timestamptz anchor, e-mail; primary key and an index on the anchor), half of them expired, spread over every page; freshly copied, vacuumed and checkpointed before each measure. *delete*: the batched loop of comparison 1 against pg_retention; *anonymize*: \`UPDATE ... SET email = retention.mask_email(email)\` in the same kind of loop (rows not masked yet) against an anonymize policy on the tagged column. Batches of $batch. Median of $scale_rounds round(s), the two sides alternating." ""
  section "![throughput against table size](bench_scale.png)" ""
  section "| rows | action | loop rows/s | pg_retention rows/s | pg_retention / loop | loop WAL B/row | pg_retention WAL B/row | WAL/row vs loop |" "|---:|---|---:|---:|---:|---:|---:|---:|"
  local kind first_ratio="" ratios_ok=1
  declare -A last_ratio
  for size in $scale_sizes; do
    for kind in delete anonymize; do
      local lt rt lw rw d
      lt=$(median ${ms[$size/$kind/0]}); rt=$(median ${ms[$size/$kind/1]})
      lw=$(median ${wal[$size/$kind/0]}); rw=$(median ${wal[$size/$kind/1]}); d=${rows[$size/$kind/1]}
      section "$(awk -v n="$size" -v k="$kind" -v d="$d" -v dl="${rows[$size/$kind/0]}" -v lt="$lt" -v rt="$rt" -v lw="$lw" -v rw="$rw" \
        'BEGIN {printf "| %d | %s | %.0f | %.0f | %.2f | %.1f | %.1f | %.2f |", n, k, dl / (lt / 1000), d / (rt / 1000), (d / rt) / (dl / lt), lw / dl, rw / d, (rw / d) / (lw / dl)}')"
      local ratio
      ratio=$(awk -v d="$d" -v dl="${rows[$size/$kind/0]}" -v lt="$lt" -v rt="$rt" 'BEGIN {printf "%.3f", (d / rt) / (dl / lt)}')
      echo "$size $kind $(awk -v d="$d" -v rt="$rt" 'BEGIN {printf "%.0f", d / (rt / 1000)}') $(awk -v d="${rows[$size/$kind/0]}" -v lt="$lt" 'BEGIN {printf "%.0f", d / (lt / 1000)}') $ratio" >>"$work/scale.dat"
      # the ratio must not fall as the table grows (within 5 %, the run-to-run noise)
      if [[ -n ${last_ratio[$kind]:-} ]] && awk -v a="$ratio" -v b="${last_ratio[$kind]}" 'BEGIN {exit !(a < b * 0.95)}'; then ratios_ok=0; fi
      last_ratio[$kind]=$ratio
    done
  done
  section ""
  if command -v gnuplot >/dev/null; then
    gnuplot <<GP
set terminal pngcairo size 900,560 font ",11" noenhanced
set output "$work/out/bench_scale.png"
set title "rows a second against table size (half of it expired; batches of $batch; 2 cores)"
set xlabel "table rows"
set ylabel "rows deleted or anonymized a second"
set logscale x
set key outside right
set grid
plot "< grep ' delete ' $work/scale.dat" using 1:4 with linespoints lw 2 title "delete: loop", \
     "< grep ' delete ' $work/scale.dat" using 1:3 with linespoints lw 2 title "delete: pg_retention", \
     "< grep ' anonymize ' $work/scale.dat" using 1:4 with linespoints lw 2 title "anonymize: loop", \
     "< grep ' anonymize ' $work/scale.dat" using 1:3 with linespoints lw 2 title "anonymize: pg_retention"
GP
  fi
  target "Scale: pg_retention / loop throughput does not fall as the table grows (${scale_sizes// /, } rows)" "delete: $(awk '$2 == "delete" {printf "%s%.2f×", (n++ ? ", " : ""), $5}' "$work/scale.dat"); anonymize: $(awk '$2 == "anonymize" {printf "%s%.2f×", (n++ ? ", " : ""), $5}' "$work/scale.dat")" "$( ((ratios_ok)) && echo met || echo missed)" "comparison 9"
}

# ---------------------------------------------------------------------------------------
# 10. erasures (bench/erasure.sh, on a cluster of its own)
# ---------------------------------------------------------------------------------------
bench_erasures() {
  log "10. erasures (bench/erasure.sh $erasure_args)"
  local outp; outp=$(PORT= "$repo/bench/erasure.sh" $erasure_args --no-build 2>&1 | tail -n 9)
  local ratio first
  ratio=$(awk '/^erase_subject x/ {print $NF}' <<<"$outp")
  first=$(awk '/^first erase_subject of a session/ {print $(NF-2)}' <<<"$outp")
  section "## 10. Erasure requests (\`bench/erasure.sh $erasure_args\`)" ""
  section "bench/erasure.sh runs on a cluster of its own: 'customers' with 4 orders each and an address shared by 10 (indexes on the foreign keys), tagged; N single-customer \`erase_subject\` calls against the hand-written DELETEs of the same rows (children first), each round in a session that erased one other customer first, inside a transaction rolled back; the first erasure of a fresh session timed apart; and \`replay_erasures()\` against a hand-written hmac() match. Its table, as printed:" ""
  section '```' "$outp" '```' ""
  target "erase_subject ≤ 3× the hand-written DELETEs (bench/erasure.sh)" "${ratio}× (first erasure of a session: ${first} ms)" "$(verdict "$ratio" "<=" 3)" "comparison 10"
}

: >"$work/out/sections.md"; : >"$work/out/targets.tsv"
for part in $only; do
  case $part in
    1) bench_delete ;; 2) bench_pgbench ;; 3) bench_anonymize ;; 4) bench_masks ;; 5) bench_partitions ;; 6) bench_idle ;;
    7) bench_idle_kept ;; 8) bench_protect ;; 9) bench_scale ;; 10) bench_erasures ;;
    *) echo "unknown comparison $part" >&2; exit 2 ;;
  esac
done
elapsed=$(( ($(now_ms) - t_start) / 1000 ))

cpu=$(awk -F': ' '/^model name/ {print $2; exit}' /proc/cpuinfo)
mem=$(awk '/^MemTotal/ {printf "%.0f GB", $2 / 1048576}' /proc/meminfo)
{
  echo "# Benchmarks"
  echo
  echo "Written by \`bench/run.sh\`; every figure below comes from the run described here. Each"
  echo "comparison runs all its sides in the same run, alternating their order round by round,"
  echo "and reports medians; ratios are what the targets of issues 6 and 15 are stated in."
  echo
  echo "- Command: \`bench/run.sh${args:+ $args}\` (PG_CONFIG=$pgc)"
  echo "- Machine: $cpu, $(nproc) cores, $mem RAM, $(uname -sr)"
  echo "- PostgreSQL: $("$bindir/postgres" --version | sed 's/^postgres (PostgreSQL) //'); pg_retention $(q "SELECT extversion FROM pg_extension WHERE extname = 'pg_retention'")"
  echo "- Settings: shared_buffers 512MB, max_wal_size 8GB, checkpoint_timeout 1h, autovacuum off, jit off, no parallel query; synchronous_commit on"
  echo "- Run: $started, $((elapsed / 60)) min $((elapsed % 60)) s; load average (1, 5, 15 min) before: $load_before, after: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine shows here)"
  echo
  echo "## Targets"
  echo
  echo "| target | measured | verdict | where |"
  echo "|---|---|---|---|"
  awk -F'\t' '{printf "| %s | %s | **%s** | %s |\n", $1, $2, $3, $4}' "$work/out/targets.tsv"
  echo
  cat "$work/out/sections.md"
} >"$work/out/benchmarks.md"
cat "$work/out/benchmarks.md"
mkdir -p "$(dirname "$out")"
cp "$work/out/benchmarks.md" "$out"
# the charts go beside the page
for png in "$work"/out/*.png; do [[ -e $png ]] && cp "$png" "$(dirname "$out")/"; done
log "written to $out"
