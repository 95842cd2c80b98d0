#!/usr/bin/env bash
# bench/facerecog/gallery.sh: a 2,000-student gallery (5 descriptors each):
# load once, share between cameras, match one face. Matching is compared,
# side by side on this box, with the Python design's way of doing it
# (face_recognition.face_distance: numpy norm over every known descriptor).
#   bench/facerecog/gallery.sh [BUILD_DIR] [PEOPLE] [PER_PERSON] [CAMERAS]
set -euo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$top/build}
people=${2:-2000}
per=${3:-5}
cameras=${4:-16}
probes=2000
echo "CPU: $(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -1), cores: $(nproc)"
out=$("$build/bench/bench-gallery" "$people" "$per" "$cameras" "$probes")
echo "$out"
numpy=$(/usr/bin/python3 - "$people" "$per" "$probes" <<'PY'
import sys, time
import numpy as np
people, per, probes = map(int, sys.argv[1:])
rng = np.random.default_rng(42)
def unit(n):
    d = rng.uniform(-1, 1, (n, 128))
    return d / np.linalg.norm(d, axis=1, keepdims=True)
known = unit(people * per)          # face_recognition keeps float64
queries = unit(probes)
t0 = time.perf_counter()
for q in queries:
    dist = np.linalg.norm(known - q, axis=1)
    best = int(np.argmin(dist))
t1 = time.perf_counter()
print("numpy-match probes=%d ms_per_match=%.3f" % (probes, (t1 - t0) * 1000 / probes))
PY
)
echo "$numpy"
ms() { sed -n "s/^$1 .*ms_per_match=\([0-9.]*\).*/\1/p" <<<"$2"; }
ours=$(ms match "$out"); theirs=$(ms numpy-match "$numpy")
echo "ratio sx_gallery_match/numpy ms per match: $(awk -v a="$ours" -v b="$theirs" 'BEGIN{printf "%.2f", a/b}')"
