;; References carried through `select` (the class of wasmtime issue 12862,
;; where values produced by a typed select were left out of the stack maps).
;;
;; Each iteration allocates two fresh structs, both only on the operand
;; stack, and picks one with a typed select whose condition comes from a
;; call that forces a collection: while that call runs, both candidates are
;; operands, not locals. The chosen struct is then passed through a second
;; select against a loop-carried local, across another allocation and
;; collection, and finally linked into a list reached from a global. A
;; collector that loses a select operand frees a struct the list still holds.
;;
;; Correct engines log, for every iteration, the running checksum of the
;; list, and return the last one.
(module
  (type $cell (struct (field $v i32) (field $next (ref null $cell))))
  (import "fuzzing-support" "log-i32" (func $log (param i32)))
  (import "fuzzing-support" "gc" (func $gc))
  (global $list (mut (ref null $cell)) (ref.null $cell))

  ;; A condition that costs a collection.
  (func $pick (param $i i32) (result i32)
    (call $gc)
    (i32.and (local.get $i) (i32.const 1)))

  (func $checksum (result i32)
    (local $c (ref null $cell))
    (local $s i32)
    (local.set $c (global.get $list))
    (block $done
      (loop $l
        (br_if $done (ref.is_null (local.get $c)))
        (local.set $s (i32.add (i32.mul (local.get $s) (i32.const 17))
                               (struct.get $cell $v (local.get $c))))
        (local.set $c (struct.get $cell $next (local.get $c)))
        (br $l)))
    (local.get $s))

  (func $run (export "run") (result i32)
    (local $i i32)
    (local $prev (ref null $cell))
    (local $chosen (ref null $cell))
    (loop $l
      ;; Two candidates on the operand stack across $pick's collection.
      (local.set $chosen
        (select (result (ref null $cell))
          (struct.new $cell (i32.add (i32.const 1000) (local.get $i)) (ref.null $cell))
          (struct.new $cell (i32.add (i32.const 2000) (local.get $i)) (ref.null $cell))
          (call $pick (local.get $i))))
      ;; The chosen one against the loop-carried $prev, across an allocation
      ;; (the discarded struct) and a collection.
      (local.set $chosen
        (select (result (ref null $cell))
          (local.get $chosen)
          (local.get $prev)
          (i32.or
            (ref.is_null (struct.new $cell (i32.const -1) (ref.null $cell)))
            (call $pick (i32.add (local.get $i) (i32.const 1))))))
      (local.set $prev (local.get $chosen))
      (global.set $list
        (struct.new $cell (struct.get $cell $v (local.get $chosen)) (global.get $list)))
      (call $log (call $checksum))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 24))))
    (call $checksum))
)
