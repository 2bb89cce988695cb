#!/usr/bin/env bash
# Make Redis (Streams) available for meshlake's stream tests, bound to 127.0.0.1 only.
#
# Idempotent: installs Debian's `redis-server` if it is missing, then starts one server on
# 127.0.0.1:${MESHLAKE_REDIS_PORT:-6379} (no persistence) unless one already answers there, and checks that it
# listens on the loopback address and nowhere else. The integration tests start their own servers on free
# ports (tests/stream_services.py); this one is for `meshlake stream` by hand: redis://127.0.0.1:6379/0/KEY.
set -euo pipefail

PORT="${MESHLAKE_REDIS_PORT:-6379}"
WAIT_SECONDS="${MESHLAKE_REDIS_WAIT_SECONDS:-30}"

log() { echo "redis.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
if [ "$(id -u)" -eq 0 ]; then as_root() { "$@"; }; else as_root() { sudo "$@"; }; fi

if ! command -v redis-server >/dev/null; then
    log "installing redis-server (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q >&2
    as_root apt-get install -y -q redis-server >&2
fi

listeners() { ss -ltnH "sport = :$PORT" | awk '{print $4}'; }

if [ -z "$(listeners)" ]; then
    log "starting redis-server on 127.0.0.1:$PORT"
    as_root redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --logfile /tmp/meshlake-redis.log --dir /tmp >&2
    deadline=$((SECONDS + WAIT_SECONDS))
    until [ -n "$(listeners)" ]; do
        [ "$SECONDS" -lt "$deadline" ] || die "redis-server did not listen on 127.0.0.1:$PORT within ${WAIT_SECONDS}s; see /tmp/meshlake-redis.log"
        sleep 0.2
    done
fi

others="$(listeners | grep -v "^127\.0\.0\.1:$PORT$" || true)"
[ -z "$others" ] || die "something listens on port $PORT beyond 127.0.0.1: $others"
echo "Redis ready: redis://127.0.0.1:$PORT"
