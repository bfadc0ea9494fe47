#!/bin/sh
# Rebuilds each entry's module.wasm from its module.wat with the pinned
# Binaryen, as corpus/regress/gen.sh does.
set -e
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
for wat in "$here"/*/module.wat; do
  "$root/node_modules/.bin/wasm-as" -g --all-features --disable-custom-descriptors --disable-compact-imports "$wat" -o "${wat%.wat}.wasm"
done
