# Shared helpers for the forum engines under tests/forums/ (sourced, not run).
#
# Every engine keeps its venv, database and logs under $GOMTIN_FORUMS/<engine>
# (default /tmp/gomtin-forums), so the repository stays clean and a second setup.sh
# reuses the venv. Each engine directory has an engine.env (name, Python it needs, the
# variable its seed.py reads its home from, the WSGI app gunicorn serves, default port)
# and thin setup/seed/start/stop/add_reply scripts that call the engine_* functions below.

set -euo pipefail

FORUMS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
GOMTIN_FORUMS="${GOMTIN_FORUMS:-/tmp/gomtin-forums}"
export GOMTIN_FORUMS
# the seed scripts and apps import modules from this directory: no __pycache__ in the tree
export PYTHONDONTWRITEBYTECODE=1

say() { printf '[forums] %s\n' "$*" >&2; }
die() { printf '[forums] ERROR: %s\n' "$*" >&2; exit 1; }

# engine_home NAME: the engine's cache directory (created).
engine_home() {
    local dir="$GOMTIN_FORUMS/$1"
    mkdir -p "$dir"
    printf '%s\n' "$dir"
}

# python_at_least MAJOR.MINOR: prints a python interpreter of that version or newer.
# $FORUMS_PYTHON wins; then python3.N on PATH (pyenv shims that refuse are skipped);
# then pyenv's own versions directory.
python_at_least() {
    local want="$1" cand
    local -a cands=()
    [ -n "${FORUMS_PYTHON:-}" ] && cands+=("$FORUMS_PYTHON")
    cands+=(python3 python3.12 python3.13 python3.14)
    local root="${PYENV_ROOT:-$HOME/.pyenv}"
    for cand in "$root"/versions/3.*/bin/python3; do
        [ -x "$cand" ] && cands+=("$cand")
    done
    for cand in "${cands[@]}"; do
        if "$cand" -c "import sys; sys.exit(0 if sys.version_info[:2] >= tuple(map(int, '$want'.split('.'))) else 1)" >/dev/null 2>&1; then
            "$cand" -c 'import sys; print(sys.executable)'
            return 0
        fi
    done
    return 1
}

# ensure_venv DIR PYTHON REQUIREMENTS: creates DIR (a venv) and installs the pinned
# requirements, unless DIR/.installed already records the same requirements file.
ensure_venv() {
    local venv="$1" python="$2" reqs="$3"
    local stamp="$venv/.installed"
    local want
    want="$("$python" --version 2>&1) $(sha256sum "$reqs" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$venv/bin/python" ]; then
        say "venv $venv is up to date"
        return 0
    fi
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
        --no-input -r "$reqs"
    printf '%s\n' "$want" >"$stamp"
}

# free_port: an unused TCP port on 127.0.0.1.
free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_http URL SECONDS PIDFILE: waits until URL answers 200, or fails (with the log
# hint) when the time is up or the process in PIDFILE has exited.
wait_http() {
    local url="$1" secs="$2" pidfile="$3"
    local deadline=$((SECONDS + secs))
    while [ "$SECONDS" -lt "$deadline" ]; do
        if python3 - "$url" <<'PY' 2>/dev/null; then
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=5) as r:
    sys.exit(0 if r.status == 200 else 1)
PY
            return 0
        fi
        if [ -f "$pidfile" ] && ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then
            return 1
        fi
        sleep 0.3
    done
    return 1
}

