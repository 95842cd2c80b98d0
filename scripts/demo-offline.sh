#!/usr/bin/env bash
# An offline demo of facerecog (no camera needed): a
# gst-launch-1.0 run over a video file. It builds a short
# classroom video from the shared group photos, enrols one photo of each
# person, runs the element with boxes drawn and prints who it recognised.
# Frames with boxes land in var/demo/frames/. A file is analysed
# synchronously (every 5th frame), as offline files should be.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
scripts/setup.sh
scripts/build.sh build

faces=${SURVEILLX_TESTDATA:-$top/../shared/testdata}/faces
demo=var/demo
mkdir -p "$demo/frames"
export GST_PLUGIN_PATH=$top/build/plugins/gst SURVEILLX_MODEL_DIR=$top/models

# The gallery: one folder per person, their first crop.
rm -rf "$demo/gallery"
for photo in "$faces"/identities/*1.png; do
  name=$(basename "$photo" 1.png)
  mkdir -p "$demo/gallery/$name"
  ln -s "$photo" "$demo/gallery/$name/1.png"
done

# The video: each group photo for 3 s at 15 fps, VP8 in WebM.
if [ ! -s "$demo/classroom.webm" ]; then
  branches=()
  for i in 1 2 3 4 5; do
    branches+=(filesrc location="$faces/bbt$i.jpg" ! jpegdec ! videoconvert ! videoscale
      ! video/x-raw,width=640,height=480,pixel-aspect-ratio=1/1 ! imagefreeze num-buffers=45
      ! video/x-raw,framerate=15/1 ! c.)
  done
  gst-launch-1.0 -q concat name=c ! videoconvert ! vp8enc deadline=1 target-bitrate=1000000 \
    ! webmmux ! filesink location="$demo/classroom.webm" "${branches[@]}"
fi

rm -f "$demo"/frames/*.jpg
gst-launch-1.0 -m filesrc location="$demo/classroom.webm" ! decodebin ! videoconvert \
  ! facerecog gallery="$demo/gallery" draw=true synchronous=true interval=5 \
  ! videoconvert ! jpegenc ! multifilesink location="$demo/frames/%05d.jpg" \
  > "$demo/messages.log"
echo "facerecog messages: $(grep -c '(element): facerecog' "$demo/messages.log")"
echo "recognised (label: analyses):"
grep -o 'label\\=\\(string\\)[A-Za-z]*' "$demo/messages.log" | sed 's/.*)//' | sort | uniq -c
echo "frames with boxes: $demo/frames/"
