#!/usr/bin/env bash
# bench/restore_replay.sh: how long a restored server takes, from its start, to
# replay by itself the erasures made after its backup (docs/operations.md
# "Backups and restores").  A preloaded cluster holds K customers (two orders
# each, tagged, a data-subject kind) with the key and the ledger file outside its
# data directory; a base backup is taken, then N erasures are made, one
# transaction each; the backup is started as a second cluster with the same key
# and ledger file, and the script waits until the last erasure is replayed.
# Prints the time from the restored postmaster's start to the restore being
# recognized, and to the audit entry of the replay (its erasures carried out).
#
#   bench/restore_replay.sh [--customers K] [--erasures N] [--no-build]
#   (PORT=NNNNN picks the first cluster's port; default: a free one)
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
source "$repo/scripts/lib.sh"

customers=200000; erasures=1000; build=1
while (($#)); do
  case $1 in
    --customers) customers=${2:?}; shift 2 ;;
    --erasures) erasures=${2:?}; shift 2 ;;
    --no-build) build=0; shift ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
((erasures <= customers)) || { echo "--erasures must not exceed --customers" >&2; exit 2; }

rt_ensure_packages "${RT_PACKAGES[@]}"
((build)) && rt_build_install "$repo"
work=$(mktemp -d /tmp/pg_retention_bench.XXXXXX)
[[ $(id -u) == 0 ]] && chown postgres "$work"
bindir=$("$(rt_pg_config)" --bindir)
port=${PORT:-$(rt_free_port)}
trap 'rt_cluster_stop "$work/original"; rt_cluster_stop "$work/restored"; rm -rf "$work"' EXIT
conf=("shared_preload_libraries = 'pg_retention'" "retention.naptime = '1s'" "jit = off"
      "retention.key_file = '$work/bench.key'" "retention.ledger_file = '$work/bench.ledger'")
rt_cluster_start "$work/original" "$port" "${conf[@]}"
psql_() { local p=$1 dir=$2; shift 2; rt_as_postgres "$bindir/psql" -h "$dir" -p "$p" -X -q -At -v ON_ERROR_STOP=1 "$@"; }

echo "PostgreSQL $("$bindir/postgres" --version | awk '{print $3}'), $customers customers, $erasures erasures, $(nproc) cores"
psql_ "$port" "$work/original" -d postgres >/dev/null <<SQL
SET client_min_messages = warning;
CREATE DATABASE shop;
\c shop
SET client_min_messages = warning;
CREATE EXTENSION pg_retention;
SELECT retention.create_key() IS NOT NULL AS key_created \gset
CREATE TABLE customers (customer_id int PRIMARY KEY, name text, email text);
CREATE TABLE orders (order_id bigint PRIMARY KEY, customer_id int NOT NULL REFERENCES customers,
                     ordered_at timestamptz NOT NULL, ship_to text);
CREATE INDEX ON orders (customer_id);
INSERT INTO customers SELECT g, 'Customer ' || g, 'c' || g || '@example.com' FROM generate_series(1, $customers) g;
INSERT INTO orders SELECT g, 1 + (g - 1) % $customers, now() - g * interval '1 minute', 'Ship ' || g
  FROM generate_series(1, $customers * 2) g;
VACUUM ANALYZE;
SELECT retention.tag('customers', 'name', 'name');
SELECT retention.tag('customers', 'email', 'email');
SELECT retention.tag('orders', 'ship_to', 'address');
SELECT retention.add_subject('customer', 'customers', 'customer_id');
SQL
# the worker's first pass names the ledger; then the backup
until [[ $(psql_ "$port" "$work/original" -d shop -c "SELECT count(*) FROM retention.ledger_identity") == 1 ]]; do sleep 0.2; done
rt_as_postgres "$bindir/pg_basebackup" -h "$work/original" -p "$port" -D "$work/restored/data" --checkpoint fast -X stream
# the erasures after the backup, one transaction each, spread over the customers
t0=$(date +%s.%N)
psql_ "$port" "$work/original" -d shop -c "DO \$\$ BEGIN
  FOR i IN 1..$erasures LOOP
    PERFORM count(*) FROM retention.erase_subject('customer', (1 + (i - 1) * ($customers / $erasures))::text);
    COMMIT;
  END LOOP; END \$\$"
t1=$(date +%s.%N)
printf 'made %d erasures in %.1f s on the original\n' "$erasures" "$(echo "$t1 - $t0" | bc -l)"
rt_cluster_stop "$work/original"

# the backup started as another cluster with the same key and ledger file
rport=$(rt_free_port)
{ echo "port = $rport"; echo "unix_socket_directories = '$work/restored'"; } >>"$work/restored/data/postgresql.conf"
rt_as_postgres "$bindir/pg_ctl" -D "$work/restored/data" -l "$work/restored/server.log" -w start >/dev/null
replayed="SELECT count(*) FROM customers WHERE customer_id % ($customers / $erasures) = 1 % ($customers / $erasures)
          AND customer_id <= $erasures * ($customers / $erasures)"
deadline=$(( $(date +%s) + 600 ))
until [[ $(psql_ "$rport" "$work/restored" -d shop -c "$replayed") == 0 ]]; do
  (( $(date +%s) < deadline )) || { echo "not replayed within 10 minutes" >&2; tail -20 "$work/restored/server.log" >&2; exit 1; }
  sleep 0.1
done
psql_ "$rport" "$work/restored" -d shop -F ' ' -c "
  SELECT extract(epoch FROM (SELECT at FROM retention.audit WHERE event = 'restore_recognized') - pg_postmaster_start_time()),
         extract(epoch FROM (SELECT max(at) FROM retention.audit WHERE event IN ('erasures_replayed', 'erasure_replayed'))
                            - pg_postmaster_start_time()),
         (SELECT replayed FROM retention.restores),
         (SELECT count(*) FROM orders o WHERE NOT EXISTS (SELECT 1 FROM customers c WHERE c.customer_id = o.customer_id))" |
while read -r recognized done n orphans; do
  echo
  echo "| restored server's start to | seconds |"
  echo "|---|---|"
  printf '| restore recognized (ledger file read, %d erasures found missing) | %.2f |\n' "$n" "$recognized"
  printf '| last of the %d erasures replayed (all %d customers hashed, one set-based pass) | %.2f |\n' "$n" "$customers" "$done"
  ((orphans == 0)) || echo "WARNING: $orphans orders left without their customer"
done
