// SPDX-License-Identifier: GPL-2.0
/* agentsh session guard: everything a session needs from eBPF, scoped to one cgroup v2
 * subtree.  The programs, maps and tracing links are created once per build and pinned
 * (bpf/pin.c); every program finds the current task's session by walking its cgroup's
 * ancestors to a cgroup id registered in `sessions` (find_session).  The socket programs
 * are attached to each session's cgroup.  The tracepoints are raw_tp, not tp_btf:
 * tp_btf makes libbpf parse the whole kernel BTF at every load (~10 ms CPU here); raw_tp
 * with every kernel read through BPF_CORE_READ needs only the CO-RE relocations, which the
 * loader resolves against a minimal BTF embedded at build time (see guard.c).  tracefs is
 * not needed either way.  BPF LSM and fentry are refused on the
 * target kernel, so exec *verification* (not prevention) runs at sched_process_exec:
 * the new image is set up but no user instruction has run, and a SIGKILL queued here is
 * delivered on the way back to user space. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "guard.bpf.h"

#define SIGKILL 9
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17
#define SIGNAL_GROUP_EXIT 0x4

char LICENSE[] SEC("license") = "GPL";

/* Loaded once per build and pinned (guard.c, pin.c): every session shares these programs
 * and finds its own state by its cgroup id. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GUARD_MAX_SESSIONS);
	__type(key, __u64);
	__type(value, struct guard_sess);
} sessions SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC); /* allocating 16k entries up front costs load time */
	__uint(max_entries, 16384);
	__type(key, __u32);
	__type(value, struct guard_expect);
} expect SEC(".maps");

/* Event rings, one per session at a time, by slot.  They are kept when a session ends and
 * reused by the next one: every change of a map-of-maps from user space waits for an RCU
 * grace period (~10 ms here).  slots records who holds each (user space only). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, GUARD_MAX_SESSIONS);
	__type(key, __u32);
	__array(values, struct {
		__uint(type, BPF_MAP_TYPE_RINGBUF);
		__uint(max_entries, GUARD_RING_BYTES);
	});
} rings SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GUARD_MAX_SESSIONS);
	__type(key, __u32);
	__type(value, struct guard_slot);
} slots SEC(".maps");

/* Network rules of every session: the key starts with the session (guard.bpf.h). */
struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GUARD_NET_ALL);
	__type(key, struct guard_v4_key);
	__type(value, struct guard_net_chain);
} net4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, GUARD_NET_ALL);
	__type(key, struct guard_v6_key);
	__type(value, struct guard_net_chain);
} net6 SEC(".maps");

/* events dropped because a session's ring was full, per session */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, GUARD_MAX_SESSIONS);
	__type(key, __u64);
	__type(value, __u64);
} lostc SEC(".maps");

/* original destination of a DNS-steered socket, to make replies look like they came from it */
struct dns_orig { __u32 ip4; __u32 port; };
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct dns_orig);
} dnsorig SEC(".maps");

/* A UDP socket connected to a destination the policy denies: connect() itself sends
 * nothing (glibc's getaddrinfo connects one to every answer it sorts and never sends),
 * so the connect succeeds and its datagrams are dropped at egress instead
 * (guard_egress).  Fail closed: without storage the connect is refused as before. */
struct udp_deny { __u32 addr[4]; __u32 rule; __u16 port; __u8 v6, on; };
struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct udp_deny);
} udpdeny SEC(".maps");

/* What a program knows about the session of the current task. */
struct sess_ctx {
	__u64 id;		/* its cgroup id, 0 when the task is in no session */
	struct guard_sess s;	/* a copy: the loader may replace the value meanwhile */
};

/* The session whose cgroup is the current task's cgroup or its nearest registered
 * ancestor, walking down from the root: an outer session's state wins over anything
 * registered below it.  Level 0 is the root cgroup, never a session. */
