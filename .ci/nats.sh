#!/usr/bin/env bash
# Make NATS JetStream available for meshlake's stream tests, bound to 127.0.0.1 only.
#
# Idempotent: installs Debian's `nats-server` if it is missing, then starts one JetStream server on
# 127.0.0.1:${MESHLAKE_NATS_PORT:-4222} (store under ${MESHLAKE_NATS_STORE:-/var/lib/meshlake-nats}) unless one
# already answers there, and checks that it listens on the loopback address and nowhere else.
# The integration tests start their own servers on free ports (tests/stream_services.py); this one is for
# `meshlake stream` by hand and the demo: nats://127.0.0.1:4222.
set -euo pipefail

PORT="${MESHLAKE_NATS_PORT:-4222}"
STORE="${MESHLAKE_NATS_STORE:-/var/lib/meshlake-nats}"
WAIT_SECONDS="${MESHLAKE_NATS_WAIT_SECONDS:-30}"

log() { echo "nats.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }
if [ "$(id -u)" -eq 0 ]; then as_root() { "$@"; }; else as_root() { sudo "$@"; }; fi
PATH="$PATH:/usr/sbin:/sbin"

if ! command -v nats-server >/dev/null; then
    log "installing nats-server (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q >&2
    as_root apt-get install -y -q nats-server >&2
fi

listeners() { ss -ltnH "sport = :$PORT" | awk '{print $4}'; }

if [ -z "$(listeners)" ]; then
    as_root mkdir -p "$STORE"
    log "starting nats-server -js on 127.0.0.1:$PORT"
    as_root nohup nats-server -js -a 127.0.0.1 -p "$PORT" -sd "$STORE" >"$STORE/nats.log" 2>&1 &
    deadline=$((SECONDS + WAIT_SECONDS))
    until [ -n "$(listeners)" ]; do
        [ "$SECONDS" -lt "$deadline" ] || die "nats-server did not listen on 127.0.0.1:$PORT within ${WAIT_SECONDS}s; see $STORE/nats.log"
        sleep 0.2
    done
fi

# Listening on anything but 127.0.0.1 is refused: the broker must not be reachable from outside.
others="$(listeners | grep -v "^127\.0\.0\.1:$PORT$" || true)"
[ -z "$others" ] || die "something listens on port $PORT beyond 127.0.0.1: $others"
echo "NATS JetStream ready: nats://127.0.0.1:$PORT"
