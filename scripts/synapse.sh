#!/usr/bin/env bash
# A throwaway Synapse (the reference Matrix homeserver) for the Matrix
# adapter's end-to-end test: installed from PyPI into a venv under target/,
# run on SQLite, listening on 127.0.0.1 only, no federation, registration
# only by shared secret, rate limits relaxed.
#
#   scripts/synapse.sh install        # venv at target/synapse-venv (once)
#   scripts/synapse.sh start DIR      # config, keys, database in DIR; prints the URL
#   scripts/synapse.sh register DIR USER PASSWORD   # a user, by shared secret
#   scripts/synapse.sh stop DIR
#
# After start, DIR/url holds the client API base URL and DIR/shared_secret
# the registration shared secret.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION="1.163.2"
VENV="${SYNAPSE_VENV:-$ROOT/target/synapse-venv}"
PY="$VENV/bin/python"

install() {
    if [[ -x "$PY" ]] && "$PY" -c "import sys; from importlib.metadata import version; sys.exit(version('matrix-synapse') != '$VERSION')" 2>/dev/null; then
        return
    fi
    echo "== installing matrix-synapse $VERSION into $VENV"
    python3 -m venv "$VENV"
    "$PY" -m pip install --quiet --disable-pip-version-check "matrix-synapse==$VERSION"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Generates Synapse's own full config (secrets, signing key, log config),
# then overrides what the test needs.
configure() {
    local dir="$1" port="$2"
    (cd "$dir" && "$PY" -m synapse.app.homeserver --server-name localhost \
        --config-path "$dir/homeserver.yaml" --data-directory "$dir" \
        --generate-config --report-stats=no >/dev/null)
    "$PY" - "$dir" "$port" <<'PYEOF'
import sys, yaml
dir, port = sys.argv[1], int(sys.argv[2])
path = f"{dir}/homeserver.yaml"
with open(path) as f:
    cfg = yaml.safe_load(f)
fast = {"per_second": 1000, "burst_count": 1000}
cfg.update({
    "listeners": [{"port": port, "tls": False, "type": "http", "x_forwarded": False,
                   "bind_addresses": ["127.0.0.1"],
                   "resources": [{"names": ["client"], "compress": False}]}],
    "database": {"name": "sqlite3", "args": {"database": f"{dir}/homeserver.db"}},
    "enable_registration": False,
    "federation_domain_whitelist": [],
    "trusted_key_servers": [],
    "suppress_key_server_warning": True,
    "report_stats": False,
    "presence": {"enabled": False},
    "rc_message": fast,
    "rc_registration": fast,
    "rc_login": {"address": fast, "account": fast, "failed_attempts": fast},
    "rc_joins": {"local": fast, "remote": fast},
    "rc_joins_per_room": fast,
    "rc_invites": {"per_room": fast, "per_user": fast, "per_issuer": fast},
    "rc_admin_redaction": fast,
})
with open(path, "w") as f:
    yaml.safe_dump(cfg, f)
with open(f"{dir}/shared_secret", "w") as f:
    f.write(cfg["registration_shared_secret"])
PYEOF
    # Warnings and errors only, to a file: the test's output stays readable.
    sed -i 's/level: INFO/level: WARNING/; s#filename: .*#filename: '"$dir"'/homeserver.log#' "$dir/localhost.log.config"
}

start() {
    local dir
    dir="$(mkdir -p "$1" && cd "$1" && pwd)"
    install
    local port
    port="$(free_port)"
    configure "$dir" "$port"
    "$PY" -m synapse.app.homeserver --config-path "$dir/homeserver.yaml" >"$dir/stdout.log" 2>&1 &
    echo $! >"$dir/synapse.pid"
    local url="http://127.0.0.1:$port"
    for _ in $(seq 1 300); do
        if curl -fsS "$url/_matrix/client/versions" >/dev/null 2>&1; then
            echo "$url" >"$dir/url"
            echo "$url"
            return
        fi
        if ! kill -0 "$(cat "$dir/synapse.pid")" 2>/dev/null; then
            echo "error: synapse exited; see $dir/stdout.log" >&2
            tail -n 30 "$dir/stdout.log" >&2
            exit 1
        fi
        sleep 0.2
    done
    echo "error: synapse did not answer on $url within 60 s" >&2
    exit 1
}

stop() {
    local pidfile="$1/synapse.pid"
    [[ -f "$pidfile" ]] || return 0
    local pid
    pid="$(cat "$pidfile")"
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    kill -9 "$pid" 2>/dev/null || true
    rm -f "$pidfile"
}

# Retried: right after start, Synapse may still refuse a registration.
register() {
    local dir="$1" user="$2" password="$3" attempt
    for attempt in 1 2 3; do
        if "$VENV/bin/register_new_matrix_user" --user "$user" --password "$password" --no-admin \
            --shared-secret "$(cat "$dir/shared_secret")" "$(cat "$dir/url")"; then
            return
        fi
        echo "registering $user failed (attempt $attempt)" >&2
        sleep 1
    done
    return 1
}

case "${1:-}" in
    install) install ;;
    start) start "${2:?usage: synapse.sh start DIR}" ;;
    register) register "${2:?}" "${3:?}" "${4:?}" ;;
    stop) stop "${2:?usage: synapse.sh stop DIR}" ;;
    *) echo "usage: $0 install | start DIR | register DIR USER PASSWORD | stop DIR" >&2; exit 2 ;;
esac
