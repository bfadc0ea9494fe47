;; A subtype object read through its supertype's fields (the class of
;; wasmtime issue 10459, where a subtype's layout moved a field its supertype
;; declares, so code typed with the supertype read the wrong slot).
;;
;; $node is the supertype: a value and a link. $wide extends it with an i64
;; and a second reference *after* the inherited fields. The list is built
;; from both kinds, walked only through (ref null $node) with struct.get of
;; the inherited fields, and, where ref.test says the object is a $wide,
;; through a cast to read the added fields as well. A collection is forced
;; between building and each walk, so the walk also checks that the collector
;; traced the added reference field of every $wide (a $wide's $extra is the
;; only path to the $node it names).
;;
;; Correct engines log 1275, 44425, 1224 (3 * (3 + 6 + ... + 48)) and 1275
;; again, and return 1275.
(module
  (type $node (sub (struct (field $val i32) (field $next (ref null $node)))))
  (type $wide (sub final $node
    (struct (field $val i32) (field $next (ref null $node))
            (field $big i64) (field $extra (ref $node)))))
  (import "fuzzing-support" "log-i32" (func $log (param i32)))
  (import "fuzzing-support" "gc" (func $gc))
  (global $head (mut (ref null $node)) (ref.null $node))

  ;; Nodes 1..50; every third one a $wide whose $extra holds a fresh $node
  ;; with twice its value, reachable only from there.
  (func $build
    (local $i i32)
    (loop $l
      (local.set $i (i32.add (local.get $i) (i32.const 1)))
      (if (i32.eqz (i32.rem_u (local.get $i) (i32.const 3)))
        (then
          (global.set $head
            (struct.new $wide (local.get $i) (global.get $head)
              (i64.mul (i64.extend_i32_u (local.get $i)) (i64.const 1000))
              (struct.new $node (i32.shl (local.get $i) (i32.const 1)) (ref.null $node)))))
        (else
          (global.set $head (struct.new $node (local.get $i) (global.get $head)))))
      (br_if $l (i32.lt_u (local.get $i) (i32.const 50)))))

  ;; The sum of $val over the list, read through the supertype only.
  (func $sum_vals (result i32)
    (local $n (ref null $node))
    (local $s i32)
    (local.set $n (global.get $head))
    (block $done
      (loop $l
        (br_if $done (ref.is_null (local.get $n)))
        (local.set $s (i32.add (local.get $s) (struct.get $node $val (local.get $n))))
        (local.set $n (struct.get $node $next (local.get $n)))
        (br $l)))
    (local.get $s))

  ;; Over the $wide nodes: the i64 field / 1000 plus the $val of $extra
  ;; (which is twice the node's own value), i.e. 3 * value each.
  (func $sum_wide (result i32)
    (local $n (ref null $node))
    (local $w (ref $wide))
    (local $s i32)
    (local.set $n (global.get $head))
    (block $done
      (loop $l
        (br_if $done (ref.is_null (local.get $n)))
        (if (ref.test (ref $wide) (local.get $n))
          (then
            (local.set $w (ref.cast (ref $wide) (local.get $n)))
            (call $gc)
            (local.set $s
              (i32.add (local.get $s)
                (i32.add
                  (i32.wrap_i64 (i64.div_u (struct.get $wide $big (local.get $w)) (i64.const 1000)))
                  (struct.get $node $val (struct.get $wide $extra (local.get $w))))))))
        (local.set $n (struct.get $node $next (local.get $n)))
        (br $l)))
    (local.get $s))

  (func $run (export "run") (result i32)
    (local $v i32)
    (call $build)
    (call $gc)
    (local.set $v (call $sum_vals))
    (call $log (local.get $v))
    ;; 1275 * 35 - 200: a checksum mixing both walks.
    (call $log (i32.sub (i32.mul (local.get $v) (i32.const 35)) (i32.const 200)))
    (call $log (call $sum_wide))
    (call $gc)
    (call $log (call $sum_vals))
    (local.get $v))
)
