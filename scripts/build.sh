#!/usr/bin/env bash
# Configures (once) and builds into BUILD_DIR (default: build), then makes
# sure the converted face model is there. Extra arguments go to meson setup.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build_dir=${1:-build}
shift || true
cd "$top"
if [ ! -f "$build_dir/build.ninja" ]; then
  meson setup "$build_dir" "$@" >/dev/null
fi
# Two cores: one dlib compile at a time keeps memory and time predictable.
ninja -C "$build_dir" -j "$(nproc)"
scripts/fetch-models.sh "$build_dir" >/dev/null
