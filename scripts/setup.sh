#!/usr/bin/env bash
# Installs everything surveillx-gst needs on Debian 12 (run as root). The
# face recognition model is fetched and converted after the build
# (scripts/fetch-models.sh, which scripts/build.sh runs). Safe to run again.
set -euo pipefail

export DEBIAN_FRONTEND=noninteractive
packages=(
  # build
  meson ninja-build pkg-config gcc g++ clang-format
  # GStreamer 1.22 with webrtcbin and libnice
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-nice gstreamer1.0-libav
  # libraries
  libglib2.0-dev libsoup-3.0-dev libjson-glib-dev libpq-dev
  # dlib, its 68-point landmark model, and a fast BLAS: Debian's dlib calls
  # libblas.so.3; the reference BLAS makes a face descriptor ~15x slower
  # (docs/performance.md), OpenBLAS takes over libblas.so.3 by alternatives.
  libdlib-dev libdlib-data libopenblas0-pthread
  # model download (npm pack) and tests
  postgresql iproute2
  python3-flask-socketio python3-eventlet python3-socketio python3-websocket
  python3-psycopg2 python3-aiortc python3-numpy
  # bench/: the Python design's baseline and the load generator's video
  python3-fastapi python3-uvicorn python3-opencv gir1.2-gst-plugins-bad-1.0
  chromium
  # attendancesink tests drive appsrc with face metas from Python
  python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# npm comes with the machine's Node.js where there is one; Debian's otherwise.
command -v npm >/dev/null || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Make sure OpenBLAS, not the reference BLAS, answers libblas.so.3.
blas=$(update-alternatives --query libblas.so.3-x86_64-linux-gnu 2>/dev/null | awk '/^Value:/ {print $2}')
case "$blas" in
  *openblas*) ;;
  *) update-alternatives --set libblas.so.3-x86_64-linux-gnu \
       /usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3 ;;
esac
echo "setup: libblas.so.3 -> $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"
