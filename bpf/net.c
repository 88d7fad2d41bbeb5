/* Network rules → LPM tries with first-match semantics.
 *
 * An LPM trie answers "longest prefix containing the address", but a policy is evaluated
 * first-match.  For an address whose longest matching node is P, the rules whose CIDR
 * contains the address are exactly the rules whose prefix contains P (any such prefix is P
 * or a shorter prefix of it).  So every node carries the chain of all rules containing it,
 * in policy order; BPF walks the chain and the first rule whose port range and protocol fit
 * decides.  A rule covering every port and protocol closes a chain: nothing after it can
 * match, so it is not stored.  Rules are appended in policy order (index = priority). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include "bpf/libbpf_int.h"
#include "bpf/guard_int.h"

static int addr_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static void mask_addr(__u8 *a, int len, int prefix)
{
	for (int i = 0; i < len; i++) {
		int bits = prefix - i * 8;
		if (bits >= 8)
			continue;
		a[i] &= bits <= 0 ? 0 : (__u8)(0xff << (8 - bits));
	}
}

static const __u8 v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Validate and canonicalise: mask host bits, store ::ffff:0:0/96+n as IPv4 /n. */
static int normalise(const struct bpf_net_rule *in, struct bpf_net_rule *r)
{
	*r = *in;
	if (r->family != AF_INET && r->family != AF_INET6)
		return -EAFNOSUPPORT;
	if (r->prefix > addr_len(r->family) * 8 || r->port_lo > r->port_hi)
		return -EINVAL;
	if (r->proto && r->proto != IPPROTO_TCP && r->proto != IPPROTO_UDP)
		return -EPROTONOSUPPORT;
	if (r->decision != BPF_NET_DENY && r->decision != BPF_NET_ALLOW &&
	    r->decision != BPF_NET_AUDIT)
		return -EINVAL;
	if (r->family == AF_INET6 && r->prefix >= 96 && !memcmp(r->addr, v4mapped, 12)) {
		r->family = AF_INET;
		memmove(r->addr, r->addr + 12, 4);
		r->prefix -= 96;
	}
	if (r->family == AF_INET)
		memset(r->addr + 4, 0, 12);
	mask_addr(r->addr, addr_len(r->family), r->prefix);
	return 0;
}

static int rule_contains(const struct bpf_net_rule *r, const struct net_node *n)
{
	if (r->family != n->family || r->prefix > n->prefix)
		return 0;
	__u8 a[16];
	memcpy(a, n->addr, sizeof a);
	mask_addr(a, addr_len(n->family), r->prefix);
	return !memcmp(a, r->addr, addr_len(n->family));
}

static int rule_is_total(const struct bpf_net_rule *r)
{
	return !r->proto && r->port_lo == 0 && r->port_hi == 65535;
}

/* Append r to n's chain; -E2BIG when full (check with dry_run first). */
static int chain_append(struct net_node *n, const struct bpf_net_rule *r, int dry_run)
{
	if (n->closed)
		return 0;
	if (n->chain.n >= GUARD_NET_CHAIN)
		return -E2BIG;
	if (dry_run)
		return 0;
	struct guard_net_ent *e = &n->chain.e[n->chain.n++];
	*e = (struct guard_net_ent){ .port_lo = r->port_lo, .port_hi = r->port_hi,
				     .proto = r->proto, .decision = (__u8)r->decision,
				     .rule_id = r->rule_id };
	n->closed = (__u8)rule_is_total(r);
	return 0;
}

static struct net_node *find_node(struct bpf_guard *g, const struct bpf_net_rule *r)
{
	for (size_t i = 0; i < g->nnodes; i++) {
		struct net_node *n = &g->nodes[i];
		if (n->family == r->family && n->prefix == r->prefix &&
		    !memcmp(n->addr, r->addr, addr_len(r->family)))
			return n;
	}
	return NULL;
}

