#!/usr/bin/env bash
# Recreates this engine's database with ../content.py (through the engine's own models and
# forms) and writes the manifest to $GOMTIN_FORUMS/<engine>/expected.json. Run it with the
# server stopped (ci.sh does: setup, seed, start).
source "$(dirname "$0")/../lib.sh"
engine_seed "$(dirname "$0")"
