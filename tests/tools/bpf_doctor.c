/* Prints bpf_probe()'s report: what `agentsh doctor` will show for the eBPF layer.
 * Exit 0 when the guard is usable here, 1 when not, 2 when probing failed. */
#include <stdio.h>
#include <string.h>
#include "bpf/bpf.h"

int main(void)
{
	struct bpf_probe_report r;
	int err = bpf_probe(&r);
	if (err) {
		fprintf(stderr, "bpf_doctor: probing eBPF failed: %s (run as root)\n", strerror(-err));
		return 2;
	}
	for (int i = 0; i < BPF_FEAT__COUNT; i++)
		printf("%-4s %-40s %s\n", r.f[i].ok ? "ok" : "NO", r.f[i].name, r.f[i].detail);
	printf("guard usable: %s\n", r.guard_usable ? "yes" : "no");
	return r.guard_usable ? 0 : 1;
}
