#!/usr/bin/env bash
# One formatting style for the C and C++ sources: .clang-format (GStreamer's
# gst-indent style expressed for clang-format 14). Lists the files that
# differ and fails; `clang-format -i FILE` fixes one.
#   scripts/check-style.sh
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
mapfile -t files < <(git ls-files '*.c' '*.h' '*.cpp' '*.hpp')
bad=()
for f in "${files[@]}"; do
  clang-format --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ "${#bad[@]}" -gt 0 ]; then
  echo "check-style: ${#bad[@]} file(s) not in .clang-format's style (clang-format -i to fix):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check-style: ${#files[@]} C/C++ files in .clang-format's style"
