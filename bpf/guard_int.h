/* Private to bpf/: the guard object shared by the loader's files. */
#ifndef AGENTSH_BPF_GUARD_INT_H
#define AGENTSH_BPF_GUARD_INT_H

#include <linux/types.h>
#include <stddef.h>
#include "bpf/bpf.h"
#include "bpf/guard.bpf.h"

/* One LPM node per distinct (family, masked prefix) among the rules, with its chain. */
struct net_node {
	int family;
	__u8 addr[16];
	__u8 prefix;
	__u8 closed;	/* the chain ends with a rule matching every port and protocol */
	struct guard_net_chain chain;
};

struct guard_bpf;
struct ring_buffer;
struct bpf_program;

struct bpf_guard {
	struct guard_bpf *skel;
	int cgfd;
	int nattached;	/* socket programs attached to cgfd so far */
	struct ring_buffer *rb;
	int epfd;	/* ring buffer + flush timer, what bpf_guard_fd() returns */
	int timerfd;
	__u64 lost_seen;
	/* network rules as added, and the LPM nodes derived from them */
	struct bpf_net_rule *rules;
	size_t nrules, rules_cap;
	struct net_node *nodes;
	size_t nnodes, nodes_cap;
	/* the callback of the bpf_guard_poll() in progress */
	void (*cb)(void *ctx, const struct bpf_event *ev);
	void *cbctx;
	int delivered;
};

/* guard.c: whether this kernel's exit tracepoint has group_dead (see guard.bpf.c) */
int guard_exit_has_group_dead(void);
/* Open and load the guard object (only one program when `only` is set), using the embedded
 * minimal BTF when it was cut from the running kernel. */
int guard_skel_load(struct guard_bpf **out, const char *only);

/* events.c */
int guard_events_open(struct bpf_guard *g);
void guard_events_close(struct bpf_guard *g);

/* exec_args.c: a fresh secret key for the argument hash (before anything is attached);
 * the wire form of an announcement's arguments */
int guard_args_key(struct bpf_guard *g);
int guard_args_expect(const struct bpf_exec_args *a, struct guard_expect *x);

/* net.c */
void guard_net_free(struct bpf_guard *g);

/* libbpf's messages are kept, not printed: the last one explains a failed load. */
void guard_quiet_libbpf(void);
const char *guard_last_libbpf_msg(void);

/* kernel s_dev encoding (MAJOR << 20 | MINOR) of a user-space dev_t; -EINVAL if it has none */
int guard_kdev(dev_t d, __u64 *out);
dev_t guard_udev(__u64 kdev);

#endif
