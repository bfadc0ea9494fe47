;; tree: 200 rounds of building a depth-14 binary tree of structs (32767 nodes,
;; so 6.5 million allocations in all) and walking it. Allocation-heavy: each
;; round's tree is garbage once checked, so a heap that never collects, or
;; collects slowly, shows here. Children are held in eqref fields and cast
;; back to (ref $node) on every step of the walk.
;; Checksum: the sum over all rounds of every node's value (i32, wrapping);
;; a node's value depends on its path and the round, so a tree built or read
;; wrongly changes it.
(module
  (type $node (struct (field $left eqref) (field $right eqref) (field $val i32)))

  ;; A tree of the given depth; the root holds v, children 2v and 2v+1.
  (func $build (param $depth i32) (param $v i32) (result (ref $node))
    (if (result (ref $node)) (i32.eqz (local.get $depth))
      (then (struct.new $node (ref.null eq) (ref.null eq) (local.get $v)))
      (else
        (struct.new $node
          (call $build (i32.sub (local.get $depth) (i32.const 1))
                       (i32.shl (local.get $v) (i32.const 1)))
          (call $build (i32.sub (local.get $depth) (i32.const 1))
                       (i32.or (i32.shl (local.get $v) (i32.const 1)) (i32.const 1)))
          (local.get $v)))))

  ;; Sum of the values in the tree; t is a non-null node typed as eqref.
  (func $check (param $t eqref) (result i32)
    (local $n (ref $node))
    (local.set $n (ref.cast (ref $node) (local.get $t)))
    (if (result i32) (ref.is_null (struct.get $node $left (local.get $n)))
      (then (struct.get $node $val (local.get $n)))
      (else
        (i32.add
          (struct.get $node $val (local.get $n))
          (i32.add
            (call $check (struct.get $node $left (local.get $n)))
            (call $check (struct.get $node $right (local.get $n))))))))

  (func $work (param $rounds i32) (result i32)
    (local $r i32)
    (local $sum i32)
    (loop $round
      (local.set $sum
        (i32.add (local.get $sum)
          (call $check (call $build (i32.const 14) (i32.add (local.get $r) (i32.const 1))))))
      (br_if $round
        (i32.lt_u (local.tee $r (i32.add (local.get $r) (i32.const 1)))
                  (local.get $rounds))))
    (local.get $sum))

  (func (export "run") (result i32) (call $work (i32.const 200)))
  (func (export "run_small") (result i32) (call $work (i32.const 2)))
  (global (export "small_factor") f64 (f64.const 100))
)
