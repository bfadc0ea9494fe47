;; A start function whose host call throws: call-export with an index past
;; the exports makes the host throw a JS exception. Instantiation fails and
;; no export is called; every engine prints the same failure line after the
;; one value logged before it.
(module
  (import "fuzzing-support" "log-i32" (func $log (param i32)))
  (import "fuzzing-support" "call-export" (func $call_export (param i32 i32)))
  (func $start
    (call $log (i32.const 7))
    (call $call_export (i32.const 99) (i32.const 0)))
  (start $start)
  (func (export "never_called")
    (call $log (i32.const 1))))