static __always_inline int find_session(struct sess_ctx *c)
{
	c->id = 0;
	for (int lvl = 1; lvl < GUARD_MAX_LEVELS; lvl++) {
		__u64 id = bpf_get_current_ancestor_cgroup_id(lvl);
		if (!id)
			return 0;
		struct guard_sess *s = bpf_map_lookup_elem(&sessions, &id);
		if (s) {
			c->id = id;
			c->s = *s;
			return 1;
		}
	}
	return 0;
}

/* Batch wakeups: the reader is woken per GUARD_WAKE_BYTES of data, or at once for urgent
 * records (exec kills); the loader flushes the rest on a 50 ms timer. */
static __always_inline void submit(void *ring, struct guard_ev *e, int urgent)
{
	__u64 fl = BPF_RB_NO_WAKEUP;
	if (urgent || bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) >= GUARD_WAKE_BYTES)
		fl = BPF_RB_FORCE_WAKEUP;
	bpf_ringbuf_submit(e, fl);
}

static __always_inline void count_lost(__u64 sess)
{
	__u64 *n = bpf_map_lookup_elem(&lostc, &sess);
	if (n)
		__sync_fetch_and_add(n, 1);
}

/* *ring is set to the session's ring for submit() */
static __always_inline struct guard_ev *reserve(const struct sess_ctx *c, void **ring, __u32 type,
						__u64 size)
{
	struct guard_ev *e = NULL;
	__u64 sess = c->id;
	*ring = bpf_map_lookup_elem(&rings, &c->s.slot);
	if (*ring)
		e = bpf_ringbuf_reserve(*ring, size, 0);
	if (!e) {
		count_lost(sess);
		return NULL;
	}
	__builtin_memset(e, 0, GUARD_EV_SHORT);
	__u64 id = bpf_get_current_pid_tgid();
	e->type = type;
	e->pid = id >> 32;
	e->tid = (__u32)id;
	e->uid = (__u32)bpf_get_current_uid_gid();
	e->ts = bpf_ktime_get_ns();
	e->cgid = bpf_get_current_cgroup_id();
	e->sess = sess;
	bpf_get_current_comm(e->comm, sizeof e->comm);
	return e;
}

/* ---- exec verification + exec events ---- */

static __always_inline __u32 verdict(const struct guard_expect *x, __u64 dev, __u64 ino, int script)
{
	if (!x)
		return GWHY_NO_ENTRY;
	if (x->iino) {
		if (!script)
			return GWHY_NOT_SCRIPT;
		return (x->idev == dev && x->iino == ino) ? GWHY_NONE : GWHY_MISMATCH;
	}
	if (script)
		return GWHY_SCRIPT;
	return (x->dev == dev && x->ino == ino) ? GWHY_NONE : GWHY_MISMATCH;
}

/* ---- exec arguments: keyed SipHash-2-4 of the argv/envp bytes in the new image ----
 * The key is random per session, written by the loader into the session's entry, and
 * never leaves the supervisor: without it the target cannot make a changed argument list
 * hash like the decided one. */

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64[GUARD_ARGS_CHUNK / 8]);
} argbuf SEC(".maps");

#define ROTL(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

struct sip { __u64 v0, v1, v2, v3; };

static __always_inline void sipround(struct sip *s)
{
	s->v0 += s->v1; s->v1 = ROTL(s->v1, 13); s->v1 ^= s->v0; s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3; s->v3 = ROTL(s->v3, 16); s->v3 ^= s->v2;
	s->v0 += s->v3; s->v3 = ROTL(s->v3, 21); s->v3 ^= s->v0;
	s->v2 += s->v1; s->v1 = ROTL(s->v1, 17); s->v1 ^= s->v2; s->v2 = ROTL(s->v2, 32);
}

static __always_inline void sip_word(struct sip *s, __u64 m)
{
	s->v3 ^= m;
	sipround(s);
	sipround(s);
	s->v0 ^= m;
}

struct args_walk {
	struct sip s;
	__u64 at;	/* next user address */
	__u32 left;	/* bytes still to hash */
	__u32 fault;
	__u64 last;	/* the final partial word (zero padded) */
};

