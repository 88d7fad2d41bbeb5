/* clone_vm.S — clone3() whose child runs a function on the caller's stack.
 *
 * long enf_clone3_call(struct clone_args *ca, size_t size, void (*fn)(void *), void *arg)
 *
 * For CLONE_VM | CLONE_VFORK (spawn.c): the child shares the address space and,
 * until it execs or exits, borrows the stack below the suspended caller's stack
 * pointer, as vfork() does.  It cannot return from a C wrapper of the syscall (it
 * would pop the caller's return address and then overwrite it), so the child's
 * side lives here: it calls fn(arg) below the red zone and never returns.
 * Returns the child's pid in the caller, or -errno. */
#if defined(__x86_64__)
	.text
	.globl	enf_clone3_call
	.hidden	enf_clone3_call
	.type	enf_clone3_call, @function
enf_clone3_call:
	.cfi_startproc
	mov	%rdx, %r8		/* fn and arg survive the syscall in r8/r9 */
	mov	%rcx, %r9
	mov	$435, %eax		/* __NR_clone3 */
	syscall
	test	%rax, %rax
	jz	1f
	ret				/* caller: pid or -errno */
1:	/* child */
	.cfi_undefined rip
	xor	%ebp, %ebp
	sub	$256, %rsp		/* below the caller's red zone */
	and	$-16, %rsp
	mov	%r9, %rdi
	call	*%r8
	mov	$127, %edi		/* fn never returns; if it did: exit(127) */
	mov	$60, %eax		/* __NR_exit */
	syscall
	hlt
	.cfi_endproc
	.size	enf_clone3_call, .-enf_clone3_call
#endif
	.section .note.GNU-stack,"",@progbits
