#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang into build-fuzz and
# runs each for SECONDS (default 60) from a copy of its seed corpus.
#   scripts/fuzz.sh [SECONDS] [TARGET...]    targets: pipefile sdpfrag engineio offer
# Inputs saved under tests/fuzz/regressions/<target>/ run first, once each;
# SECONDS=0 runs only those and the seeds (a quick check, no fuzzing).
# Prints executions, speed and coverage per target; saves crashing inputs
# under build-fuzz/crashes/<target>/ and exits non-zero if there is any.
# Environment:
#   FUZZ_BUILD_DIR    build folder (default build-fuzz)
#   FUZZ_BUILD_LOCK   a file to flock around configure and compile, so this
#                     never compiles while another build holds the lock
#   FUZZ_JOBS         ninja -j for the targets (default 1: a few C files)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

seconds=${1:-60}
shift || true
case "$seconds" in
  '' | *[!0-9]*) echo "fuzz: SECONDS must be a number, not '$seconds'" >&2; exit 2 ;;
esac
all_targets=(pipefile sdpfrag engineio offer)
if [ $# -gt 0 ]; then targets=("$@"); else targets=("${all_targets[@]}"); fi
for t in "${targets[@]}"; do
  [ -f "tests/fuzz/fuzz-$t.c" ] || { echo "fuzz: no target '$t' (${all_targets[*]})" >&2; exit 2; }
done
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}

# ---- clang and its libFuzzer runtime (Debian 12: clang-14, libclang-rt-14-dev)
cc=$(command -v clang-14 || command -v clang || true)
libfuzzer_links() {
  [ -n "$cc" ] || return 1
  local tmp
  tmp=$(mktemp -d)
  printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
    'int LLVMFuzzerTestOneInput (const uint8_t *d, size_t n) { return 0; }' >"$tmp/t.c"
  "$cc" -fsanitize=fuzzer,address,undefined "$tmp/t.c" -o "$tmp/t" >/dev/null 2>&1
  local rc=$?
  rm -rf "$tmp"
  return $rc
}
if ! libfuzzer_links; then
  echo "fuzz: installing clang-14 and libclang-rt-14-dev"
  sudo=()
  [ "$(id -u)" = 0 ] || sudo=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${sudo[@]}" apt-get update -qq
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends clang-14 libclang-rt-14-dev >/dev/null
  cc=$(command -v clang-14 || command -v clang)
  libfuzzer_links || { echo "fuzz: $cc cannot link -fsanitize=fuzzer" >&2; exit 1; }
fi
cxx=${cc/clang/clang++}
command -v "$cxx" >/dev/null || cxx=clang++

# ---- configure and build only the fuzz targets (no dlib: -Dfacerecog=disabled)
build() {
  if [ ! -f "$build_dir/build.ninja" ]; then
    local log
    log=$(mktemp)
    CC=$cc CXX=$cxx meson setup "$build_dir" -Dfuzzing=enabled -Dfacerecog=disabled \
      --buildtype=debugoptimized >"$log" 2>&1 || {
      cat "$log" >&2
      rm -f "$log"
      return 1
    }
    mv "$log" "$build_dir/setup.log"
  fi
  local ninja_targets=()
  for t in "${targets[@]}"; do ninja_targets+=("tests/fuzz/fuzz-$t"); done
  ninja -C "$build_dir" -j "${FUZZ_JOBS:-1}" "${ninja_targets[@]}"
}
if [ -n "${FUZZ_BUILD_LOCK:-}" ]; then
  export -f build
  export build_dir cc cxx
  export FUZZ_TARGETS="${targets[*]}"
  flock "$FUZZ_BUILD_LOCK" bash -c 'read -r -a targets <<<"$FUZZ_TARGETS"; build'
else
  build
fi