/* One chunk per bpf_loop iteration: up to GUARD_ARGS_MAX bytes with one verified body. */
static long args_step(__u32 i, void *arg)
{
	struct args_walk *w = arg;
	__u32 k = 0, n = w->left;
	__u64 *buf = bpf_map_lookup_elem(&argbuf, &k);
	if (!n || !buf)
		return 1;
	if (n > GUARD_ARGS_CHUNK)
		n = GUARD_ARGS_CHUNK;
	asm volatile("" : "+r"(n));
	n &= 2 * GUARD_ARGS_CHUNK - 1;	/* restated bound for the verifier (n <= CHUNK) */
	if (!n || n > GUARD_ARGS_CHUNK || bpf_probe_read_user(buf, n, (const void *)w->at)) {
		w->fault = 1;
		return 1;
	}
	w->at += n;
	w->left -= n;
	__u32 words = n / 8;
	for (__u32 j = 0; j < GUARD_ARGS_CHUNK / 8; j++) {
		if (j >= words)
			break;
		sip_word(&w->s, buf[j]);
	}
	if (n & 7) /* only the last chunk can end inside a word */
		w->last = buf[words & (GUARD_ARGS_CHUNK / 8 - 1)] & ((1ull << ((n & 7) * 8)) - 1);
	return 0;
}

static __always_inline int args_hash(const struct guard_sess *ss, __u64 from, __u32 len, __u64 *out)
{
	struct args_walk w = { .at = from, .left = len };
	__u64 sip_k0 = ss->sip_k0, sip_k1 = ss->sip_k1;
	w.s.v0 = sip_k0 ^ 0x736f6d6570736575ull;
	w.s.v1 = sip_k1 ^ 0x646f72616e646f6dull;
	w.s.v2 = sip_k0 ^ 0x6c7967656e657261ull;
	w.s.v3 = sip_k1 ^ 0x7465646279746573ull;
	bpf_loop(GUARD_ARGS_MAX / GUARD_ARGS_CHUNK + 1, args_step, &w, 0);
	if (w.fault || w.left)
		return -1;
	sip_word(&w.s, ((__u64)len << 56) | w.last);
	w.s.v2 ^= 0xff;
	sipround(&w.s);
	sipround(&w.s);
	sipround(&w.s);
	sipround(&w.s);
	*out = w.s.v0 ^ w.s.v1 ^ w.s.v2 ^ w.s.v3;
	return 0;
}

/* Did the kernel copy the argument and environment bytes the decision saw?  p is the task
 * after exec: its mm is the new image, whose stack holds the copied strings. */
static __always_inline __u32 args_verdict(const struct guard_sess *ss, const struct guard_expect *x,
					  struct task_struct *p)
{
	if (!(x->flags & GEXF_ARGS))
		return GWHY_NONE;
	struct mm_struct *mm = BPF_CORE_READ(p, mm);
	__u64 as = BPF_CORE_READ(mm, arg_start), ae = BPF_CORE_READ(mm, arg_end);
	__u64 es = BPF_CORE_READ(mm, env_start), ee = BPF_CORE_READ(mm, env_end);
	__u64 total = (__u64)x->alen + x->elen, h = 0;
	if (ae != es || ee < es || ae < as || ee - es != x->elen || ae - as < x->alen ||
	    ((x->flags & GEXF_EXACT) && ae - as != x->alen) || total > GUARD_ARGS_MAX)
		return GWHY_ARGS;
	if (args_hash(ss, ae - x->alen, (__u32)total, &h) || h != x->ahash)
		return GWHY_ARGS;
	return GWHY_NONE;
}

