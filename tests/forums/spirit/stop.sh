#!/usr/bin/env bash
# Stops the server start.sh started (by its pid file, nothing else).
source "$(dirname "$0")/../lib.sh"
engine_stop "$(dirname "$0")"