# stop_pidfile PIDFILE: stops the process group this tooling started (and only it).
stop_pidfile() {
    local pidfile="$1" pid
    [ -f "$pidfile" ] || return 0
    pid="$(cat "$pidfile")"
    # only a server these scripts started: a pid from an old run may belong to someone else
    if kill -0 "$pid" 2>/dev/null && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q gunicorn; then
        kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL -- "-$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

# port_arg ARG ENVVAR DEFAULT: the port from the first argument, else the env var, else
# the default.
port_arg() {
    local arg="${1:-}" env="${2:-}" def="$3"
    if [ -n "$arg" ]; then printf '%s\n' "$arg"
    elif [ -n "$env" ]; then printf '%s\n' "$env"
    else printf '%s\n' "$def"; fi
}

# load_engine DIR: reads DIR/engine.env and sets ENGINE_DIR and HOME_DIR.
load_engine() {
    ENGINE_DIR="$(cd "$1" && pwd)"
    # shellcheck source=/dev/null
    source "$ENGINE_DIR/engine.env"
    HOME_DIR="$(engine_home "$ENGINE")"
    export "$ENGINE_HOME_VAR=$HOME_DIR"
}

engine_python() { printf '%s\n' "$HOME_DIR/venv/bin/python"; }

# engine_setup DIR: installs the engine's pinned requirements into its venv.
engine_setup() {
    load_engine "$1"
    local py
    py="$(python_at_least "$ENGINE_PYTHON_MIN")" \
        || die "$ENGINE needs Python >= $ENGINE_PYTHON_MIN: none found (set FORUMS_PYTHON)"
    say "$ENGINE: installing with $py"
    ensure_venv "$HOME_DIR/venv" "$py" "$ENGINE_DIR/requirements.txt"
    "$(engine_python)" -c "import gunicorn; from importlib.metadata import version; print(version('$ENGINE_DIST'))" \
        >"$HOME_DIR/version" || die "$ENGINE: import failed after install"
    say "$ENGINE: installed $ENGINE_DIST $(cat "$HOME_DIR/version")"
}

# engine_seed DIR: recreates the database with ../content.py, writes the manifest to
# $HOME_DIR/expected.json. The server should be stopped (ci.sh seeds before starting).
engine_seed() {
    load_engine "$1"
    [ -x "$(engine_python)" ] || die "$ENGINE: not installed (run setup.sh)"
    (cd "$ENGINE_DIR" && "$(engine_python)" -W ignore seed.py seed "$HOME_DIR/expected.json") \
        >"$HOME_DIR/seed.log" 2>&1 \
        || { tail -n 40 "$HOME_DIR/seed.log" >&2; die "$ENGINE: seeding failed"; }
    say "$ENGINE: seeded, manifest $HOME_DIR/expected.json"
}

# engine_start DIR [PORT]: serves the seeded engine on 127.0.0.1:PORT (gunicorn, one
# worker, four threads) in its own process group, and returns once it answers.
engine_start() {
    load_engine "$1"
    local port url
    port="$(port_arg "${2:-}" "${!ENGINE_PORT_VAR:-}" "$ENGINE_DEFAULT_PORT")"
    [ -f "$HOME_DIR/expected.json" ] || die "$ENGINE: not seeded (run seed.sh)"
    stop_pidfile "$HOME_DIR/server.pid"
    url="http://127.0.0.1:$port"
    (
        cd "$ENGINE_DIR"
        PYTHONWARNINGS=ignore exec setsid "$HOME_DIR/venv/bin/gunicorn" \
            --bind "127.0.0.1:$port" --workers 1 --threads 4 --timeout 60 \
            --control-socket "$HOME_DIR/gunicorn.ctl" \
            "$ENGINE_WSGI" </dev/null >"$HOME_DIR/server.log" 2>&1
    ) &
    echo $! >"$HOME_DIR/server.pid"
    echo "$port" >"$HOME_DIR/port"
    if ! wait_http "$url$ENGINE_READY_PATH" 60 "$HOME_DIR/server.pid"; then
        tail -n 40 "$HOME_DIR/server.log" >&2
        die "$ENGINE: did not come up on $url"
    fi
    echo "$ENGINE ready at $url"
}

# engine_stop DIR: stops the server engine_start started (by its pid file only).
engine_stop() {
    load_engine "$1"
    stop_pidfile "$HOME_DIR/server.pid"
}

# engine_add_reply DIR THREAD TEXT [AUTHOR]: a new reply, timed now, at the end of THREAD;
# prints it as one JSON line.
engine_add_reply() {
    load_engine "$1"
    shift
    [ $# -ge 2 ] || die "usage: add_reply.sh THREAD TEXT [AUTHOR]"
    (cd "$ENGINE_DIR" && "$(engine_python)" -W ignore seed.py add-reply "$@") \
        2>>"$HOME_DIR/seed.log" || die "$ENGINE: add_reply failed (see $HOME_DIR/seed.log)"
}