SEC("raw_tp/sched_process_exec")
int BPF_PROG(guard_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm)
{
	struct sess_ctx c;
	if (!find_session(&c))
		return 0;
	__u64 dev = BPF_CORE_READ(bprm, file, f_inode, i_sb, s_dev);
	__u64 ino = BPF_CORE_READ(bprm, file, f_inode, i_ino);
	const char *fname = BPF_CORE_READ(bprm, filename);
	/* binfmt_script/binfmt_misc replace bprm->interp; bprm->file is then the interpreter */
	int script = BPF_CORE_READ(bprm, interp) != fname;
	__u32 key = (__u32)old_pid;
	struct guard_expect x = {}, *xp = bpf_map_lookup_elem(&expect, &key);
	int have = 0;
	if (xp) {
		x = *xp;
		bpf_map_delete_elem(&expect, &key);
		/* only this session's supervisor can announce an exec of its tasks */
		have = x.sess == c.id;
		if (!have)
			__builtin_memset(&x, 0, sizeof x);
	}
	__u32 why = verdict(have ? &x : NULL, dev, ino, script);
	if (why == GWHY_NONE)
		why = args_verdict(&c.s, &x, p);
	__u32 flags = script ? GEVF_SCRIPT : 0, type = GEV_EXEC;
	if (why != GWHY_NONE) {
		type = GEV_EXEC_MISMATCH;
		if (c.s.exec_mode == GUARD_EXEC_ENFORCE) {
			type = GEV_EXEC_KILLED;
			if (bpf_send_signal(SIGKILL))
				flags |= GEVF_KILL_FAILED;
		}
	}
	void *ring;
	struct guard_ev *e = reserve(&c, &ring, type, sizeof(struct guard_ev));
	if (!e)
		return 0;
	e->tid = (__u32)old_pid;
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	e->why = why;
	e->dev = dev;
	e->ino = ino;
	e->edev = x.iino ? x.idev : x.dev;
	e->eino = x.iino ? x.iino : x.ino;
	long n = bpf_probe_read_kernel_str(e->filename, sizeof e->filename, fname);
	if (n >= (long)sizeof e->filename)
		flags |= GEVF_TRUNCATED;
	e->flags = flags;
	submit(ring, e, type != GEV_EXEC);
	return 0;
}

SEC("raw_tp/sched_process_fork")
int BPF_PROG(guard_fork, struct task_struct *parent, struct task_struct *child)
{
	struct sess_ctx c;
	if (BPF_CORE_READ(child, pid) != BPF_CORE_READ(child, tgid))
		return 0; /* a thread, not a process */
	if (!find_session(&c))
		return 0;
	void *ring;
	struct guard_ev *e = reserve(&c, &ring, GEV_FORK, GUARD_EV_SHORT);
	if (!e)
		return 0;
	e->pid = BPF_CORE_READ(child, tgid);
	e->tid = e->pid;
	e->ppid = BPF_CORE_READ(parent, tgid);
	submit(ring, e, 0);
	return 0;
}

static __always_inline void on_exit(struct task_struct *p, int group_dead)
{
	struct sess_ctx c;
	if (!find_session(&c))
		return;
	__u32 tid = BPF_CORE_READ(p, pid);
	bpf_map_delete_elem(&expect, &tid); /* an announcement dies with its thread */
	if (!group_dead)
		return;
	void *ring;
	struct guard_ev *e = reserve(&c, &ring, GEV_EXIT, GUARD_EV_SHORT);
	if (!e)
		return;
	e->ppid = BPF_CORE_READ(p, real_parent, tgid);
	int code = BPF_CORE_READ(p, exit_code);
	if (BPF_CORE_READ(p, signal, flags) & SIGNAL_GROUP_EXIT)
		code = BPF_CORE_READ(p, signal, group_exit_code);
	e->exit_status = code;
	submit(ring, e, 0);
}

/* Kernels from 6.16 pass group_dead: exactly one thread of a process sees it true.  On
 * older kernels the tracepoint has one argument and attaching this program fails. */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(guard_exit, struct task_struct *p, bool group_dead)
{
	on_exit(p, group_dead);
	return 0;
}

/* Older kernels: signal->live is already decremented here, but two threads exiting at
 * once can both read 0, so a process may be reported twice.  The loader attaches this
 * program only when the one above cannot be attached. */
SEC("raw_tp/sched_process_exit")
int BPF_PROG(guard_exit_legacy, struct task_struct *p)
{
	on_exit(p, BPF_CORE_READ(p, signal, live.counter) == 0);
	return 0;
}

