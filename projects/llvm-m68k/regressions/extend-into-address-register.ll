; Regression: a 16-bit value extended to 32 bits must not be extended "in" an
; address register. The i16 argument passed on to the stack is widened by
; MOVZXd32d16; when its result was given %a0, the expansion's `and.l #65535`
; was encoded for %d0 and cleared the upper half of the pointer in %d0 (the
; first argument). Reduced with llvm-reduce from core's
; flt2dec::to_shortest_exp_str (float formatting crashed with SIGSEGV).
; No target triple or data layout: the same file compiles for the build host,
; whose output is the expected one. Driver: extend-into-address-register.c.
define i32 @nextrust_relay(ptr %p, i32 %len, i16 %e) {
entry:
  br label %call

call:
  %r = tail call i32 @nextrust_sink(ptr %p, i32 %len, i16 %e, i32 0, i1 false, ptr null, i32 0)
  ret i32 %r
}

declare i32 @nextrust_sink(ptr, i32, i16, i32, i1, ptr, i32)
