/* Two functions of libbpf's low-level API.  Its header is <bpf/bpf.h>, which in this tree
 * resolves to our own module header (bpf/bpf.h, found first through -I.), so the
 * prototypes are repeated here exactly as libbpf 1.x declares them. */
#ifndef AGENTSH_BPF_LIBBPF_INT_H
#define AGENTSH_BPF_LIBBPF_INT_H

#include <linux/bpf.h>

int bpf_prog_attach(int prog_fd, int attachable_fd, enum bpf_attach_type type, unsigned int flags);
int bpf_prog_detach2(int prog_fd, int attachable_fd, enum bpf_attach_type type);

#endif
