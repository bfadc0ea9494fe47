#!/usr/bin/env bash
# corpus/regress replayed in every engine configuration: each module's
# --fuzz-exec log (with the heap verifier after every call) must equal the
# log kept beside it (NAME.expected, which V8 gives too), and so must the log
# of its .wat through our assembler. A heap finding (exit 4) or any other
# status is a failure.
# Usage: regress_test.sh SLABFUZZ CORPUS_DIR
set -uo pipefail
bin=$1 dir=$2
configs=(ref slab slab-zeal slab-random:1 slab-random:2 slab-alloc:1 slab-alloc:7
         slab-conservative slab-small)
passed=0 failed=0
shopt -s nullglob
modules=("$dir"/*.wasm)
if ((${#modules[@]} == 0)); then
  echo "FAIL: no modules in $dir"
  exit 1
fi
for wasm in "${modules[@]}"; do
  name=${wasm%.wasm}
  if [[ ! -f $name.expected ]]; then
    echo "FAIL $(basename "$name"): no $(basename "$name").expected beside it"
    failed=$((failed + 1))
    continue
  fi
  for input in "$wasm" "$name.wat"; do
    for config in "${configs[@]}"; do
      out=$(timeout 120 "$bin" run --config "$config" --verify "$input" 2>&1)
      status=$?
      if [[ $status == 0 ]] && diff -q <(printf '%s\n' "$out") "$name.expected" >/dev/null; then
        passed=$((passed + 1))
      else
        failed=$((failed + 1))
        echo "FAIL $(basename "$input") under $config: status $status; diff against the expected log:"
        diff <(printf '%s\n' "$out") "$name.expected" | head -20
      fi
    done
  done
done
echo "regress: $passed passed, $failed failed (${#modules[@]} modules x 2 forms x ${#configs[@]} configurations)"
((failed == 0))
