/* Private to bpf/: the guard object shared by the loader's files. */
#ifndef AGENTSH_BPF_GUARD_INT_H
#define AGENTSH_BPF_GUARD_INT_H

#include <linux/bpf.h>
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

/* The pinned, shared state of this build (pin.c): fds of what user space touches. */
#define GUARD_NSOCK 8	/* connect4/6, sendmsg4/6, recvmsg4/6, sock_create, egress */
extern const enum bpf_attach_type guard_sock_attach[GUARD_NSOCK];	/* guard.c */
#define GUARD_NLINK 3	/* exec, fork, exit */
struct guard_pins {
	int sessions, expect, rings, slots, net4, net6, lostc;	/* maps */
	int sock[GUARD_NSOCK];				/* programs attached per session */
	int link[GUARD_NLINK];				/* the tracing links */
	char dir[96];					/* /sys/fs/bpf/agentsh/<build id> */
	char id[24];					/* the build id */
	int created;					/* this process loaded it */
};

struct bpf_guard {
	struct guard_pins pins;
	/* this session's own state: registered in pins.sessions under cgid */
	__u64 cgid;
	int registered;
	struct guard_sess sess;
	__u32 slot;		/* its claimed ring slot */
	int slot_claimed;
	int ring;		/* rings[slot] (fd) */
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

/* Open and load the guard object (only one program when `only` is set), using the embedded
 * minimal BTF when it was cut from the running kernel. */
int guard_skel_load(struct guard_bpf **out, const char *only);

/* pin.c: the pinned programs, maps and links of this build, loaded and pinned by the first
 * session (under a lock), validated, with dead sessions' entries and unused older builds
 * swept.  guard_pins_close() closes the fds only: the pins stay. */
int guard_pins_open(struct guard_pins *p);
/* guard.c: write g->sess to the session's entry (one atomic replacement) */
int guard_sess_write(struct bpf_guard *g);
void guard_pins_close(struct guard_pins *p);
/* mark the session closing (its socket programs refuse everything from then on):
 * the first step of removing it */
void guard_pins_close_session(const struct guard_pins *p, __u64 cgid);
/* then remove every entry of the (closing) session `cgid` from the shared maps (expect
 * entries and rule nodes too); its ring slot is released separately.  `nodes_gone`:
 * the caller has already deleted the session's rule nodes by their keys (net.c), so
 * the rule tries, shared by every session, need no scan. */
void guard_pins_forget(const struct guard_pins *p, __u64 cgid, bool nodes_gone);
/* net.c: delete the rule nodes this guard wrote, by their keys; 0 when none is left */
int guard_net_forget(struct bpf_guard *g);
/* claim a free ring slot for this process; its ring, reused or created: fd or -errno */
int guard_slot_claim(const struct guard_pins *p, __u32 *slot);
int guard_slot_ring(const struct guard_pins *p, __u32 slot);
void guard_slot_release(const struct guard_pins *p, __u32 slot);
/* the root of the pins; the cgroup id of a cgroup directory fd */
#define GUARD_PIN_ROOT "/sys/fs/bpf/agentsh"
int guard_cgroup_id(int cgfd, __u64 *id);
/* this build's id: SHA-256 of the BPF object, 16 hex digits */
int guard_build_id(char *out, size_t len);
/* 0 if the cgroup with this id exists, -ESTALE/-ENOENT if it is gone, other -errno */
int guard_cgroup_alive(__u64 id);
/* this process's start time (/proc/self/stat field 22), recorded in its session entry */
__u64 guard_self_start(void);

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
