/* Wire format shared by bpf/guard.bpf.c (kernel) and the loader (private to bpf/).
 * Kernel side includes vmlinux.h first, user space <linux/types.h>. */
#ifndef AGENTSH_BPF_GUARD_BPF_H
#define AGENTSH_BPF_GUARD_BPF_H

#define GUARD_NET_CHAIN 32	/* = BPF_NET_MAX_CHAIN */
#define GUARD_NET_NODES 4096	/* LPM entries per family and session */
#define GUARD_NET_ALL (16 * GUARD_NET_NODES)	/* LPM entries per family, all sessions */
#define GUARD_RING_BYTES (1u << 20)
#define GUARD_FILENAME 256

/* exec announcement, keyed by the tid that calls execve (u32) */
struct guard_expect {
	__u64 dev, ino;		/* kernel encoding: MAJOR << 20 | MINOR */
	__u64 idev, iino;	/* interpreter; iino == 0: an ELF is expected */
	/* GEXF_ARGS: the argv/envp bytes the decision saw.  The kernel lays the strings out
	 * as [arg_start, arg_end) = [env_start ... env_end); ahash is the keyed SipHash-2-4
	 * of the last alen bytes of the arg area followed by the env area (elen bytes). */
	__u64 ahash;
	__u32 alen, elen;
	__u32 flags;
	__u32 pad;
	__u64 sess;	/* cgroup id of the session that announced it */
};
#define GEXF_ARGS 1u	/* verify the argument and environment bytes */
#define GEXF_EXACT 2u	/* alen is the whole arg area (an ELF); else its tail (a script) */
#define GUARD_ARGS_MAX (2u << 20)	/* = BPF_EXEC_ARGS_MAX */
#define GUARD_ARGS_CHUNK 256		/* bytes per bpf_loop step; a power of two */

/* One registered session, keyed by its cgroup id (u64) in the pinned `sessions` map.  The
 * loader replaces the whole value to change a setting; the programs copy it once. */
struct guard_sess {
	__u32 exec_mode;	/* GUARD_EXEC_* */
	__u32 net_default;	/* GUARD_DEC_* */
	__u32 dns_ip4;		/* network order */
	__u32 dns_port;		/* network order, 0 = off */
	__u64 sip_k0, sip_k1;	/* the session's secret argument-hash key */
	__u64 sup_pid;		/* the supervisor, to tell a crashed session's entry (sweep) */
	__u64 sup_start;	/* its start time (/proc/PID/stat field 22) */
	__u32 slot;		/* its event ring: rings[slot] */
	__u32 closing;		/* being removed: the socket programs refuse everything */
};
/* A claimed ring slot (slots map, u32 slot -> owner): rings are kept and reused, because
 * every change of the map-of-maps waits for an RCU grace period (~10 ms here). */
struct guard_slot {
	__u64 pid, start;	/* the supervisor that claimed it */
};
#define GUARD_MAX_SESSIONS 1024
#define GUARD_MAX_LEVELS 32	/* cgroup ancestors walked to find a session */
#define GUARD_WAKE_BYTES (256u << 10)

/* The rule tries are shared: a key starts with the session's cgroup id (its 64 bits are
 * part of every prefix), so a lookup only ever matches the session's own nodes. */
#define GUARD_SESS_BITS 64
struct guard_v4_key { __u32 prefixlen; __u32 sess[2]; __u32 addr; };
struct guard_v6_key { __u32 prefixlen; __u32 sess[2]; __u32 addr[4]; };

struct guard_net_ent {
	__u16 port_lo, port_hi;	/* host order, inclusive */
	__u8 proto;		/* 0 any */
	__u8 decision;		/* enum bpf_net_decision */
	__u16 pad;
	__u32 rule_id;
};
/* Every rule whose CIDR contains the LPM node's prefix, in policy order: for an address
 * whose longest matching node is this one, these are exactly the rules containing it. */
struct guard_net_chain {
	__u32 n;
	struct guard_net_ent e[GUARD_NET_CHAIN];
};

enum { GEV_EXEC = 1, GEV_FORK, GEV_EXIT, GEV_EXEC_KILLED, GEV_EXEC_MISMATCH,
       GEV_NET_DENIED, GEV_NET_AUDIT, GEV_SOCK_DENIED };
enum { GWHY_NONE, GWHY_NO_ENTRY, GWHY_MISMATCH, GWHY_NOT_SCRIPT, GWHY_SCRIPT, GWHY_ARGS };
#define GEVF_TRUNCATED 1u
#define GEVF_SCRIPT 2u
#define GEVF_KILL_FAILED 4u

struct guard_ev {
	__u32 type, pid, tid, ppid, uid, flags;
	__u64 ts, cgid;
	char comm[16];
	__s32 exit_status;
	__u32 why;
	__u64 dev, ino, edev, eino;	/* kernel dev encoding */
	__u32 family;
	__u16 port;			/* host order */
	__u16 proto;
	__u8 op, pad[3];
	__u32 rule_id;
	__u64 sess;			/* the session (a reused ring may hold older records) */
	__u8 addr[16];
	char filename[GUARD_FILENAME];	/* only in exec records: others end before it */
};
#define GUARD_EV_SHORT (sizeof(struct guard_ev) - GUARD_FILENAME)

#define GUARD_EXEC_ENFORCE 0
#define GUARD_EXEC_AUDIT 1
#define GUARD_DEC_DENY 0
#define GUARD_DEC_ALLOW 1
#define GUARD_DEC_AUDIT 2
#define GUARD_RULE_DEFAULT 0xffffffffu

#endif
