/* Private to policy/: the YAML tree, compiled matchers and the compiled policy. */
#ifndef AGENTSH_POLICY_INT_H
#define AGENTSH_POLICY_INT_H

#include <regex.h>
#include <stdarg.h>
#include "policy/policy.h"

/* ------------------------------------------------------------ diagnostics */
void pol_pdiag(struct policy_diags *d, enum policy_severity sev, const char *file, unsigned line,
	   unsigned col, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));
size_t pol_levenshtein(const char *a, const char *b);
/* The closest candidate (distance <= 2 or a prefix match), or NULL. */
/* lint_approvals.c: approve rules nobody may answer, unenrolled approvers. */
int pol_lint_approval_scopes(const struct policy *p, const struct agentsh_config *cfg, struct policy_diags *d);
const char *pol_did_you_mean(const char *word, const char *const *cands, size_t n);

/* ------------------------------------------------------------ YAML tree */
enum ynode_type { Y_SCALAR, Y_SEQ, Y_MAP };
struct ynode {
	enum ynode_type type;
	unsigned line, col;             /* 1-based */
	bool plain;                     /* scalar written without quotes */
	char *str;                      /* scalar value */
	struct ynode **kids;            /* seq items; map: key, value, key, value… */
	size_t n;                       /* number of kids */
};
/* Parse one YAML document; syntax errors (with position) go to diags. NULL on error. */
struct ynode *pol_ytree_parse(const char *buf, size_t len, const char *file, struct policy_diags *d);
void pol_ytree_free(struct ynode *n);
const char *pol_ynode_type_name(const struct ynode *n);

/* ------------------------------------------------------------ globs */
enum gtok { G_LIT, G_ANY, G_CLASS, G_STAR, G_DSTAR };
struct glob {
	char *src;                      /* after brace expansion */
	char *prefix;                   /* literal prefix */
	size_t plen;
	enum { GM_LITERAL, GM_PREFIX_DSTAR, GM_DSTAR_SUFFIX, GM_ANY, GM_NFA } mode;
	char *suffix;                   /* GM_DSTAR_SUFFIX: "/name" */
	size_t slen;
	/* GM_NFA prefilters: a literal tail the string must end with, and the
	 * longest literal run it must contain (both necessary conditions) */
	char *tail, *must;
	size_t tlen, mlen;
	/* NFA over the rest after the prefix */
	unsigned char *type, *ch;       /* per token */
	uint16_t *cls;                  /* class index per token */
	uint8_t (*classes)[32];         /* 256-bit sets */
	size_t ntok, ncls;
	bool icase;
};
#define GLOB_MAX_TOKENS 1024
#define GLOB_MAX_EXPANSIONS 64
/* Compile pattern (braces expanded into several globs): appends to v and n.
 * Returns 0 or -EINVAL with a reason in *err (static string). */
int pol_glob_compile_all(const char *pat, bool icase, struct glob **v, size_t *n, const char **err);
void pol_glob_free(struct glob *g);
bool pol_glob_match(const struct glob *g, const char *s, size_t len);
bool pol_glob_has_wild(const char *s);

/* ------------------------------------------------------------ compiled rules */
struct strv { char **v; size_t n; };

struct rule_common {
	char *name;
	char *description;
	enum policy_decision decision;
	char *message;                  /* template */
	unsigned timeout_ms;
	unsigned line, col;
};

struct file_rule {
	struct rule_common c;
	struct strv paths;              /* expanded, before brace expansion */
	struct glob *globs; size_t nglobs;
	uint32_t ops;
	char *redirect_to;
	bool preserve_tree;
};

struct env_rule {
	struct glob *allow; size_t nallow; bool has_allow;
	struct glob *deny;  size_t ndeny;
	struct strv allow_src, deny_src;
	uint64_t max_bytes, max_keys;
	bool block_iteration, set;
};

struct cmd_rule {
	struct rule_common c;
	struct strv commands;
	char **exact; size_t nexact;            /* full paths, sorted */
	struct glob *pglobs; size_t npglobs;    /* path globs */
	char **bnames; size_t nbnames;          /* lowercase basenames, sorted */
	struct glob *bglobs; size_t nbglobs;    /* basename globs (icase) */
	bool match_all;
	struct strv args_src;
	regex_t *args; size_t nargs;
	int min_depth, max_depth;               /* -1 = unlimited */
	char *redir_cmd;
	struct strv redir_args, redir_append, redir_env;
	struct env_rule env;
};

struct net_rule {
	struct rule_common c;
	struct strv domains;
	struct glob *dglobs; size_t ndglobs;
	bool domain_any;                        /* bare "*" */
	struct policy_cidr *cidrs; size_t ncidrs;
	struct policy_port_range *ports; size_t nports;
};

struct unix_rule {
	struct rule_common c;
	struct strv paths;
	struct glob *globs; size_t nglobs;
	uint32_t ops;                           /* bit per enum policy_unix_op */
	bool own_account_servers;               /* own_account_servers: allow */
};

