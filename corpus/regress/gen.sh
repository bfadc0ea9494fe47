#!/bin/sh
# Rebuilds the .wasm of every regression module from its .wat with the
# pinned Binaryen (npm binaryen, see DESIGN.md "Dependencies"), keeping the
# names (-g) so that diagnostics name functions as the text does.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for wat in "$here"/*.wat; do
  "$root/node_modules/.bin/wasm-as" -g --all-features --disable-custom-descriptors --disable-compact-imports "$wat" -o "${wat%.wat}.wasm"
done