/* A node for r's own prefix, holding every earlier rule that contains it. */
static int new_node(struct bpf_guard *g, const struct bpf_net_rule *r, struct net_node **out)
{
	if (g->nnodes == g->nodes_cap) {
		size_t cap = g->nodes_cap ? g->nodes_cap * 2 : 16;
		struct net_node *p = realloc(g->nodes, cap * sizeof *p);
		if (!p)
			return -ENOMEM;
		g->nodes = p;
		g->nodes_cap = cap;
	}
	struct net_node n = { .family = r->family, .prefix = r->prefix };
	memcpy(n.addr, r->addr, sizeof n.addr);
	for (size_t i = 0; i < g->nrules; i++) {
		if (!rule_contains(&g->rules[i], &n))
			continue;
		if (chain_append(&n, &g->rules[i], 0))
			return -E2BIG;
	}
	if (chain_append(&n, r, 1))
		return -E2BIG;
	g->nodes[g->nnodes] = n;
	*out = &g->nodes[g->nnodes++];
	return 0;
}

/* Write (chain) or delete (NULL) the session's node n in its family's trie. */
static int node_op(struct bpf_guard *g, const struct net_node *n, const struct guard_net_chain *chain)
{
	int r;
	__u32 s[2] = { (__u32)g->cgid, (__u32)(g->cgid >> 32) };
	if (n->family == AF_INET) {
		struct guard_v4_key k = { .prefixlen = GUARD_SESS_BITS + n->prefix, .sess = { s[0], s[1] } };
		memcpy(&k.addr, n->addr, 4);
		r = chain ? bpf_map_update_elem(g->pins.net4, &k, chain, BPF_ANY)
			  : bpf_map_delete_elem(g->pins.net4, &k);
	} else {
		struct guard_v6_key k = { .prefixlen = GUARD_SESS_BITS + n->prefix, .sess = { s[0], s[1] } };
		memcpy(k.addr, n->addr, 16);
		r = chain ? bpf_map_update_elem(g->pins.net6, &k, chain, BPF_ANY)
			  : bpf_map_delete_elem(g->pins.net6, &k);
	}
	return r < 0 ? -errno : 0;
}

static int write_node(struct bpf_guard *g, const struct net_node *n)
{
	return node_op(g, n, &n->chain);
}

/* A node that was never written (a failed add) or is gone already is not an error. */
int guard_net_forget(struct bpf_guard *g)
{
	int rc = 0;
	for (size_t i = 0; i < g->nnodes; i++) {
		int r = node_op(g, &g->nodes[i], NULL);
		if (r < 0 && r != -ENOENT)
			rc = r;
	}
	return rc;
}

static int keep_rule(struct bpf_guard *g, const struct bpf_net_rule *r)
{
	if (g->nrules == g->rules_cap) {
		size_t cap = g->rules_cap ? g->rules_cap * 2 : 16;
		struct bpf_net_rule *p = realloc(g->rules, cap * sizeof *p);
		if (!p)
			return -ENOMEM;
		g->rules = p;
		g->rules_cap = cap;
	}
	g->rules[g->nrules++] = *r;
	return 0;
}

int bpf_guard_net_add(struct bpf_guard *g, const struct bpf_net_rule *in)
{
	struct bpf_net_rule r;
	int err;
	if (!g || !in)
		return -EINVAL;
	if ((err = normalise(in, &r)))
		return err;
	if (g->nrules >= BPF_NET_MAX_RULES)
		return -E2BIG;
	/* dry run first so a full chain leaves nothing half-applied */
	for (size_t i = 0; i < g->nnodes; i++)
		if (rule_contains(&r, &g->nodes[i]) && chain_append(&g->nodes[i], &r, 1))
			return -E2BIG;
	struct net_node *own = find_node(g, &r);
	size_t fresh = (size_t)-1; /* index of a node created for r: written even if closed */
	if (!own) {
		if (g->nnodes >= GUARD_NET_NODES)
			return -E2BIG;
		if ((err = new_node(g, &r, &own)))
			return err;
		fresh = g->nnodes - 1;
	}
	if ((err = keep_rule(g, &r)))
		return err;
	/* every node r contains (its own included) gains r at the end of its chain */
	for (size_t i = 0; i < g->nnodes; i++) {
		struct net_node *n = &g->nodes[i];
		if (!rule_contains(&r, n))
			continue;
		int was_closed = n->closed;
		chain_append(n, &r, 0);
		if ((!was_closed || i == fresh) && (err = write_node(g, n)))
			return err;
	}
	return 0;
}

void guard_net_free(struct bpf_guard *g)
{
	free(g->rules);
	free(g->nodes);
	g->rules = NULL;
	g->nodes = NULL;
	g->nrules = g->nnodes = 0;
}
