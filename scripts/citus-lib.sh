# scripts/citus-lib.sh: shell helpers for pg_retention on a Citus cluster, shared by
# scripts/test-citus and bench/citus.sh (docs/operations.md#citus).  Source it after
# scripts/lib.sh; it defines functions only.  Nothing of Citus is kept in this
# repository: Citus is built from a source tree the caller names (CITUS_SRC).

# Debian packages Citus's build needs (its configure and make), beside RT_PACKAGES.
RT_CITUS_PACKAGES=(liblz4-dev libzstd-dev libkrb5-dev libcurl4-openssl-dev libselinux1-dev libxslt1-dev
  libpam0g-dev libreadline-dev flex bison autoconf libpq-dev)

# citus_build_install SRC BUILD_DIR: builds the Citus source tree SRC in BUILD_DIR and installs it
# into the PostgreSQL of rt_pg_config.  SRC is copied (git archive of its HEAD when it is a git
# checkout, else its files), never changed.  Against a PostgreSQL 15 that exports
# have_createdb_privilege() (15.20 and later), the copy gets Citus's one compile fix: its own
# static copy of the function in src/include/pg_version_compat.h is renamed.  A build of the
# same source for the same pg_config is reused (BUILD_DIR/.built says which).
citus_build_install() {
  local src=$1 build=$2 pgc stamp header
  pgc=$(rt_pg_config)
  if [[ ! -f $src/configure || ! -f $src/src/include/pg_version_compat.h ]]; then
    echo "CITUS_SRC=$src is not a Citus source tree (no configure, no src/include/pg_version_compat.h)" >&2
    return 1
  fi
  # Citus includes libpq-fe.h from pg_config --includedir
  if [[ ! -f $("$pgc" --includedir)/libpq-fe.h ]]; then
    echo "$("$pgc" --includedir)/libpq-fe.h is missing: Citus needs the libpq client headers there (libpq-dev)" >&2
    return 1
  fi
  stamp="$src $(git -C "$src" rev-parse HEAD 2>/dev/null || echo no-git) $pgc"
  if [[ ! -f $build/.built || $(cat "$build/.built") != "$stamp" ]]; then
    rm -rf "$build" && mkdir -p "$build"
    if git -C "$src" rev-parse HEAD >/dev/null 2>&1; then
      git -C "$src" archive HEAD | tar -x -C "$build"
    else
      tar -C "$src" --exclude=.git -cf - . | tar -x -C "$build"
      [[ -f $build/config.status ]] && make -C "$build" -s distclean >/dev/null 2>&1
    fi
    header=$build/src/include/pg_version_compat.h
    if grep -q 'have_createdb_privilege' "$("$pgc" --includedir-server)/commands/dbcommands.h" &&
      ! grep -q 'define have_createdb_privilege citus_have_createdb_privilege' "$header"; then
      python3 - "$header" <<'EOF' || return 1
import sys
p = sys.argv[1]
s = open(p).read()
old = "static inline bool\nhave_createdb_privilege(void)\n"
if s.count(old) == 1:
    s = s.replace(old, "/* PostgreSQL exports have_createdb_privilege() (commands/dbcommands.h) */\n"
                  "#define have_createdb_privilege citus_have_createdb_privilege\n" + old)
    open(p, "w").write(s)
EOF
      echo "citus: applied the have_createdb_privilege rename to the build copy"
    fi
    (cd "$build" && ./configure PG_CONFIG="$pgc" >"$build/configure.log" 2>&1) || {
      tail -n 20 "$build/configure.log" >&2; return 1; }
    make -C "$build" -j"$(nproc)" >"$build/build.log" 2>&1 || { tail -n 30 "$build/build.log" >&2; return 1; }
    echo "$stamp" >"$build/.built"
  fi
  make -C "$build" install >"$build/install.log" 2>&1 || { tail -n 20 "$build/install.log" >&2; return 1; }
}

