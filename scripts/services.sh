# Sourced by scripts/test and .ci/run: makes PostgreSQL and Redis reachable on 127.0.0.1,
# installing and starting them when this machine lacks them and we are allowed to.
#
# Under CI=true an unreachable service is an error; on a developer machine the suites that
# need it are skipped with a note instead.

PG_ADDR=127.0.0.1
PG_PORT=5432
REDIS_PORT=6379

log() { printf '==> %s\n' "$*" >&2; }

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else return 1; fi
}

apt_install() {
    command -v apt-get >/dev/null || return 1
    log "installing $*"
    as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null &&
        as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null
}

pg_up() { command -v pg_isready >/dev/null && pg_isready -q -h "$PG_ADDR" -p "$PG_PORT"; }
redis_up() { command -v redis-cli >/dev/null && [ "$(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

wait_for() {
    local what=$1 check=$2
    for _ in $(seq 1 30); do
        if $check; then return 0; fi
        sleep 1
    done
    log "$what did not come up"
    return 1
}

ensure_postgres() {
    pg_up && return 0
    if ! command -v pg_ctlcluster >/dev/null; then
        apt_install postgresql || return 1
    fi
    local version
    version=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n 1)
    [ -n "$version" ] || { log "no PostgreSQL cluster found"; return 1; }
    log "starting PostgreSQL $version"
    as_root pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
    wait_for PostgreSQL pg_up || return 1
    # A fresh Debian cluster wants a password for TCP logins; the tests connect as `postgres`
    # over loopback without one, as the CI machines are set up.
    local hba="/etc/postgresql/$version/main/pg_hba.conf"
    if ! as_root grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
        log "allowing trusted loopback connections in $hba"
        as_root sed -i '1i host all all 127.0.0.1/32 trust\nhost all all ::1/128 trust' "$hba"
        as_root pg_ctlcluster --skip-systemctl-redirect "$version" main reload
    fi
}

ensure_redis() {
    redis_up && return 0
    if ! command -v redis-server >/dev/null; then
        apt_install redis-server || return 1
    fi
    log "starting Redis"
    as_root mkdir -p /var/lib/redis /var/log/redis
    as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
        --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log || true
    wait_for Redis redis_up
}

# Exports the test URLs for every service that is (or could be made) reachable.
ensure_services() {
    if ensure_postgres; then
        export PORTCULLIS_TEST_DATABASE_URL="${PORTCULLIS_TEST_DATABASE_URL:-postgres://postgres@$PG_ADDR:$PG_PORT/postgres}"
    elif [ "${CI:-}" = true ]; then
        log "PostgreSQL is required under CI=true and could not be reached"; return 1
    else
        log "PostgreSQL unavailable: its test suites will be skipped"
    fi
    if ensure_redis; then
        export PORTCULLIS_TEST_REDIS_URL="${PORTCULLIS_TEST_REDIS_URL:-redis://127.0.0.1:$REDIS_PORT}"
    elif [ "${CI:-}" = true ]; then
        log "Redis is required under CI=true and could not be reached"; return 1
    else
        log "Redis unavailable: its test suites will be skipped"
    fi
}
