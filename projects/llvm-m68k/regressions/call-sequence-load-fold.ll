; Regression: a load folded into the store of an outgoing call argument
; (`move.l (%a0),(%sp)`) must not move into the call sequence. Each function
; below makes two libcalls (__divdi3 and __udivdi3; __addsf3 and __mulsf3;
; __divsi3 and __umodsi3 on the 68000), and the second one's argument is loaded
; after a store of the first one's result. Libcall sequences hang off the entry token; with the loads
; folded, a chain path entered one call sequence from the side and the list
; scheduler paired a CALLSEQ_END with the other call's CALLSEQ_START:
; llc crashed with SIGSEGV in SelectionDAGISel::CodeGenAndEmitDAG.
; Found with Rust's `let y = x as f32` next to f32 libm calls in a loop
; (__truncdfsf2 twice); that libcall is left out here because the C driver
; links libgcc's, which returns its float in %fp0 (a hard-float libgcc).
; No target triple or data layout: the same file compiles for the build host,
; whose output is the expected one. Driver: call-sequence-load-fold.c.
define i64 @nextrust_div64_twice(ptr %p, ptr %q) {
  %x = load i64, ptr %p, align 4
  %y = sdiv i64 %x, 7
  store i64 %y, ptr %q, align 4
  %x.1 = load i64, ptr %p, align 4
  %y.1 = udiv i64 %x.1, 1000000007
  ret i64 %y.1
}

define float @nextrust_fadd_twice(ptr %p, ptr %q) {
  %x = load float, ptr %p, align 4
  %y = fadd float %x, 1.5
  store float %y, ptr %q, align 4
  %x.1 = load float, ptr %p, align 4
  %y.1 = fmul float %x.1, 3.25
  ret float %y.1
}

define i32 @nextrust_div32_twice(ptr %p, ptr %q) {
  %x = load i32, ptr %p, align 4
  %y = sdiv i32 %x, 7
  store i32 %y, ptr %q, align 4
  %x.1 = load i32, ptr %p, align 4
  %y.1 = urem i32 %x.1, 10007
  ret i32 %y.1
}
