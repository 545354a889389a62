#!/usr/bin/env bash
# Installs this engine (pinned: requirements.txt) into $GOMTIN_FORUMS/<engine>/venv.
# Idempotent: a venv built from the same requirements and Python is kept.
source "$(dirname "$0")/../lib.sh"
engine_setup "$(dirname "$0")"
