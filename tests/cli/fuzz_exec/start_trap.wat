;; A start function that traps in wasm: the trap is printed (wording
;; normalised) and no export is called.
(module
  (import "fuzzing-support" "log-i32" (func $log (param i32)))
  (func $start
    (call $log (i32.const 3))
    (unreachable))
  (start $start)
  (func (export "never_called")
    (call $log (i32.const 1))))
