#!/usr/bin/env bash
# Make Debian's Chromium available for the catalog site's browser tests (tests/integration/test_site_browser.py).
#
# Idempotent: installs the Debian `chromium` package if no `chromium` binary is on the PATH, then checks that it
# starts headless and prints its path on stdout (for MESHLAKE_CHROMIUM). Playwright drives it through
# `executable_path`; `playwright install` (which downloads a browser build) is never run.
set -euo pipefail

log() { echo "chromium.sh: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
    as_root() { "$@"; }
else
    command -v sudo >/dev/null || die "not root and no sudo: cannot install Chromium"
    as_root() { sudo "$@"; }
fi

if ! command -v chromium >/dev/null; then
    log "installing Chromium (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q >&2
    as_root apt-get install -y -q chromium >&2
fi

BINARY="$(command -v chromium)" || die "no chromium binary after installing the package"
# A headless start that prints the DOM of an empty page proves the binary and its libraries work.
if ! timeout 60 "$BINARY" --headless --no-sandbox --disable-gpu --dump-dom about:blank >/dev/null 2>&1; then
    die "$BINARY does not start headless"
fi
log "$("$BINARY" --version 2>/dev/null || echo chromium) ready"
echo "$BINARY"
