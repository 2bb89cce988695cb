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

CI_NAME=nats.sh
. "$(dirname "$0")/lib.sh"

command -v nats-server >/dev/null || apt_install nats-server

if [ -z "$(listeners "$PORT")" ]; then
    as_root mkdir -p "$STORE"
    log "starting nats-server -js on 127.0.0.1:$PORT"
    as_root nohup nats-server -js -a 127.0.0.1 -p "$PORT" -sd "$STORE" >"$STORE/nats.log" 2>&1 &
    wait_listening "$PORT" "$WAIT_SECONDS" "$STORE/nats.log"
fi
loopback_only "$PORT"
echo "NATS JetStream ready: nats://127.0.0.1:$PORT"