/* ---- network ---- */

struct chain_walk {
	const struct guard_net_chain *c;
	__u32 rule;
	__u16 port;
	__u16 proto;
	int decision;
};

/* One chain entry per bpf_loop iteration: the verifier checks this body once instead of
 * unrolling 32 iterations in each of the four socket programs. */
static long chain_step(__u32 i, void *arg)
{
	struct chain_walk *w = arg;
	const struct guard_net_chain *c = w->c;
	if (i >= GUARD_NET_CHAIN || i >= c->n)
		return 1;
	/* Restate the bound where the verifier sees it: clang would otherwise index with an
	 * unchecked copy of i.  The empty asm hides i's range so the mask stays. */
	__u32 idx = i;
	asm volatile("" : "+r"(idx));
	const struct guard_net_ent *e = &c->e[idx & (GUARD_NET_CHAIN - 1)];
	if ((e->proto && e->proto != w->proto) || w->port < e->port_lo || w->port > e->port_hi)
		return 0;
	w->rule = e->rule_id;
	w->decision = e->decision;
	return 1;
}

static __always_inline int chain_decide(const struct guard_net_chain *c, __u16 port, __u16 proto,
					__u32 *rule)
{
	struct chain_walk w = { .c = c, .port = port, .proto = proto, .decision = -1 };
	bpf_loop(GUARD_NET_CHAIN, chain_step, &w, 0);
	*rule = w.rule;
	return w.decision;
}

static __always_inline int decide(const struct sess_ctx *sc, int v4, __u32 ip4, const __u32 *ip6,
				  __u16 port, __u16 proto, __u32 *rule)
{
	const struct guard_net_chain *c;
	__u32 s0 = (__u32)sc->id, s1 = (__u32)(sc->id >> 32);
	if (v4) {
		struct guard_v4_key k = { .prefixlen = GUARD_SESS_BITS + 32, .sess = { s0, s1 }, .addr = ip4 };
		c = bpf_map_lookup_elem(&net4, &k);
	} else {
		struct guard_v6_key k = { .prefixlen = GUARD_SESS_BITS + 128, .sess = { s0, s1 } };
		k.addr[0] = ip6[0];
		k.addr[1] = ip6[1];
		k.addr[2] = ip6[2];
		k.addr[3] = ip6[3];
		c = bpf_map_lookup_elem(&net6, &k);
	}
	if (c) {
		int d = chain_decide(c, port, proto, rule);
		if (d >= 0)
			return d;
	}
	*rule = GUARD_RULE_DEFAULT;
	return sc->s.net_default;
}

static __always_inline void report_net(const struct sess_ctx *sess, __u32 type, int v6, const __u32 *a, __u16 port,
				       __u16 proto, __u8 op, __u32 rule)
{
	void *ring;
	struct guard_ev *e = reserve(sess, &ring, type, GUARD_EV_SHORT);
	if (!e)
		return;
	e->family = v6 ? 10 : 2;
	__builtin_memcpy(e->addr, a, v6 ? 16 : 4);
	e->port = port;
	e->proto = proto;
	e->op = op;
	e->rule_id = rule;
	submit(ring, e, 0); /* batched: a flood of denials must not cost a wakeup each */
}

/* Steer UDP to port 53 to the local resolver; remember where it was going. */
static __always_inline int steer_dns(const struct guard_sess *ss, struct bpf_sock_addr *ctx, int v6)
{
	if (!ss->dns_port || ctx->protocol != IPPROTO_UDP || ctx->user_port != bpf_htons(53))
		return 0;
	struct bpf_sock *sk = ctx->sk;
	if (!sk)
		return 0;
	struct dns_orig *o = bpf_sk_storage_get(&dnsorig, sk, 0, BPF_SK_STORAGE_GET_F_CREATE);
	if (o) {
		o->ip4 = v6 ? ctx->user_ip6[3] : ctx->user_ip4;
		o->port = ctx->user_port;
	}
	if (v6)
		ctx->user_ip6[3] = ss->dns_ip4;
	else
		ctx->user_ip4 = ss->dns_ip4;
	ctx->user_port = ss->dns_port;
	return 1;
}

