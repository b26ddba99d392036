#!/usr/bin/env bash
# bench/erasure.sh: the cost of erasure requests against hand-written SQL doing the same
# work, on a throwaway cluster:
#  1. erase_subject(): N single-customer erasures (customer, 4 orders each, an address
#     shared by 10 customers) against the hand-written DELETEs of the same rows, children
#     first; both inside one transaction that is rolled back, median of the rounds;
#  2. replay_erasures() after a restore: E ledger entries over K customers, against
#     hand-written SQL that finds the same customers by pgcrypto's hmac() of every key and
#     deletes their rows (what a DBA would script with a list of hashed ids).
#  3. the first erasure of a session, which builds what the next ones reuse (the kind's
#     graph, the plans of its statements), against the first hand-written one.
# Prints one table: median milliseconds, per item, and the ratio extension / hand-written.
#
#   bench/erasure.sh [--customers K] [--erasures N] [--entries E] [--rounds R] [--no-build]
#   (PORT=NNNNN picks the cluster's port; default: a free one)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/scripts/lib.sh"

customers=200000; erasures=200; entries=1000; rounds=5; build=1
while (($#)); do
  case $1 in
    --customers) customers=${2:?}; shift 2 ;;
    --erasures) erasures=${2:?}; shift 2 ;;
    --entries) entries=${2:?}; shift 2 ;;
    --rounds) rounds=${2:?}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done

rt_ensure_packages "${RT_PACKAGES[@]}"
((build)) && rt_build_install "$repo"
rt_bench_cluster "jit = off" "max_parallel_workers_per_gather = 0" "retention.key_file = 'bench.key'"
psql_() { rt_as_postgres "$bindir/psql" -h "$cluster" -p "$port" -X -q -v ON_ERROR_STOP=1 "$@"; }

echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}'), $customers customers, $erasures erasures, $entries ledger entries, $rounds rounds, $(nproc) cores"
psql_ -d postgres <<SQL
SET client_min_messages = warning;
CREATE EXTENSION pg_retention;
CREATE EXTENSION pgcrypto;
SELECT retention.create_key() IS NOT NULL AS key_created \gset
CREATE TABLE addresses (address_id int PRIMARY KEY, street text);
CREATE TABLE customers (customer_id int PRIMARY KEY, name text, email text,
                        address_id int REFERENCES addresses);
CREATE TABLE orders (order_id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers,
                     ordered_at timestamptz NOT NULL, ship_to text);
CREATE INDEX ON orders (customer_id);
CREATE INDEX ON customers (address_id);
INSERT INTO addresses SELECT g, 'Street ' || g FROM generate_series(1, $customers / 10) g;
INSERT INTO customers SELECT g, 'Customer ' || g, 'c' || g || '@example.com', 1 + (g - 1) / 10
  FROM generate_series(1, $customers) g;
INSERT INTO orders SELECT g, 1 + (g - 1) % $customers, now() - g * interval '1 minute', 'Ship ' || g
  FROM generate_series(1, $customers * 4) g;
VACUUM ANALYZE;
SELECT retention.tag('customers', 'name', 'name');
SELECT retention.tag('customers', 'email', 'email');
SELECT retention.tag('addresses', 'street', 'address');
SELECT retention.tag('orders', 'ship_to', 'address');
SELECT retention.add_subject('customer', 'customers', 'customer_id');

CREATE TABLE timings (round int, what text, ms float8);
CREATE FUNCTION time_ms(sql text) RETURNS float8 LANGUAGE plpgsql AS \$\$
DECLARE t0 timestamptz;
BEGIN
  t0 := clock_timestamp();
  EXECUTE sql;
  RETURN extract(epoch FROM clock_timestamp() - t0) * 1000;
END \$\$;
-- the hand-written erasure of one customer: children first, then a shared address if unused
CREATE FUNCTION hand_erase(id int) RETURNS void LANGUAGE plpgsql AS \$\$
DECLARE a int;
BEGIN
  SELECT address_id INTO a FROM customers WHERE customer_id = id;
  DELETE FROM orders WHERE customer_id = id;
  DELETE FROM customers WHERE customer_id = id;
  DELETE FROM addresses WHERE address_id = a AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.address_id = a);
END \$\$;

-- the hand-written replay: match every key's hmac against the kept hashes, delete children
-- first, then the addresses nobody uses any more
CREATE FUNCTION hand_replay() RETURNS bigint LANGUAGE plpgsql AS \$\$
DECLARE n bigint;
BEGIN
  CREATE TEMP TABLE m ON COMMIT DROP AS
    SELECT customer_id, address_id FROM customers
     WHERE encode(hmac(customer_id::text, 'k3y', 'sha256'), 'hex') IN (SELECT h FROM hashed_ids);
  DELETE FROM orders WHERE customer_id IN (SELECT customer_id FROM m);
  DELETE FROM customers WHERE customer_id IN (SELECT customer_id FROM m);
  GET DIAGNOSTICS n = ROW_COUNT;
  DELETE FROM addresses a WHERE a.address_id IN (SELECT address_id FROM m)
     AND NOT EXISTS (SELECT 1 FROM customers c WHERE c.address_id = a.address_id);
  RETURN n;
