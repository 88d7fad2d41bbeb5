/* Private to policy/: the schema walk shared by compile*.c. */
#ifndef AGENTSH_POLICY_COMPILE_INT_H
#define AGENTSH_POLICY_COMPILE_INT_H

#include "policy/policy_int.h"

struct cctx {
	const char *file;
	struct policy_diags *d;
	const struct policy_vars *vars;
	struct policy *p;
	size_t errors;
	bool oom;
};

/* Every error is counted; past CCTX_MAX_REPORTED only the count grows, so a
 * pathological file cannot produce millions of messages. */
#define CCTX_MAX_REPORTED 200
#define ERR(c, n, code, ...)                                                            \
	do {                                                                            \
		if ((c)->errors < CCTX_MAX_REPORTED)                                     \
			pol_pdiag((c)->d, POLICY_SEV_ERROR, (c)->file, (n) ? (n)->line : 0,  \
				  (n) ? (n)->col : 0, code, __VA_ARGS__);               \
		else if ((c)->errors == CCTX_MAX_REPORTED)                               \
			pol_pdiag((c)->d, POLICY_SEV_ERROR, (c)->file, 0, 0, "too-many",     \
				  "more than %d errors; fix these and run again",       \
				  CCTX_MAX_REPORTED);                                     \
		(c)->errors++;                                                          \
	} while (0)

#define NK(a) (sizeof(a) / sizeof((a)[0]))
#define DEC(x) (1u << POLICY_##x)

/* compile_util.c: typed access to the YAML tree, with positioned errors */
const struct ynode *pol_map_get(const struct ynode *m, const char *key);
void pol_check_keys(struct cctx *c, const struct ynode *m, const char *const *known, size_t nknown,
		const char *where);
bool pol_want(struct cctx *c, const struct ynode *n, enum ynode_type t, const char *where, const char *key);
char *pol_xstrdup(struct cctx *c, const char *s);
bool pol_get_str(struct cctx *c, const struct ynode *m, const char *key, const char *where, char **out);
bool pol_get_bool(struct cctx *c, const struct ynode *m, const char *key, const char *where, bool *out);
bool pol_get_uint(struct cctx *c, const struct ynode *m, const char *key, const char *where, uint64_t max,
	      uint64_t *out);
bool pol_get_duration(struct cctx *c, const struct ynode *m, const char *key, const char *where,
		  unsigned *ms);
const struct ynode *pol_get_list(struct cctx *c, const struct ynode *m, const char *key, const char *where);
void pol_strv_push(struct cctx *c, struct strv *v, const char *s);
void pol_strv_free(struct strv *v);
char *pol_expand_at(struct cctx *c, const struct ynode *n, const char *where);
void pol_rule_common(struct cctx *c, const struct ynode *m, const char *where, const char *list, size_t idx,
		 uint32_t allowed, struct rule_common *rc);
void pol_compile_globs(struct cctx *c, const struct ynode *n, const char *s, bool icase, struct glob **v,
		   size_t *nv, const char *where);

/* compile_rules.c, compile_net.c: one entry of each rule list */
void pol_file_rule(struct cctx *c, const struct ynode *m, size_t idx, struct file_rule *r);
void pol_cmd_rule(struct cctx *c, const struct ynode *m, size_t idx, struct cmd_rule *r);
void pol_env_lists(struct cctx *c, const struct ynode *m, const char *akey, const char *dkey,
	       const char *where, struct env_rule *e);
void pol_net_rule(struct cctx *c, const struct ynode *m, size_t idx, struct net_rule *r);
void pol_unix_rule(struct cctx *c, const struct ynode *m, size_t idx, struct unix_rule *r);
void pol_sig_rule(struct cctx *c, const struct ynode *m, size_t idx, struct sig_rule *r);
void pol_dns_redirect(struct cctx *c, const struct ynode *m, size_t idx, struct dns_redirect *r);
void pol_connect_redirect(struct cctx *c, const struct ynode *m, size_t idx, struct connect_redirect *r);

#endif