enum sig_tt { TT_SELF, TT_CHILDREN, TT_DESCENDANTS, TT_SIBLINGS, TT_SESSION, TT_PARENT,
	      TT_EXTERNAL, TT_SYSTEM, TT_USER, TT_PROCESS, TT_PID_RANGE, TT_ANY };
struct sig_rule {
	struct rule_common c;
	struct strv signals;
	uint64_t sigs;                          /* bit per signal number 1..64 */
	enum sig_tt tt;
	char *tpattern; struct glob *tglob; size_t ntglob;
	long tmin, tmax;
	bool has_fallback;
	enum policy_decision fallback;
	int redirect_sig;
};

struct dns_redirect { char *name; char *match_src; regex_t re; char *resolve_to; unsigned line; };
struct connect_redirect {
	char *name; char *match_src; regex_t re; char *host; uint16_t port; char *unix_path;
	char *message; unsigned line;
};

struct policy_defaults {
	enum policy_decision commands, network, unix_sockets, file_read, file_write, signals;
	bool signals_set;
};

/* findex.c: the file rule index */
#define FIDX_MAX_DEPTH 32
struct fidx;
int pol_fidx_build(const struct file_rule *rules, size_t nrules, struct fidx **out);
void pol_fidx_free(struct fidx *x);
long pol_fidx_first(const struct fidx *x, const struct file_rule *rules, uint32_t bit, const char *path,
		size_t len);

/* nindex.c: exact-name index for command and network rules */
#define NIDX_MAX_LISTS 24
struct nindex;
struct nidx_iter {
	const uint32_t *l[NIDX_MAX_LISTS];
	size_t n[NIDX_MAX_LISTS], pos[NIDX_MAX_LISTS];
	int k;
	long last;
	bool overflow;
};
int pol_nidx_new(struct nindex **out);
void pol_nidx_free(struct nindex *x);
int pol_nidx_add(struct nindex *x, const char *key, size_t len, uint32_t rule);
int pol_nidx_add_generic(struct nindex *x, uint32_t rule);
void pol_nidx_iter_init(const struct nindex *x, struct nidx_iter *it);
void pol_nidx_iter_add(struct nidx_iter *it, const uint32_t *v, size_t n);
void pol_nidx_lookup(const struct nindex *x, const char *key, size_t len, struct nidx_iter *it);
long pol_nidx_next(struct nidx_iter *it);
int pol_build_name_indexes(struct policy *p);
extern bool pol_index_disabled;         /* tests: compile without indexes */

struct policy {
	char *name, *description, *source;
	/* the source bytes, hashed when first asked (policy_sha256): hashing was
	 * OpenSSL's first use in the process, ~0.6 ms on every session's start */
	char *text, *sha256;
	size_t text_len;
	unsigned version;
	struct file_rule *files; size_t nfiles;
	struct cmd_rule *cmds; size_t ncmds;
	struct net_rule *nets; size_t nnets;
	struct unix_rule *unixes; size_t nunixes;
	struct sig_rule *sigs; size_t nsigs;
	bool has_signal_rules;
	struct dns_redirect *dnsr; size_t ndnsr;
	struct connect_redirect *conr; size_t nconr;
	struct env_rule env;
	struct strv env_inject;                 /* "K=V" */
	struct policy_limits limits;
	struct policy_audit_settings audit;
	struct policy_defaults defaults;
	struct fidx *fidx;                      /* file rules by directory */
	struct nindex *cidx, *nidx;             /* command / network rules by name */
};

/* compile.c */
int policy_compile(struct ynode *root, const char *file, const struct policy_vars *vars,
		   struct policy *p, struct policy_diags *d);
void policy_free_contents(struct policy *p);

/* vars.c: expand ${VAR} / ${VAR:-fallback}; NULL + error text on failure */
char *pol_vars_expand(const char *s, const struct policy_vars *v, char *err, size_t errlen);

/* eval helpers */
uint32_t pol_file_ops_from_word(const char *w, bool *ok);
bool pol_env_name_allowed(const struct env_rule *global, const struct env_rule *cmd,
		      const char *name, size_t len);
int pol_parse_duration_ms(const char *s, unsigned *ms);
int pol_parse_cidr(const char *s, struct policy_cidr *c);
bool pol_cidr_contains(const struct policy_cidr *c, int family, const uint8_t *addr);
void pol_render_message(const char *tmpl, char *out, size_t outlen, const char *path,
		    const char *const *argv, int argc, const char *addr, int port,
		    const char *op, const char *rule);
int pol_sig_group_mask(const char *s, uint64_t *mask);
int pol_normalize_path(const char *in, char *out, size_t outlen);

/* load.c: read a whole (regular, <= 4 MiB) file; errors go to diags.
 * POL_READ_ROOT_OWNED: refuse unless root-owned and not group/other-writable. */
#define POL_READ_ROOT_OWNED 1u
int policy_read_file(const char *path, char **buf, size_t *len, struct policy_diags *diags);
int pol_read_file_ex(const char *path, unsigned flags, char **buf, size_t *len,
		     struct policy_diags *diags);
int pol_load_file_ex(const char *path, unsigned flags, const struct policy_vars *vars,
		     struct policy **out, struct policy_diags *diags);

#endif
