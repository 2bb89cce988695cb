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

CI_NAME=redis.sh
. "$(dirname "$0")/lib.sh"

command -v redis-server >/dev/null || apt_install redis-server

if [ -z "$(listeners "$PORT")" ]; then
    log "starting redis-server on 127.0.0.1:$PORT"
    as_root redis-server --port "$PORT" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
        --logfile /tmp/meshlake-redis.log --dir /tmp >&2
    wait_listening "$PORT" "$WAIT_SECONDS" /tmp/meshlake-redis.log
fi
loopback_only "$PORT"
echo "Redis ready: redis://127.0.0.1:$PORT"
