#!/usr/bin/env bash
# Runs every test: installs what is missing, checks the sources' style
# (scripts/check-style.sh), builds, fetches the models, runs the whole meson
# test suite, the libFuzzer targets (their seeds and saved
# crash inputs, then FUZZ_SECONDS (15) of fuzzing each; clang build in
# build-fuzz), then the same suite again built with AddressSanitizer +
# UndefinedBehaviorSanitizer.
#   scripts/test.sh            all of it
#   SKIP_SANITIZE=1 scripts/test.sh   without the sanitizer pass (quicker, local only)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

scripts/setup.sh
scripts/check-style.sh
scripts/build.sh build
meson test -C build --print-errorlogs --num-processes 1

scripts/fuzz.sh "${FUZZ_SECONDS:-15}"

if [ "${SKIP_SANITIZE:-0}" != 1 ]; then
  scripts/build.sh build-asan -Db_sanitize=address,undefined -Db_lundef=false
  # GLib and GStreamer keep process-lifetime allocations (type system,
  # registry) that LeakSanitizer would report; memory errors and undefined
  # behaviour still abort the test.
  ASAN_OPTIONS=detect_leaks=0:abort_on_error=1 \
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    meson test -C build-asan --print-errorlogs --num-processes 1
fi
