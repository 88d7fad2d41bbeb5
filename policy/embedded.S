/* The default policy, compiled into the binary so agentsh works with no
 * configuration at all.  NUL-terminated; the length excludes the NUL. */
	.section .rodata
	.global policy_embedded_default_yaml
	.global policy_embedded_default_end
	.type policy_embedded_default_yaml, @object
policy_embedded_default_yaml:
	.incbin "examples/policies/default.yaml"
policy_embedded_default_end:
	.byte 0
	.section .note.GNU-stack,"",@progbits
