;; fib: recursive fib(30). Measures call and return overhead (frame set-up,
;; argument passing, the call-depth check), with almost no work per call.
;; Checksum: fib(30) = 832040 (i32).
;; run_small computes fib(24); fib(n) makes 2*fib(n+1)-1 calls, so run does
;; 2692537/150049 = 17.944 times the calls of run_small (small_factor).
(module
  (func $fib (param $n i32) (result i32)
    (if (result i32) (i32.lt_u (local.get $n) (i32.const 2))
      (then (local.get $n))
      (else
        (i32.add
          (call $fib (i32.sub (local.get $n) (i32.const 1)))
          (call $fib (i32.sub (local.get $n) (i32.const 2)))))))

  (func (export "run") (result i32) (call $fib (i32.const 30)))
  (func (export "run_small") (result i32) (call $fib (i32.const 24)))
  ;; How many times more work `run` does than `run_small` (read by the runner
  ;; to scale slow engines' small runs up to the full size).
  (global (export "small_factor") f64 (f64.const 17.944))
)
