#!/usr/bin/env bash
# start.sh [PORT]: serves the seeded engine on 127.0.0.1:PORT in the background and
# returns once it answers ("<engine> ready at URL"). PORT: the argument, else the
# engine's FORUM_<ENGINE>_PORT, else its default (engine.env).
source "$(dirname "$0")/../lib.sh"
engine_start "$(dirname "$0")" "${1:-}"
