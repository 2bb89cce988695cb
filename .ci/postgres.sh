#!/usr/bin/env bash
# Make a local PostgreSQL server available for meshlake's integration tests.
#
# Idempotent: installs the Debian `postgresql` package if it is missing, starts the newest installed
# cluster (creating `<major> main` if none exists), ensures a SUPERUSER role `meshlake` (password
# `meshlake`, so tests can create one database per session) and a database `meshlake_test`, then waits
# until the server accepts password logins over TCP on 127.0.0.1.
#
# The tests read MESHLAKE_TEST_POSTGRES_URL, defaulting to
#   postgresql+psycopg2://meshlake:meshlake@127.0.0.1:5432/meshlake_test
# Environment: MESHLAKE_PG_USER, MESHLAKE_PG_PASSWORD, MESHLAKE_PG_DB override the names above;
# MESHLAKE_PG_WAIT_SECONDS (default 60) bounds the wait.
set -euo pipefail

PG_USER="${MESHLAKE_PG_USER:-meshlake}"
PG_PASSWORD="${MESHLAKE_PG_PASSWORD:-meshlake}"
PG_DB="${MESHLAKE_PG_DB:-meshlake_test}"
WAIT_SECONDS="${MESHLAKE_PG_WAIT_SECONDS:-60}"

CI_NAME=postgres.sh
. "$(dirname "$0")/lib.sh"
if [ "$(id -u)" -eq 0 ]; then
    as_postgres() { (cd /tmp && runuser -u postgres -- "$@"); }
else
    as_postgres() { (cd /tmp && sudo -u postgres "$@"); }
fi

# 1. Install (only when the server binaries are missing).
if ! command -v pg_lsclusters >/dev/null || ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql
fi

# 2. Pick the newest installed major version; create its `main` cluster if it has none.
PG_VERSION="$( (find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null || true) | sort -V | tail -n 1)"
[ -n "$PG_VERSION" ] || die "no PostgreSQL version under /usr/lib/postgresql"
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $2 == "main" {found=1} END {exit !found}'; then
    log "creating cluster $PG_VERSION main"
    as_root pg_createcluster "$PG_VERSION" main >&2
fi
PG_PORT="$(pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $2 == "main" {print $3}')"

# 3. Start it unless it is already online.
if ! pg_lsclusters -h | awk -v v="$PG_VERSION" '$1 == v && $2 == "main" && $4 ~ /^online/ {found=1} END {exit !found}'; then
    log "starting cluster $PG_VERSION main"
    as_root pg_ctlcluster "$PG_VERSION" main start >&2
fi

# 4. Wait for the local socket, then create/refresh the role and the database.
deadline=$((SECONDS + WAIT_SECONDS))
until as_postgres pg_isready -q -p "$PG_PORT"; do
    [ "$SECONDS" -lt "$deadline" ] || die "cluster $PG_VERSION main did not start within ${WAIT_SECONDS}s; see /var/log/postgresql/postgresql-$PG_VERSION-main.log"
    sleep 0.5
done

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PG_PORT" -d postgres "$@"; }

if [ "$(psql_admin -tA -c "SELECT 1 FROM pg_roles WHERE rolname = '$PG_USER'")" != "1" ]; then
    psql_admin -c "CREATE ROLE \"$PG_USER\" LOGIN SUPERUSER PASSWORD '$PG_PASSWORD'"
else
    psql_admin -c "ALTER ROLE \"$PG_USER\" LOGIN SUPERUSER PASSWORD '$PG_PASSWORD'"
fi
if [ "$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$PG_DB'")" != "1" ]; then
    psql_admin -c "CREATE DATABASE \"$PG_DB\" OWNER \"$PG_USER\""
fi

# 5. Prove a password login over TCP works (what the tests do).
until PGPASSWORD="$PG_PASSWORD" psql -X -q -h 127.0.0.1 -p "$PG_PORT" -U "$PG_USER" -d "$PG_DB" \
        -tA -c "SELECT 1" >/dev/null 2>&1; do
    [ "$SECONDS" -lt "$deadline" ] || die "PostgreSQL $PG_VERSION does not accept password logins for $PG_USER on 127.0.0.1:$PG_PORT"
    sleep 0.5
done

echo "PostgreSQL $PG_VERSION ready: postgresql+psycopg2://$PG_USER:***@127.0.0.1:$PG_PORT/$PG_DB"
