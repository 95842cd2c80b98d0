#!/usr/bin/env bash
# Fetches face-api.js (MIT) with `npm pack` and converts its copy of dlib's
# face recognition ResNet into dlib's .dat format with the project's own
# converter. Also keeps the package's demo photos for the tests.
#   scripts/fetch-models.sh BUILD_DIR [MODEL_DIR]
# A user's own dlib_face_recognition_resnet_model_v1.dat can be put in
# MODEL_DIR instead (or pointed at with facerecog's recognition-model).
set -euo pipefail

build_dir=${1:?usage: fetch-models.sh BUILD_DIR [MODEL_DIR]}
top=$(cd "$(dirname "$0")/.." && pwd)
model_dir=${2:-$top/models}
package="@vladmandic/face-api@1.7.15"
tarball=vladmandic-face-api-1.7.15.tgz
out="$model_dir/dlib_face_recognition_resnet_model_v1.dat"

mkdir -p "$model_dir/faceapi"
if [ ! -f "$model_dir/faceapi/$tarball" ]; then
  (cd "$model_dir/faceapi" && npm pack --silent "$package" >/dev/null)
fi
tar -xzf "$model_dir/faceapi/$tarball" -C "$model_dir/faceapi" --strip-components=1 \
  --wildcards package/LICENSE 'package/model/face_recognition_model*' 'package/demo/*.jpg'

if [ ! -s "$out" ] || [ "$out" -ot "$model_dir/faceapi/$tarball" ]; then
  "$build_dir/tools/surveillx-convert-model" \
    "$model_dir/faceapi/model/face_recognition_model-weights_manifest.json" "$out.tmp"
  mv "$out.tmp" "$out"
fi
echo "models: $out"
ls -l /usr/share/dlib/shape_predictor_68_face_landmarks.dat >/dev/null
