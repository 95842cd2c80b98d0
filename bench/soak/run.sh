#!/usr/bin/env bash
# Connect/disconnect soak of the launcher: CYCLES (default 200) WHIP
# connect/stream/DELETE cycles of one aiortc camera through
# pipelines/preview.pipe, in a network namespace of its own; prints the
# launcher's RSS, open fds and threads every 10 cycles, and the growth
# over the second half. The same run is the launcher-soak test.
#   bench/soak/run.sh [CYCLES]        (after scripts/build.sh build)
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${BUILD_DIR:-$top/build}
export SX_SOAK_CYCLES=${1:-200}
export SURVEILLX_BUILD_ROOT=$build SURVEILLX_SOURCE_ROOT=$top
export SURVEILLX_MODEL_DIR=$top/models GST_PLUGIN_PATH=$build/plugins/gst
exec /usr/bin/python3 "$top/tests/launcher/test_launcher.py" soak
