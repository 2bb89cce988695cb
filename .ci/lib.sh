# Shared by the .ci/ service scripts (sourced, not run): logging, root, Debian packages, loopback listeners.
#
# Set CI_NAME before sourcing; every message goes to stderr as "$CI_NAME: …" (stdout is left for what a script
# prints for its caller, such as a binary's path).

log() { echo "${CI_NAME:-ci}: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

if [ "$(id -u)" -eq 0 ]; then
    as_root() { "$@"; }
else
    as_root() {
        command -v sudo >/dev/null || die "not root and no sudo: cannot run $1"
        sudo "$@"
    }
fi
PATH="$PATH:/usr/sbin:/sbin"

# apt_install PACKAGE…: install Debian packages, quietly, without prompts.
apt_install() {
    log "installing $* (apt-get)"
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get update -q >&2
    as_root apt-get install -y -q "$@" >&2
}

# listeners PORT: the local addresses listening on TCP PORT, one per line.
listeners() { ss -ltnH "sport = :$1" | awk '{print $4}'; }

# wait_listening PORT SECONDS LOGFILE: wait until something listens on PORT, or fail pointing at LOGFILE.
wait_listening() {
    local deadline=$((SECONDS + $2))
    until [ -n "$(listeners "$1")" ]; do
        [ "$SECONDS" -lt "$deadline" ] || die "nothing listened on 127.0.0.1:$1 within $2 s; see $3"
        sleep 0.2
    done
}

# loopback_only PORT: fail when anything listens on PORT beyond 127.0.0.1 (services must not be reachable
# from outside this machine).
loopback_only() {
    local others
    others="$(listeners "$1" | grep -v "^127\.0\.0\.1:$1$" || true)"
    [ -z "$others" ] || die "something listens on port $1 beyond 127.0.0.1: $others"
}
