;; lcg: a tight integer loop, 10^8 steps of a 64-bit linear congruential
;; generator (Knuth's MMIX constants). Measures the interpreter's dispatch cost
;; per instruction: the loop body is a handful of locals, i64 arithmetic and a
;; back edge, with no calls or memory. Each step depends on the last, and the
;; whole state is returned, so no engine can skip or shorten the loop.
;; Checksum: the generator state after N steps (i64), seed 1.
(module
  (func $lcg (param $n i32) (result i64)
    (local $x i64)
    (local.set $x (i64.const 1))
    (loop $step
      ;; x = x * 6364136223846793005 + 1442695040888963407 (mod 2^64)
      (local.set $x
        (i64.add
          (i64.mul (local.get $x) (i64.const 6364136223846793005))
          (i64.const 1442695040888963407)))
      (br_if $step
        (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))
    (local.get $x))

  (func (export "run") (result i64) (call $lcg (i32.const 100000000)))
  (func (export "run_small") (result i64) (call $lcg (i32.const 500000)))
  (global (export "small_factor") f64 (f64.const 200))
)
