#!/usr/bin/env bash
# bench/facerecog: per-stage cost, the element against a plain dlib loop over
# the same frames in the same run, and peak RSS with 1 and 8 elements.
#   bench/facerecog/run.sh [BUILD_DIR] [ROUNDS]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
rounds=${2:-3}
faces=${SURVEILLX_TESTDATA:-$top/../shared/testdata}/faces
export SURVEILLX_MODEL_DIR=${SURVEILLX_MODEL_DIR:-$top/models}
export GST_PLUGIN_PATH=$build/plugins/gst
dump=$(mktemp -d)
trap 'rm -rf "$dump"' EXIT

images=("$faces"/bbt1.jpg "$faces"/bbt2.jpg "$faces"/bbt3.jpg "$faces"/bbt4.jpg "$faces"/bbt5.jpg)
echo "BLAS: $(readlink -f /usr/lib/x86_64-linux-gnu/libblas.so.3)"
echo "OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-unset}, cores: $(nproc)"
echo "frames: ${#images[@]} group photos at 640x480, $rounds rounds"
shim=$("$build/bench/bench-facerecog" stages "$rounds" "$dump" "${images[@]}")
echo "$shim"
loop=$("$build/bench/bench-dlib-loop" /usr/share/dlib/shape_predictor_68_face_landmarks.dat \
  "$SURVEILLX_MODEL_DIR/dlib_face_recognition_resnet_model_v1.dat" "$rounds" "$dump"/frame*.rgb)
echo "$loop"
fps() { sed -n "s/^$1 .*faces_per_s=\([0-9.]*\).*/\1/p" <<<"$2"; }
el=$(fps element "$shim"); dl=$(fps dlib-loop "$loop")
echo "ratio element/dlib-loop faces/s: $(awk -v a="$el" -v b="$dl" 'BEGIN{printf "%.2f", a/b}')"
"$build/bench/bench-facerecog" rss 1 "${images[0]}"
"$build/bench/bench-facerecog" rss 8 "${images[0]}"