/* A UDP connect: the socket's mark follows its latest connect (a socket re-connected to
 * an allowed destination sends again).  A denied one is allowed and marked; 0 when the
 * mark cannot be stored, so the caller refuses it. */
static __always_inline int udp_connect(struct bpf_sock_addr *ctx, int d, int v6, const __u32 *a,
				       __u16 port, __u32 rule)
{
	struct bpf_sock *sk = ctx->sk;
	if (!sk)
		return 0;
	struct udp_deny *u = bpf_sk_storage_get(&udpdeny, sk, 0,
						d == GUARD_DEC_DENY ? BPF_SK_STORAGE_GET_F_CREATE : 0);
	if (d != GUARD_DEC_DENY) {
		if (u)
			u->on = 0;
		return 0;
	}
	if (!u)
		return 0;
	u->addr[0] = a[0];
	u->addr[1] = a[1];
	u->addr[2] = a[2];
	u->addr[3] = a[3];
	u->port = port;
	u->v6 = v6;
	u->rule = rule;
	u->on = 1;
	return 1;
}

/* These programs are attached to session cgroups only.  A task in no registered session
 * that uses a socket created in one (passed over a unix socket, or a session that has
 * ended) is refused: nothing says which rules apply.  So is a session being removed (its
 * rule nodes go one by one: a half-removed rule set could allow what the whole denied). */
static __always_inline int gate(struct bpf_sock_addr *ctx, int v6, __u8 op)
{
	struct sess_ctx sc;
	if (!find_session(&sc) || sc.s.closing)
		return 0;
	__u32 a[4] = {};
	int v4 = !v6;
	if (v6) {
		a[0] = ctx->user_ip6[0];
		a[1] = ctx->user_ip6[1];
		a[2] = ctx->user_ip6[2];
		a[3] = ctx->user_ip6[3];
		/* ::ffff:a.b.c.d is an IPv4 destination: decide it with the IPv4 rules */
		v4 = !a[0] && !a[1] && a[2] == bpf_htonl(0xffff);
	} else {
		a[0] = ctx->user_ip4;
	}
	if (v4 && steer_dns(&sc.s, ctx, v6))
		return 1;
	__u16 port = bpf_ntohs((__u16)ctx->user_port);
	__u16 proto = (__u16)ctx->protocol;
	__u32 rule;
	/* Linux connects (and sends) to the unspecified address on the loopback
	 * address: 0.0.0.0, ::ffff:0.0.0.0 and :: are decided as 127.0.0.1 and
	 * ::1, or a policy denying localhost would let them through.  The event
	 * keeps the address the program gave. */
	__u32 k[4] = { a[0], a[1], a[2], a[3] };
	if (v4 && !(v6 ? k[3] : k[0]))
		k[v6 ? 3 : 0] = bpf_htonl(0x7f000001);
	else if (!v4 && !(k[0] | k[1] | k[2] | k[3]))
		k[3] = bpf_htonl(1);
	int d = decide(&sc, v4, v6 ? k[3] : k[0], k, port, proto, &rule);
	if (op == 1 && proto == IPPROTO_UDP && udp_connect(ctx, d, v6, a, port, rule))
		return 1;
	if (d == GUARD_DEC_ALLOW)
		return 1;
	report_net(&sc, d == GUARD_DEC_AUDIT ? GEV_NET_AUDIT : GEV_NET_DENIED, v6, a, port, proto, op,
		   rule);
	return d == GUARD_DEC_AUDIT;
}

SEC("cgroup/connect4")
int guard_connect4(struct bpf_sock_addr *ctx) { return gate(ctx, 0, 1); }
SEC("cgroup/connect6")
int guard_connect6(struct bpf_sock_addr *ctx) { return gate(ctx, 1, 1); }
SEC("cgroup/sendmsg4")
int guard_sendmsg4(struct bpf_sock_addr *ctx) { return gate(ctx, 0, 2); }
SEC("cgroup/sendmsg6")
int guard_sendmsg6(struct bpf_sock_addr *ctx) { return gate(ctx, 1, 2); }

