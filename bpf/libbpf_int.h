/* libbpf's low-level API.  Its header is <bpf/bpf.h>, which in this tree resolves to our
 * own module header (bpf/bpf.h, found first through -I.), so it is reached with
 * #include_next: the search continues after the directory this header was found in. */
#ifndef AGENTSH_BPF_LIBBPF_INT_H
#define AGENTSH_BPF_LIBBPF_INT_H

#include <linux/bpf.h>
#include_next <bpf/bpf.h>

#endif
