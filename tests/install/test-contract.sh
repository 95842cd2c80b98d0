#!/usr/bin/env bash
# The public contract, installed: `meson install` (headers and pkg-config
# only, into a scratch DESTDIR) gives <surveillx/faceresult.h> and
# surveillx-1.0.pc; a program compiled with nothing but those (no -I into
# this tree) reads the names facerecog gives a group photo, from the ROI
# metas and from the element messages.
set -euo pipefail
build=${SURVEILLX_BUILD_ROOT:?}
src=${SURVEILLX_SOURCE_ROOT:?}
faces=${SURVEILLX_TESTDATA:?}/faces
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

meson install -C "$build" --no-rebuild --quiet --tags devel --destdir "$tmp/root" >/dev/null
pc=$(find "$tmp/root" -name surveillx-1.0.pc)
[ -n "$pc" ] || fail "meson install put no surveillx-1.0.pc"
header=$(find "$tmp/root" -path '*/surveillx-1.0/surveillx/faceresult.h')
[ -n "$header" ] || fail "meson install put no surveillx/faceresult.h"
echo "ok: installed $header and $pc"

# the .pc names its prefix; the files sit under DESTDIR: point it there
prefix=$(pkg-config --variable=prefix "$pc")
# (the prefix override reaches the packages it requires too; their real
# flags follow below, and directories that do not exist are ignored)
ours=$(PKG_CONFIG_PATH=$(dirname "$pc") pkg-config \
  --define-variable=prefix="$tmp/root$prefix" --cflags surveillx-1.0)
case "$ours" in *"$src"*) fail "pkg-config points into the source tree: $ours" ;; esac
case "$ours" in *"-I$tmp/root$prefix/include/surveillx-1.0"*) ;; *) fail "no -I for the installed header: $ours" ;; esac
echo "ok: pkg-config --cflags surveillx-1.0 -> $ours"
cc -Wall -Werror -o "$tmp/read-faces" "$src/tests/install/read-faces.c" $ours \
  $(pkg-config --cflags --libs gstreamer-1.0 gstreamer-video-1.0)
echo "ok: read-faces built against the installed header only"

mkdir "$tmp/gallery"
for person in amy bernadette howard leonard penny raj sheldon stuart; do
  cp "$faces/identities/${person}1.png" "$tmp/gallery/$person.png"
done
out=$("$tmp/read-faces" "$faces/bbt4.jpg" "$tmp/gallery")
echo "$out"
for person in amy bernadette; do
  grep -qx "meta $person" <<<"$out" || fail "$person not read from the ROI metas"
  grep -qx "message $person" <<<"$out" || fail "$person not read from the messages"
done
[ "$(grep '^meta ' <<<"$out" | cut -d' ' -f2)" = "$(grep '^message ' <<<"$out" | cut -d' ' -f2)" ] \
  || fail "metas and messages name different people"
echo "ok: the installed contract reads amy and bernadette from both"
echo PASS
