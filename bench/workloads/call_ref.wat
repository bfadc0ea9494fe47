;; call_ref: 10^7 indirect calls, each through a typed function reference read
;; from a struct field, the structs held in a GC array that serves as a
;; dispatch table (a vtable-like shape, and the call_ref-through-a-struct-field
;; of the seed bug). Measures struct.get + call_ref + frame overhead; the
;; callees are tiny, so dispatch dominates.
;; Checksum: an accumulator threaded through every call (i32, wrapping), each
;; entry mixing it differently, so a wrong target changes the result.
(module
  (type $op (func (param i32 i32) (result i32)))
  (type $entry (struct (field $f (ref $op)) (field $k i32)))
  (type $table (array (ref $entry)))

  (func $add (type $op) (i32.add (local.get 0) (local.get 1)))
  (func $xor (type $op) (i32.xor (local.get 0) (local.get 1)))
  (func $mul (type $op) (i32.mul (local.get 0) (i32.or (local.get 1) (i32.const 1))))
  (func $rot (type $op) (i32.rotl (local.get 0) (local.get 1)))
  (elem declare func $add $xor $mul $rot)

  (func $work (param $n i32) (result i32)
    (local $table (ref $table))
    (local $e (ref $entry))
    (local $i i32)
    (local $acc i32)
    ;; eight entries: each op twice, with different constants
    (local.set $table
      (array.new_fixed $table 8
        (struct.new $entry (ref.func $add) (i32.const 0x9e3779b9))
        (struct.new $entry (ref.func $xor) (i32.const 0x85ebca6b))
        (struct.new $entry (ref.func $mul) (i32.const 0xc2b2ae35))
        (struct.new $entry (ref.func $rot) (i32.const 13))
        (struct.new $entry (ref.func $add) (i32.const 0x27d4eb2f))
        (struct.new $entry (ref.func $mul) (i32.const 0x165667b1))
        (struct.new $entry (ref.func $xor) (i32.const 0x7f4a7c15))
        (struct.new $entry (ref.func $rot) (i32.const 7))))
    (local.set $acc (i32.const 1))
    (loop $call
      ;; the entry depends on the accumulator as well as i, so the sequence of
      ;; targets is not a fixed cycle a predictor could learn exactly
      (local.set $e
        (array.get $table (local.get $table)
          (i32.and (i32.add (local.get $i) (i32.shr_u (local.get $acc) (i32.const 29)))
                   (i32.const 7))))
      (local.set $acc
        (call_ref $op
          (local.get $acc)
          (struct.get $entry $k (local.get $e))
          (struct.get $entry $f (local.get $e))))
      (br_if $call
        (i32.lt_u (local.tee $i (i32.add (local.get $i) (i32.const 1)))
                  (local.get $n))))
    (local.get $acc))

  (func (export "run") (result i32) (call $work (i32.const 10000000)))
  (func (export "run_small") (result i32) (call $work (i32.const 100000)))
  (global (export "small_factor") f64 (f64.const 100))
)
