#!/usr/bin/env bash
# The one entry point .ci/run calls: installs, seeds and starts every forum engine under
# tests/forums/, checks each running forum against its manifest, and writes the base URLs
# to $GOMTIN_FORUMS/env (default /tmp/gomtin-forums/env) for the Rust tests.
#
#   ci.sh          set up, seed, start, verify (servers keep running in the background)
#   ci.sh stop     stop the servers an earlier ci.sh started
#
# Ports: FORUM_FLASKBB_PORT / FORUM_SPIRIT_PORT, else a free port each. Fails (non-zero,
# with the engine's log) when an install, a seed, a start or a check fails.
source "$(dirname "$0")/lib.sh"

ENGINES=(flaskbb spirit)
ENV_FILE="$GOMTIN_FORUMS/env"
mkdir -p "$GOMTIN_FORUMS"

upper() { printf '%s' "$1" | tr '[:lower:]' '[:upper:]'; }

for e in "${ENGINES[@]}"; do
    engine_stop "$FORUMS_DIR/$e"
done
if [ "${1:-}" = "stop" ]; then
    rm -f "$ENV_FILE"
    say "stopped"
    exit 0
fi

t0=$SECONDS
rm -f "$ENV_FILE"

# installs run side by side: they wait on the registry and the disk more than the CPU
declare -A setup_pid
for e in "${ENGINES[@]}"; do
    bash "$FORUMS_DIR/$e/setup.sh" >"$GOMTIN_FORUMS/$e-setup.log" 2>&1 &
    setup_pid[$e]=$!
done
failed=0
for e in "${ENGINES[@]}"; do
    if ! wait "${setup_pid[$e]}"; then
        cat "$GOMTIN_FORUMS/$e-setup.log" >&2
        say "$e: setup FAILED"
        failed=1
    fi
done
[ "$failed" = 0 ] || die "forum setup failed"
t_setup=$((SECONDS - t0))

for e in "${ENGINES[@]}"; do
    bash "$FORUMS_DIR/$e/seed.sh"
done
t_seed=$((SECONDS - t0 - t_setup))

{
    echo "# written by tests/forums/ci.sh: the running forum engines"
    echo "GOMTIN_FORUMS=$GOMTIN_FORUMS"
} >"$ENV_FILE.tmp"
for e in "${ENGINES[@]}"; do
    E="$(upper "$e")"
    port_var="FORUM_${E}_PORT"
    port="${!port_var:-$(free_port)}"
    bash "$FORUMS_DIR/$e/start.sh" "$port"
    url="http://127.0.0.1:$port"
    manifest="$GOMTIN_FORUMS/$e/expected.json"
    python3 "$FORUMS_DIR/verify.py" "$manifest" "$url" \
        || die "$e: the running forum does not match its manifest"
    # the committed manifest is what the Rust tests are written against: it must be what
    # this seed produced
    if ! cmp -s "$manifest" "$FORUMS_DIR/$e/expected.json"; then
        diff -u "$FORUMS_DIR/$e/expected.json" "$manifest" | head -n 60 >&2 || true
        die "$e: seeded manifest differs from tests/forums/$e/expected.json"
    fi
    {
        echo "GOMTIN_FORUM_${E}_URL=$url"
        echo "GOMTIN_FORUM_${E}_MANIFEST=$manifest"
        echo "GOMTIN_FORUM_${E}_ADD_REPLY=$FORUMS_DIR/$e/add_reply.sh"
    } >>"$ENV_FILE.tmp"
done
mv "$ENV_FILE.tmp" "$ENV_FILE"
t_all=$((SECONDS - t0))
say "forums up in ${t_all}s (install ${t_setup}s, seed ${t_seed}s, start + verify $((t_all - t_setup - t_seed))s); env: $ENV_FILE"
cat "$ENV_FILE"
