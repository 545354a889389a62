#!/usr/bin/env bash
# add_reply.sh THREAD TEXT [AUTHOR]: adds a reply, timed now, at the end of THREAD (a
# thread key from ../content.py such as ngap-lut, or the engine's topic id), while the
# server runs, and prints the new post as one JSON line (id, page, anchor, url, created).
source "$(dirname "$0")/../lib.sh"
engine_add_reply "$(dirname "$0")" "$@"
