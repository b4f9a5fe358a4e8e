/*
 * Interrupt entry of the vTPM stub image (AT&T syntax, 64-bit, assembled
 * through the kernel crate's `global_asm!` in interrupts.rs).
 *
 * One 16-byte stub per vector pushes a zero error code where the CPU pushes
 * none, then the vector, and jumps to the common path, which saves the general
 * registers in the layout of the kernel's `TrapFrame`, calls
 * `trap_entry(&frame)` and returns with iretq.
 */
    .code64
/* ---- vector v at isr_stubs + 16 * v ------------------------------------------ */
    .section .text, "ax", @progbits
    .balign 16
    .globl isr_stubs
isr_stubs:
    .set vec, 0
    .rept 256
    .balign 16
    /* the CPU pushes an error code for these exceptions; push 0 for the rest */
    .if (vec == 8) || (vec == 10) || (vec == 11) || (vec == 12) || (vec == 13) || (vec == 14) || (vec == 17) || (vec == 21) || (vec == 29) || (vec == 30)
    .else
    pushq $0
    .endif
    pushq $vec
    jmp isr_common
    .set vec, vec + 1
    .endr

/* Saves the general registers (the layout of the kernel's `TrapFrame`), calls
 * `trap_entry(&frame)` on a 16-byte aligned stack, restores and returns. */
isr_common:
    push %rax
    push %rcx
    push %rdx
    push %rbx
    push %rbp
    push %rsi
    push %rdi
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    mov %rsp, %rbx
    and $-16, %rsp
    cld
    call trap_entry
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rdi
    pop %rsi
    pop %rbp
    pop %rbx
    pop %rdx
    pop %rcx
    pop %rax
    add $16, %rsp                       /* vector and error code */
    iretq