static __always_inline int unsteer(struct bpf_sock_addr *ctx, int v6)
{
	struct sess_ctx sc;
	if (!find_session(&sc) || !sc.s.dns_port || ctx->user_port != sc.s.dns_port)
		return 1;
	__u32 dns_ip4 = sc.s.dns_ip4;
	if (v6 && (ctx->user_ip6[0] || ctx->user_ip6[1] || ctx->user_ip6[2] != bpf_htonl(0xffff) ||
		   ctx->user_ip6[3] != dns_ip4))
		return 1;
	if (!v6 && ctx->user_ip4 != dns_ip4)
		return 1;
	struct bpf_sock *sk = ctx->sk;
	if (!sk)
		return 1;
	struct dns_orig *o = bpf_sk_storage_get(&dnsorig, sk, 0, 0);
	if (!o)
		return 1;
	if (v6)
		ctx->user_ip6[3] = o->ip4;
	else
		ctx->user_ip4 = o->ip4;
	ctx->user_port = o->port;
	return 1;
}

/* Datagrams of a UDP socket whose connect was denied (udp_connect): dropped, and the
 * sender gets EPERM.  All of them, whatever the header says: netfilter's OUTPUT DNAT has
 * already rewritten the destination here, and source routing would hide it in an option,
 * so "another destination" cannot be told from the packet.  The price is a sendto() with
 * an address on such a socket, refused too until it is re-connected to an allowed
 * destination.  Packets of unmarked sockets pass untouched. */
SEC("cgroup_skb/egress")
int guard_egress(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->protocol != IPPROTO_UDP)
		return 1;
	struct udp_deny *u = bpf_sk_storage_get(&udpdeny, sk, 0, 0);
	if (!u || !u->on)
		return 1;
	struct sess_ctx sc;
	__u32 a[4] = { u->addr[0], u->addr[1], u->addr[2], u->addr[3] };
	if (find_session(&sc)) {
		if (u->v6)      /* report_net's copy needs a constant size */
			report_net(&sc, GEV_NET_DENIED, 1, a, u->port, IPPROTO_UDP, 4, u->rule);
		else
			report_net(&sc, GEV_NET_DENIED, 0, a, u->port, IPPROTO_UDP, 4, u->rule);
	}
	return 0;
}

SEC("cgroup/recvmsg4")
int guard_recvmsg4(struct bpf_sock_addr *ctx) { return unsteer(ctx, 0); }
SEC("cgroup/recvmsg6")
int guard_recvmsg6(struct bpf_sock_addr *ctx) { return unsteer(ctx, 1); }

/* Allow-list of inet sockets: TCP streams and UDP datagrams, whose every send path passes
 * the connect/sendmsg hooks above.  Raw sockets forge packets; ICMP "ping" datagram
 * sockets send to any address without the sendmsg hook; MPTCP, SCTP and UDP-Lite are
 * refused rather than trusted to reach the same hooks.  Outside any session: refused. */
SEC("cgroup/sock_create")
int guard_sock_create(struct bpf_sock *sk)
{
	struct sess_ctx sc;
	if (!find_session(&sc) || sc.s.closing)
		return 0;
	if ((sk->type == SOCK_STREAM && sk->protocol == IPPROTO_TCP) ||
	    (sk->type == SOCK_DGRAM && sk->protocol == IPPROTO_UDP))
		return 1;
	void *ring;
	struct guard_ev *e = reserve(&sc, &ring, GEV_SOCK_DENIED, GUARD_EV_SHORT);
	if (e) {
		e->family = sk->family;
		e->proto = sk->protocol;
		e->port = sk->type;
		e->op = 3;
		e->rule_id = GUARD_RULE_DEFAULT;
		submit(ring, e, 0);
	}
	return 0;
}
