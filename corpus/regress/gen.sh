#!/bin/sh
# Rebuilds the .wasm of every regression module from its .wat with the
# pinned Binaryen (npm binaryen, see DESIGN.md "Dependencies").
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for wat in "$here"/*.wat; do
  "$root/node_modules/.bin/wasm-as" --all-features --disable-custom-descriptors --disable-compact-imports "$wat" -o "${wat%.wat}.wasm"
done
