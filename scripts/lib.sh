# scripts/lib.sh: shell helpers shared by scripts/test, scripts/demo and the benchmarks.
# Source it; it defines functions only.

# Packages a fresh Debian machine needs to build and test pg_retention.
RT_PACKAGES=(postgresql-15 postgresql-server-dev-15 libsodium-dev libipc-run-perl postgresql-contrib)

# Packages the TAP tests of operations need: the exporter that tests/t/700 starts against
# contrib/prometheus/queries.yaml, and the browser in which tests/t/701 renders the HTML report.
RT_TEST_PACKAGES=(prometheus-postgres-exporter chromium)

# Packages of the fuzzing (scripts/fuzz) and memory (scripts/test-memory) checks of scripts/test,
# and pg_partman, whose partition sets TAP 501 runs policies on.
RT_CHECK_PACKAGES=(clang libclang-rt-14-dev valgrind postgresql-15-partman)

# Packages of the Debian package's build, lint and autopkgtest (scripts/test-package): debhelper and
# postgresql-all are debian/control's Build-Depends, postgresql-server-dev-all has pg_buildext.
RT_DEB_PACKAGES=(debhelper postgresql-all postgresql-server-dev-all lintian)

# rt_ensure_packages PKG...: installs the missing Debian packages (as root), or says what is missing.
rt_ensure_packages() {
  local missing=() p
  for p in "$@"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
  done
  ((${#missing[@]} == 0)) && return 0
  if [[ $(id -u) != 0 ]]; then
    echo "missing packages: ${missing[*]} (run as root, or install them first)" >&2
    return 1
  fi
  echo "installing ${missing[*]} ..."
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
}

# rt_pg_config: the pg_config to build against (PG_CONFIG, else PostgreSQL 15's).
rt_pg_config() {
  if [[ -n ${PG_CONFIG:-} ]]; then echo "$PG_CONFIG"
  elif [[ -x /usr/lib/postgresql/15/bin/pg_config ]]; then echo /usr/lib/postgresql/15/bin/pg_config
  else command -v pg_config; fi
}

# rt_as_postgres CMD...: runs CMD as the postgres OS user when we are root, else as ourselves.
rt_as_postgres() {
  if [[ $(id -u) == 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi
}

# rt_free_port: prints a TCP port nobody listens on.
rt_free_port() {
  local port
  for port in $(seq 54400 54499); do
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && [[ ! -e /tmp/.s.PGSQL.$port ]]; then
      echo "$port"; return 0
    fi
  done
  return 1
}

# rt_cluster_start DIR PORT [CONF...]: creates and starts a throwaway cluster in DIR (socket in DIR).
rt_cluster_start() {
  local dir=$1 port=$2; shift 2
  local bindir; bindir=$("$(rt_pg_config)" --bindir)
  mkdir -p "$dir" && { [[ $(id -u) != 0 ]] || chown postgres "$dir"; }
  rt_as_postgres "$bindir/initdb" -D "$dir/data" -A trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2; return 1; }
  {
    echo "port = $port"
    echo "unix_socket_directories = '$dir'"
    echo "listen_addresses = ''"
    echo "timezone = 'UTC'"
    echo "log_timezone = 'UTC'"
    local line; for line in "$@"; do echo "$line"; done
  } >>"$dir/data/postgresql.conf"
  rt_as_postgres "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w start >/dev/null || {
    tail -n 20 "$dir/server.log" >&2; return 1; }
}

# rt_cluster_stop DIR: stops the cluster started in DIR, if it runs.
rt_cluster_stop() {
  local dir=$1 bindir; bindir=$("$(rt_pg_config)" --bindir)
  [[ -f $dir/data/postmaster.pid ]] && rt_as_postgres "$bindir/pg_ctl" -D "$dir/data" -m fast stop >/dev/null 2>&1
  return 0
}

# rt_bench_cluster [CONF...]: starts a throwaway cluster for a benchmark in a new work
# directory, stopped and removed when the script exits; sets work, port (PORT or a free
# one), cluster and bindir.
rt_bench_cluster() {
  work=$(mktemp -d /tmp/pg_retention_bench.XXXXXX)
  [[ $(id -u) == 0 ]] && chown postgres "$work"
  port=${PORT:-$(rt_free_port)}
  cluster=$work/cluster
  bindir=$("$(rt_pg_config)" --bindir)
  rt_cluster_start "$cluster" "$port" "$@" || return 1
  trap 'rt_cluster_stop "$cluster"; rm -rf "$work"' EXIT
}

# rt_build_install REPO: builds with warnings as errors and installs the extension.
rt_build_install() {
  local repo=$1 pgc; pgc=$(rt_pg_config)
  make -C "$repo" -s clean PG_CONFIG="$pgc" >/dev/null 2>&1
  make -C "$repo" -s PG_CONFIG="$pgc" PG_CFLAGS="-Wall -Wextra -Werror" >"$repo/build.log" 2>&1 || {
    cat "$repo/build.log" >&2; return 1; }
  make -C "$repo" -s PG_CONFIG="$pgc" install >>"$repo/build.log" 2>&1 || {
    cat "$repo/build.log" >&2; return 1; }
}
