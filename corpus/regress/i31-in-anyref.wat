;; i31 values sharing slots with heap references (the classes of wasmtime
;; issue 10171, ref.test answering wrongly for i31 and null, and of WAMR
;; issue 5070, a collector that takes a non-reference for a root).
;;
;; An (array (mut anyref)) of 40 slots holds, by index, i31s (some of them
;; with bit patterns that look like small heap ids), structs, arrays and
;; nulls. Each round forces a collection and then classifies every slot with
;; ref.test against i31, $pair, $ints and eq, reads the values back (i31.get_s
;; and i31.get_u, struct and array fields) and overwrites a third of the
;; slots with fresh values of another kind, so that slots change between an
;; i31 and a reference while collections happen. An eqref global holds an
;; i31 the whole time and is compared with ref.eq.
;;
;; Correct engines log the same per-round checksums in every configuration.
(module
  (type $pair (struct (field $a i32) (field $b (mut i32))))
  (type $ints (array (mut i32)))
  (type $slots (array (mut anyref)))
  (import "fuzzing-support" "log-i32" (func $log (param i32)))
  (import "fuzzing-support" "gc" (func $gc))
  (global $slots (mut (ref null $slots)) (ref.null $slots))
  (global $tag (mut eqref) (ref.i31 (i32.const -7)))

  ;; The value slot i gets in round r: kind (i + r) mod 4.
  (func $make (param $i i32) (param $r i32) (result anyref)
    (local $k i32)
    (local.set $k (i32.rem_u (i32.add (local.get $i) (local.get $r)) (i32.const 4)))
    (if (i32.eqz (local.get $k))
      (then
        ;; i31s whose payload looks like an id: small, and with high bits.
        (return (ref.i31 (i32.or (i32.shl (local.get $i) (i32.const 4))
                                 (i32.shl (local.get $r) (i32.const 29)))))))
    (if (i32.eq (local.get $k) (i32.const 1))
      (then (return (struct.new $pair (local.get $i) (local.get $r)))))
    (if (i32.eq (local.get $k) (i32.const 2))
      (then (return (array.new $ints (local.get $i) (i32.add (local.get $r) (i32.const 1))))))
    (ref.null any))

  (func $fill (param $r i32) (param $step i32)
    (local $i i32)
    (loop $l
      (array.set $slots (global.get $slots) (local.get $i)
        (call $make (local.get $i) (local.get $r)))
      (local.set $i (i32.add (local.get $i) (local.get $step)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 40)))))

  ;; A checksum over every slot, by what ref.test says the slot holds.
  (func $scan (result i32)
    (local $i i32)
    (local $v anyref)
    (local $s i32)
    (loop $l
      (local.set $v (array.get $slots (global.get $slots) (local.get $i)))
      (local.set $s (i32.mul (local.get $s) (i32.const 31)))
      (if (ref.test (ref i31) (local.get $v))
        (then
          (local.set $s (i32.add (local.get $s)
            (i32.xor (i31.get_s (ref.cast (ref i31) (local.get $v)))
                     (i31.get_u (ref.cast (ref i31) (local.get $v))))))))
      (if (ref.test (ref $pair) (local.get $v))
        (then
          (local.set $s (i32.add (local.get $s)
            (i32.add (i32.const 1000)
              (i32.add (struct.get $pair $a (ref.cast (ref $pair) (local.get $v)))
                       (struct.get $pair $b (ref.cast (ref $pair) (local.get $v)))))))))
      (if (ref.test (ref $ints) (local.get $v))
        (then
          (local.set $s (i32.add (local.get $s)
            (i32.add (i32.const 2000)
              (i32.add (array.len (ref.cast (ref $ints) (local.get $v)))
                       (array.get $ints (ref.cast (ref $ints) (local.get $v)) (i32.const 0))))))))
      ;; Nullable: true for null as well as for every i31, struct and array.
      (if (ref.test eqref (local.get $v))
        (then (local.set $s (i32.add (local.get $s) (i32.const 7)))))
      (if (ref.is_null (local.get $v))
        (then (local.set $s (i32.add (local.get $s) (i32.const 3)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 40))))
    (local.get $s))

  (func $run (export "run") (result i32)
    (local $r i32)
    (local $total i32)
    (global.set $slots (array.new $slots (ref.null any) (i32.const 40)))
    (call $fill (i32.const 0) (i32.const 1))
    (loop $rounds
      (call $gc)
      (local.set $total (i32.add (local.get $total) (call $scan)))
      (call $log (local.get $total))
      ;; Every third slot changes kind.
      (local.set $r (i32.add (local.get $r) (i32.const 1)))
      (call $fill (local.get $r) (i32.const 3))
      (call $log
        (i32.add (ref.eq (global.get $tag) (ref.i31 (i32.const -7)))
                 (i31.get_s (ref.cast i31ref (global.get $tag)))))
      (br_if $rounds (i32.lt_u (local.get $r) (i32.const 8))))
    (local.get $total))
)