# citus_port N: the port of node N (0 the coordinator, 1 and 2 the workers) of the cluster.
citus_port() { echo $((CITUS_PORT + $1)); }

# citus_psql N DB ARGS...: psql on node N, database DB, as postgres, stopping at the first error.
citus_psql() {
  local n=$1 db=$2; shift 2
  rt_as_postgres "$CITUS_BINDIR/psql" -X -q -v ON_ERROR_STOP=1 -h "$CITUS_DIR" -p "$(citus_port "$n")" -d "$db" "$@"
}

# citus_cluster_start DIR PORT [CONF...]: a coordinator (PORT) and two workers (PORT+1, PORT+2)
# in DIR, listening on Unix sockets in DIR only, with citus and pg_retention preloaded (citus
# first) and the scheduler off (retention.enabled = off: tests turn it on where they need it).
# Sets CITUS_DIR, CITUS_PORT and CITUS_BINDIR.  Nodes find each other by the socket directory.
citus_cluster_start() {
  local dir=$1 n dd
  CITUS_DIR=$dir CITUS_PORT=$2; shift 2
  CITUS_BINDIR=$("$(rt_pg_config)" --bindir)
  mkdir -p "$dir" && { [[ $(id -u) != 0 ]] || chown postgres "$dir"; }
  for n in 0 1 2; do
    dd=$dir/node$n
    rt_as_postgres "$CITUS_BINDIR/initdb" -D "$dd" -A trust -U postgres -E UTF8 --locale=C.UTF-8 >"$dir/initdb$n.log" 2>&1 || {
      cat "$dir/initdb$n.log" >&2; return 1; }
    {
      echo "port = $(citus_port "$n")"
      echo "listen_addresses = ''"
      echo "unix_socket_directories = '$dir'"
      echo "shared_preload_libraries = 'citus,pg_retention'"
      echo "max_worker_processes = 24"
      echo "max_connections = 200"
      echo "max_prepared_transactions = 100"
      echo "wal_level = logical"
      echo "timezone = 'UTC'"
      echo "log_timezone = 'UTC'"
      echo "citus.node_conninfo = 'sslmode=disable'"
      echo "retention.enabled = off"
      echo "log_line_prefix = '%m [%p] node$n %b %d: '"
      local line; for line in "$@"; do echo "$line"; done
    } | rt_as_postgres tee -a "$dd/postgresql.conf" >/dev/null
    rt_as_postgres "$CITUS_BINDIR/pg_ctl" -D "$dd" -l "$dir/node$n.log" -w -t 60 start >/dev/null || {
      tail -n 20 "$dir/node$n.log" >&2; return 1; }
  done
}

# citus_cluster_stop DIR: stops the three nodes started in DIR, if they run.
citus_cluster_stop() {
  local dir=$1 n bindir; bindir=$("$(rt_pg_config)" --bindir)
  for n in 2 1 0; do
    [[ -f $dir/node$n/postmaster.pid ]] && rt_as_postgres "$bindir/pg_ctl" -D "$dir/node$n" -m fast stop >/dev/null 2>&1
  done
  return 0
}

# citus_database DB: creates database DB on every node with the citus extension, joins the workers
# (Citus keeps its node list per database) and creates pg_retention on the coordinator, which Citus
# propagates to the workers.
citus_database() {
  local db=$1 n
  for n in 0 1 2; do
    citus_psql "$n" postgres -c "CREATE DATABASE $db" && citus_psql "$n" "$db" -c "CREATE EXTENSION citus" || return 1
  done
  citus_psql 0 "$db" -c "SELECT citus_set_coordinator_host('$CITUS_DIR', $(citus_port 0))" \
    -c "SELECT citus_add_node('$CITUS_DIR', $(citus_port 1))" -c "SELECT citus_add_node('$CITUS_DIR', $(citus_port 2))" \
    -c "CREATE EXTENSION pg_retention" >/dev/null
}
