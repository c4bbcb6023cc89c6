# A throw-away PostgreSQL server for the tests (sourced by .ci/run; usable by hand):
#   . .ci/postgres.sh && pg_start   -> exports RNNLAB_TEST_POSTGRES_URL
#   pg_stop                         -> stops it and removes its data directory
# Debian's postgresql (binaries under /usr/lib/postgresql/<version>/bin). The server refuses to
# run as root, so as root everything runs as the `postgres` user; data, socket and log live in a
# temporary directory; it listens on 127.0.0.1 on a free port with trust authentication (local
# tests only).

pg_bin() {
  local d
  for d in /usr/lib/postgresql/*/bin; do
    [ -x "$d/pg_ctl" ] && { echo "$d"; return 0; }
  done
  command -v pg_ctl >/dev/null 2>&1 && { dirname "$(command -v pg_ctl)"; return 0; }
  return 1
}

pg_as() {  # run a server command as the postgres user when we are root
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

pg_start() {
  PG_BIN="$(pg_bin)" || { echo "PostgreSQL is not installed (apt-get install postgresql)" >&2; return 1; }
  PG_DIR="$(mktemp -d /tmp/rnnlab-pg.XXXXXX)"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
  PG_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U postgres -E UTF8 >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off" start >/dev/null \
    || { cat "$PG_DIR/server.log" >&2; return 1; }
  pg_as "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U postgres rnnlab_test || return 1
  export RNNLAB_TEST_POSTGRES_URL="postgresql://postgres@127.0.0.1:$PG_PORT/rnnlab_test"
  echo "== PostgreSQL $("$PG_BIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PG_PORT (data in $PG_DIR)"
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] || return 0
  if [ -d "$PG_DIR/data" ]; then
    pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w -t 60 stop >/dev/null 2>&1 || true
  fi
  rm -rf "$PG_DIR"
  PG_DIR=""
}
