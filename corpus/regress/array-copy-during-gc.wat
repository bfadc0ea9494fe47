;; array.copy of references while a collection happens (the class of
;; wasmtime issue 13450, a copy of reference elements that the collector did
;; not see consistently), with array.fill and array.new_elem beside it (12935
;; and 12936: allocations that did not root their inputs).
;;
;; The source array is built by a call that then forces a collection, and is
;; reachable only from the operand stack of the array.copy being assembled;
;; the destination was pushed before that call, so it too is only an
;; operand. Copies within one array overlap in both directions. After each
;; round the source is dropped and collected, and every element is read back
;; through the destination.
;;
;; Correct engines log one checksum per round and return the last one.
(module
  (type $box (struct (field $v i32)))
  (type $boxes (array (mut (ref null $box))))
  (type $funcs (array (ref null func)))
  (import "fuzzing-support" "log-i32" (func $log (param i32)))
  (import "fuzzing-support" "gc" (func $gc))
  (elem $fs funcref (ref.func $log) (ref.null func) (ref.func $run))
  (global $keep (mut (ref null $boxes)) (ref.null $boxes))

  ;; n fresh boxes base, base + 1, ...; then a collection.
  (func $make (param $base i32) (param $n i32) (result (ref $boxes))
    (local $a (ref $boxes))
    (local $i i32)
    (local.set $a (array.new_default $boxes (local.get $n)))
    (loop $l
      (array.set $boxes (local.get $a) (local.get $i)
        (struct.new $box (i32.add (local.get $base) (local.get $i))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (local.get $n))))
    (call $gc)
    (local.get $a))

  (func $sum (param $a (ref $boxes)) (result i32)
    (local $i i32)
    (local $s i32)
    (loop $l
      (local.set $s
        (i32.add (i32.mul (local.get $s) (i32.const 3))
          (if (result i32) (ref.is_null (array.get $boxes (local.get $a) (local.get $i)))
            (then (i32.const 7))
            (else (struct.get $box $v (array.get $boxes (local.get $a) (local.get $i)))))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (array.len (local.get $a)))))
    (local.get $s))

  (func $run (export "run") (result i32)
    (local $dst (ref null $boxes))
    (local $r i32)
    (local $s i32)
    (loop $rounds
      (local.set $dst (array.new_default $boxes (i32.const 32)))
      ;; dst and then src only as operands while $make collects.
      (array.copy $boxes $boxes
        (local.get $dst) (i32.const 4)
        (call $make (i32.mul (local.get $r) (i32.const 100)) (i32.const 24)) (i32.const 0)
        (i32.const 24))
      ;; Overlapping copies within dst, forwards and backwards.
      (array.copy $boxes $boxes (local.get $dst) (i32.const 0)
        (local.get $dst) (i32.const 2) (i32.const 20))
      (array.copy $boxes $boxes (local.get $dst) (i32.const 10)
        (local.get $dst) (i32.const 6) (i32.const 20))
      ;; One box shared by a filled range, allocated as the fill's operand.
      (array.fill $boxes (local.get $dst) (i32.const 28)
        (struct.new $box (i32.add (local.get $r) (i32.const 5000))) (i32.const 4))
      (call $gc)
      (local.set $s (i32.add (local.get $s) (call $sum (ref.as_non_null (local.get $dst)))))
      ;; A reference array from an element segment, across a collection.
      (local.set $s (i32.add (local.get $s)
        (array.len (array.new_elem $funcs $fs (i32.const 0) (i32.const 3)))))
      (global.set $keep (local.get $dst))
      (call $log (local.get $s))
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (br_if $rounds (i32.lt_u (local.get $r) (i32.const 12))))
    (local.get $s))
)