END \$\$;

-- the ledger after a restore: erase E customers, keep their rows aside, put them back
CREATE TABLE kept_customers AS SELECT * FROM customers WHERE customer_id % ($customers / $entries) = 0 LIMIT $entries;
CREATE TABLE kept_orders AS SELECT o.* FROM orders o JOIN kept_customers USING (customer_id);
CREATE TABLE kept_addresses AS SELECT a.* FROM addresses a WHERE address_id IN (SELECT address_id FROM kept_customers);
SELECT count(*) AS erased FROM kept_customers, LATERAL retention.erase_subject('customer', customer_id::text) e \gset
INSERT INTO addresses SELECT * FROM kept_addresses ON CONFLICT DO NOTHING;
INSERT INTO customers SELECT * FROM kept_customers;
INSERT INTO orders SELECT * FROM kept_orders;
-- what the hand-written replay gets: the erased ids' hmac, as a DBA would keep them
CREATE TABLE hashed_ids AS SELECT encode(hmac(customer_id::text, 'k3y', 'sha256'), 'hex') AS h FROM kept_customers;
VACUUM ANALYZE;
SQL

# one timed statement in a transaction that is rolled back, after the untimed warm-up
# statement $2 (if any) in the same session and transaction; prints milliseconds
timed() {
  psql_ -d postgres -At <<SQL | tail -n 1
SET client_min_messages = error;
BEGIN;
UPDATE retention.erasure_ledger SET applied_here = NULL;
${2:+$2;}
SELECT time_ms(\$q\$$1\$q\$);
ROLLBACK;
SQL
}
ext_erase="SELECT count(*) FROM generate_series(1, $customers, $customers / $erasures) g, LATERAL retention.erase_subject('customer', g::text)"
hand_erase="SELECT count(hand_erase(g)) FROM generate_series(1, $customers, $customers / $erasures) g"
ext_replay="SELECT count(*) FROM retention.replay_erasures()"
hand_replay="SELECT hand_replay()"
# a session's first erasure builds what the next ones reuse (the kind's graph, the plans of
# its statements; plpgsql plans hand_erase's): the rounds time a warm session, one
# customer outside the timed ones erased first, and the first erasure of a session is
# timed apart.  A replay is timed cold: it is made once, after a restore.
ext_warm="SELECT count(*) FROM retention.erase_subject('customer', '2')"
hand_warm="SELECT hand_erase(2)"
ext_first="SELECT count(*) FROM retention.erase_subject('customer', '3')"
hand_first="SELECT hand_erase(3)"

declare -A t
declare -A warm=([ext_erase]=$ext_warm [hand_erase]=$hand_warm [ext_replay]="" [hand_replay]=""
                  [ext_first]="" [hand_first]="")
for what in ext_erase hand_erase ext_replay hand_replay; do timed "${!what}" >/dev/null; done   # warm caches
for ((r = 1; r <= rounds; r++)); do
  # rotate the order each round
  order=(ext_erase hand_erase ext_replay hand_replay ext_first hand_first)
  for ((k = 0; k < 6; k++)); do
    what=${order[(k + r) % 6]}
    t[$what]+="$(timed "${!what}" "${warm[$what]}") "
  done
done
median() { tr ' ' '\n' <<<"$1" | grep -v '^$' | sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ee=$(median "${t[ext_erase]}"); he=$(median "${t[hand_erase]}")
er=$(median "${t[ext_replay]}"); hr=$(median "${t[hand_replay]}")
printf '\n%-44s %12s %14s %10s\n' "comparison" "median ms" "per item" "ext/hand"
printf '%-44s %12.1f %11.3f ms %10s\n' "erase_subject x $erasures" "$ee" "$(echo "$ee / $erasures" | bc -l)" "$(printf '%.2f' "$(echo "$ee / $he" | bc -l)")"
printf '%-44s %12.1f %11.3f ms %10s\n' "hand-written DELETEs x $erasures" "$he" "$(echo "$he / $erasures" | bc -l)" ""
printf '%-44s %12.1f %11.3f ms %10s\n' "replay_erasures, $entries entries / $customers keys" "$er" "$(echo "$er / $entries" | bc -l)" "$(printf '%.2f' "$(echo "$er / $hr" | bc -l)")"
printf '%-44s %12.1f %11.3f ms %10s\n' "hand-written hmac() match + DELETEs" "$hr" "$(echo "$hr / $entries" | bc -l)" ""
ef=$(median "${t[ext_first]}"); hf=$(median "${t[hand_first]}")
printf '%-44s %12.2f %11.3f ms %10s\n' "first erase_subject of a session" "$ef" "$ef" "$(printf '%.2f' "$(echo "$ef / $hf" | bc -l)")"
printf '%-44s %12.2f %11.3f ms %10s\n' "first hand-written erasure of a session" "$hf" "$hf" ""
echo "(per item: per erasure, and per ledger entry replayed; every key of the subject table is hashed once;"
echo " the erasure rounds run in a session that erased one other customer first)"
