#!/bin/sh
# meson install: copies the converted face models (scripts/fetch-models.sh
# makes them; they are not in the repository) into the installed model
# folder. usage: install-models.sh SOURCE_MODEL_DIR INSTALLED_MODEL_DIR
set -eu
from=$1
to="${DESTDIR:-}$2"
found=0
for model in "$from"/*.dat; do
  [ -f "$model" ] || continue
  install -D -m 0644 "$model" "$to/$(basename "$model")"
  found=1
done
if [ "$found" = 0 ]; then
  echo "install-models: no model in $from (run scripts/fetch-models.sh); the" \
       "elements will look in $2" >&2
fi
