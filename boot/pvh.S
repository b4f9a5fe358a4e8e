/*
 * PVH entry of the vTPM stub image (AT&T syntax, assembled through the kernel
 * crate's `global_asm!`).
 *
 * The loader (QEMU, Firecracker, Cloud Hypervisor, Xen) finds the 32-bit entry
 * point in the "Xen" ELF note of type 18 (XEN_ELFNOTE_PHYS32_ENTRY) and jumps to
 * it in 32-bit protected mode, paging off, with %ebx = physical address of
 * `struct hvm_start_info`. Nothing else is defined, not even %esp.
 *
 * This file:
 *   1. builds identity page tables for the first 4 GiB with 2 MiB pages (the
 *      top 32 MiB, which hold virtio-mmio, IOAPIC and LAPIC, uncached),
 *   2. enables PAE, long mode and paging, loads its own GDT,
 *   3. jumps to 64-bit code, sets up the boot stack and calls
 *      `kernel_main(start_info_paddr)`.
 *
 * The interrupt entry stubs are in isr.S.
 */

/* ---- ELF note: where the 32-bit entry is --------------------------------- */
    .section .note.Xen, "a", @note
    .balign 4
    .long 4                     /* n_namesz: "Xen\0" */
    .long 8                     /* n_descsz: u64 entry, high half 0 */
    .long 18                    /* n_type: XEN_ELFNOTE_PHYS32_ENTRY */
    .asciz "Xen"
    .balign 4
    .long pvh_start32
    .long 0

/* ---- 32-bit entry --------------------------------------------------------- */
    .section .text.boot, "ax", @progbits
    .code32
    .globl pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %esi                      /* start_info, kept for kernel_main */
    mov $boot_stack_top, %esp

    /* PML4[0] -> PDPT */
    mov $boot_pdpt, %eax
    or $0x3, %eax                       /* present, writable */
    mov %eax, boot_pml4
    movl $0, boot_pml4 + 4

    /* PDPT[0..4] -> the four page directories */
    mov $boot_pd, %eax
    or $0x3, %eax
    mov $boot_pdpt, %edi
    mov $4, %ecx
1:  mov %eax, (%edi)
    movl $0, 4(%edi)
    add $0x1000, %eax
    add $8, %edi
    loop 1b

    /* 2048 PD entries of 2 MiB each: identity map of 0 .. 4 GiB */
    mov $boot_pd, %edi
    xor %ecx, %ecx
2:  mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax                      /* present, writable, 2 MiB page */
    cmp $2032, %ecx                     /* 0xFE000000 and up: MMIO */
    jb 3f
    or $0x18, %eax                      /* PWT | PCD: uncached */
3:  mov %eax, (%edi)
    movl $0, 4(%edi)
    add $8, %edi
    inc %ecx
    cmp $2048, %ecx
    jb 2b

    /* CR4.PAE */
    mov %cr4, %eax
    or $0x20, %eax
    mov %eax, %cr4

    mov $boot_pml4, %eax
    mov %eax, %cr3

    /* EFER.LME */
    mov $0xC0000080, %ecx
    rdmsr
    or $0x100, %eax
    wrmsr

    /* CR0: PG | WP | PE */
    mov %cr0, %eax
    or $0x80010001, %eax
    mov %eax, %cr0

    lgdt boot_gdt_ptr
    ljmp $0x08, $pvh_start64

/* ---- 64-bit ---------------------------------------------------------------- */
    .code64
pvh_start64:
    mov $0x10, %ax
    mov %ax, %ds
    mov %ax, %es
    mov %ax, %ss
    xor %eax, %eax
    mov %ax, %fs
    mov %ax, %gs
    lea boot_stack_top(%rip), %rsp
    xor %ebp, %ebp
    mov %esi, %edi                      /* zero-extended start_info address */
    call kernel_main
4:  cli
    hlt
    jmp 4b

/* ---- GDT: null, 64-bit code (0x08), data (0x10) ------------------------------ */
    .section .rodata, "a", @progbits
    .balign 16
boot_gdt:
    .quad 0
    .quad 0x00AF9A000000FFFF
    .quad 0x00CF92000000FFFF
boot_gdt_ptr:
    .word boot_gdt_ptr - boot_gdt - 1
    .long boot_gdt

/* ---- page tables and the boot stack ------------------------------------------ */
    .section .bss.boot, "aw", @nobits
    .balign 4096
boot_pml4:
    .skip 4096
boot_pdpt:
    .skip 4096
boot_pd:
    .skip 4 * 4096
    .globl boot_stack_bottom
boot_stack_bottom:
    .skip 512 * 1024
    .globl boot_stack_top
boot_stack_top:
