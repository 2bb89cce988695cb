#!/usr/bin/env bash
# Make Debian's Chromium available for the catalog site's browser tests (tests/integration/test_site_browser.py).
#
# Idempotent: installs the Debian `chromium` package if no `chromium` binary is on the PATH, then checks that it
# starts headless and prints its path on stdout (for MESHLAKE_CHROMIUM). Playwright drives it through
# `executable_path`; `playwright install` (which downloads a browser build) is never run.
set -euo pipefail

CI_NAME=chromium.sh
. "$(dirname "$0")/lib.sh"

command -v chromium >/dev/null || apt_install chromium

BINARY="$(command -v chromium)" || die "no chromium binary after installing the package"
# A headless start that prints the DOM of an empty page proves the binary and its libraries work.
if ! timeout 60 "$BINARY" --headless --no-sandbox --disable-gpu --dump-dom about:blank >/dev/null 2>&1; then
    die "$BINARY does not start headless"
fi
log "$("$BINARY" --version 2>/dev/null || echo chromium) ready"
echo "$BINARY"