# ---- run
crashes_dir=$build_dir/crashes
mkdir -p "$crashes_dir"
failed=0
summary=()
stat_of() { sed -n "s/^stat::$1: *//p" "$2" | tail -1; }
for t in "${targets[@]}"; do
  work=$(mktemp -d "${TMPDIR:-/tmp}/fuzz-$t.XXXXXX")
  mkdir -p "$work/corpus" "$crashes_dir/$t"
  cp -r "tests/fuzz/corpus/$t/." "$work/corpus/"
  log=$build_dir/fuzz-$t.log
  # inputs that once crashed (tests/fuzz/regressions/<target>/) first
  regressions=()
  if [ -d "tests/fuzz/regressions/$t" ]; then
    while IFS= read -r -d '' f; do regressions+=("$f"); done \
      < <(find "tests/fuzz/regressions/$t" -type f -not -name '.*' -print0 | sort -z)
  fi
  regression_result=""
  if [ ${#regressions[@]} -gt 0 ]; then
    bad=0
    rlog=$build_dir/regressions-$t.log
    : >"$rlog"
    for f in "${regressions[@]}"; do
      if ! UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
        "$build_dir/tests/fuzz/fuzz-$t" "$f" >>"$rlog" 2>&1; then
        bad=$((bad + 1))
        echo "    regression $f:"
        grep -a -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant failed|CRITICAL|WARNING \*\*' \
          "$rlog" | tail -1 | sed 's/^/      /' || true
      fi
    done
    if [ "$bad" = 0 ]; then
      regression_result="regressions ${#regressions[@]} ok; "
    else
      regression_result="REGRESSIONS FAILED $bad/${#regressions[@]} ($rlog); "
      failed=1
    fi
  fi
  dict=()
  [ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
  # 0 seconds: the seeds once, no fuzzing (-max_total_time=0 is forever)
  if [ "$seconds" = 0 ]; then how=(-runs=0); else how=(-max_total_time="$seconds"); fi
  echo "fuzz: $t for ${seconds}s (log: $log)"
  set +e
  # -timeout: one input taking this long is a hang, reported as a crash
  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    "$build_dir/tests/fuzz/fuzz-$t" "${how[@]}" -print_final_stats=1 \
    -timeout=25 "${dict[@]}" -artifact_prefix="$crashes_dir/$t/" "$work/corpus" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(stat_of number_of_executed_units "$log")
  speed=$(stat_of average_exec_per_sec "$log")
  last=$(grep -a -E '^#[0-9]+' "$log" | tail -1 || true)
  cov=$(sed -n 's/.* cov: \([0-9]*\).*/\1/p' <<<"$last")
  ft=$(sed -n 's/.* ft: \([0-9]*\).*/\1/p' <<<"$last")
  corp=$(sed -n 's/.* corp: \([0-9]*\)\/.*/\1/p' <<<"$last")
  artifacts=$(grep -a -o 'Test unit written to .*' "$log" | sed 's/^Test unit written to //' || true)
  if [ "$rc" = 0 ]; then
    result=ok
  else
    result="CRASH (exit $rc)"
    failed=1
    [ -n "$artifacts" ] && result+=": $artifacts"
    grep -a -m1 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error:|invariant failed|CRITICAL|WARNING \*\*' "$log" |
      sed 's/^/    /' || true
  fi
  line=$(printf '%-9s %10s execs %8s exec/s  cov %-5s ft %-6s corpus %-5s %s' \
    "$t" "${execs:-?}" "${speed:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}" "$regression_result$result")
  echo "  $line"
  summary+=("$line")
  rm -rf "$work"
done

echo "fuzz: summary (${seconds}s per target)"
printf '  %s\n' "${summary[@]}"
if [ "$failed" != 0 ]; then
  echo "fuzz: FAILED: new crashes are saved under $crashes_dir/, regression runs logged in" \
    "$build_dir/regressions-TARGET.log (reproduce: $build_dir/tests/fuzz/fuzz-TARGET FILE)" >&2
  exit 1
fi
