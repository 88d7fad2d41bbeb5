// SPDX-License-Identifier: GPL-2.0
/* Trampoline-based program types, loaded only by bpf_probe() to tell `agentsh doctor`
 * whether this kernel offers BPF LSM / fentry as extra layers.  Never attached. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "GPL";

SEC("lsm/bprm_check_security")
int BPF_PROG(probe_lsm, struct linux_binprm *bprm)
{
	return 0;
}

SEC("fentry/do_exit")
int BPF_PROG(probe_fentry, long code)
{
	return 0;
}
