/* policy — agentsh's policy engine: YAML loading (libyaml), compiled matchers,
 * first-match evaluation, lint, the root-owned configuration and the
 * `agentsh policy …` command line.  Depends on no other agentsh module.
 *
 * Life cycle: the shell (or a test) fills a struct policy_vars from the passwd
 * entry and the session (never from the agent's environment), loads or selects
 * a policy, hands the const struct policy * to enforce/, and frees it at the
 * end of the session.  A loaded policy is immutable, so check functions may be
 * called from any number of threads at once.
 *
 * Check functions never allocate on the common path (one exception: argument
 * lists longer than 8 KiB when args_patterns must be matched), never fail
 * open, and fill a caller-provided struct policy_result.
 *
 * Errors: 0 / -errno.  Load and lint problems go to a struct policy_diags
 * (file:line:col, severity, message); the caller prints them.
 */
#ifndef AGENTSH_POLICY_H
#define AGENTSH_POLICY_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>

struct policy;                          /* opaque, compiled, immutable */

/* ---------------------------------------------------------------- variables */

/* Values for ${HOME}, ${WORKSPACE}, ${PROJECT_ROOT}, ${GIT_ROOT}, ${TMPDIR},
 * ${USER}.  NULL means undefined: a reference without a ${X:-fallback} is then a
 * load error.  Filled by the caller from getpwuid() and the session, never
 * from getenv() of the agent. */
struct policy_vars {
	const char *home;
	const char *workspace;
	const char *project_root;
	const char *git_root;
	const char *tmpdir;
	const char *user;
	const char *resolv_conf;        /* where `@resolvers` comes from; NULL: /etc/resolv.conf */
};

/* ---------------------------------------------------------------- diagnostics */

enum policy_severity { POLICY_SEV_ERROR, POLICY_SEV_WARNING, POLICY_SEV_NOTE };

struct policy_diag {
	char *file;                     /* path as given, "<embedded>", "<buffer>" */
	unsigned line, col;             /* 1-based; 0 when not tied to a position */
	enum policy_severity severity;
	char *code;                     /* stable id: "unknown-key", "shadowed-rule", … */
	char *message;                  /* full sentence, no file:line prefix */
};

struct policy_diags {
	struct policy_diag *v;
	size_t n, cap;
	size_t nerrors, nwarnings;
};

void policy_diags_init(struct policy_diags *d);
void policy_diags_free(struct policy_diags *d);
/* "file:line:col: error: message" one per line. */
void policy_diags_print(const struct policy_diags *d, FILE *f);

/* ---------------------------------------------------------------- loading */

/* Load and compile.  On any error *out stays NULL, every error found is in
 * diags and -EINVAL is returned (-errno for I/O).  diags may be NULL. */
int policy_load_file(const char *path, const struct policy_vars *vars,
		     struct policy **out, struct policy_diags *diags);
/* buf need not be NUL-terminated; name is used in diagnostics. */
int policy_load_buffer(const char *buf, size_t len, const char *name,
		       const struct policy_vars *vars, struct policy **out,
		       struct policy_diags *diags);
void policy_free(struct policy *p);

/* The policy compiled into the binary (examples/policies/default.yaml). */
const char *policy_embedded_default(size_t *len);
int policy_load_embedded(const struct policy_vars *vars, struct policy **out,
			 struct policy_diags *diags);

const char *policy_name(const struct policy *p);        /* `name:` */
const char *policy_description(const struct policy *p);
const char *policy_source(const struct policy *p);      /* file path or "<embedded>" */
const char *policy_sha256(const struct policy *p);      /* hex digest of the source bytes */

/* ---------------------------------------------------------------- decisions */

enum policy_decision {
	POLICY_ALLOW,
	POLICY_DENY,
	POLICY_APPROVE,
	POLICY_REDIRECT,
	POLICY_AUDIT,           /* allow and record */
	POLICY_SOFT_DELETE,     /* divert delete/rmdir to the trash */
	POLICY_ABSORB,          /* signals: report success, do not deliver */
};
#define POLICY_NDECISIONS 7

const char *policy_decision_name(enum policy_decision d);     /* "allow", … */
int policy_decision_parse(const char *s, enum policy_decision *out);

enum policy_kind {
	POLICY_KIND_FILE, POLICY_KIND_COMMAND, POLICY_KIND_NETWORK,
	POLICY_KIND_UNIX, POLICY_KIND_SIGNAL,
};

/* File operations.  Rule operation words map onto sets of these (see
 * docs/policy.md): "read" covers read/open/stat/list/readlink/access/exec,
 * "write" covers write/truncate/xattr, "*" everything, others themselves. */
enum policy_file_op {
	POLICY_FILE_READ, POLICY_FILE_WRITE, POLICY_FILE_CREATE, POLICY_FILE_DELETE,
	POLICY_FILE_RENAME, POLICY_FILE_LINK, POLICY_FILE_SYMLINK, POLICY_FILE_MKDIR,
	POLICY_FILE_RMDIR, POLICY_FILE_CHMOD, POLICY_FILE_CHOWN, POLICY_FILE_TRUNCATE,
	POLICY_FILE_XATTR, POLICY_FILE_MKNOD, POLICY_FILE_EXEC, POLICY_FILE_OPEN,
	POLICY_FILE_STAT, POLICY_FILE_LIST, POLICY_FILE_READLINK, POLICY_FILE_ACCESS,
	POLICY_FILE_NOPS
};
#define POLICY_FILE_OP_BIT(op) (1u << (op))
/* Operations that never modify anything (read/open/stat/list/readlink/access/exec). */
#define POLICY_FILE_READ_OPS                                                       \
	(POLICY_FILE_OP_BIT(POLICY_FILE_READ) | POLICY_FILE_OP_BIT(POLICY_FILE_OPEN) |   \
	 POLICY_FILE_OP_BIT(POLICY_FILE_STAT) | POLICY_FILE_OP_BIT(POLICY_FILE_LIST) |   \
	 POLICY_FILE_OP_BIT(POLICY_FILE_READLINK) |                                       \
	 POLICY_FILE_OP_BIT(POLICY_FILE_ACCESS) | POLICY_FILE_OP_BIT(POLICY_FILE_EXEC))
const char *policy_file_op_name(enum policy_file_op op);
int policy_file_op_parse(const char *s, enum policy_file_op *out);

enum policy_unix_op { POLICY_UNIX_CONNECT, POLICY_UNIX_BIND, POLICY_UNIX_LISTEN,
		      POLICY_UNIX_SENDTO };
const char *policy_unix_op_name(enum policy_unix_op op);

/* How the signalled process relates to the sender, most specific first:
 * the caller classifies (enforce/ knows the process tree). */
enum policy_signal_target {
	POLICY_SIG_SELF,        /* the sender itself (or its thread group) */
	POLICY_SIG_CHILDREN,    /* a direct child of the sender */
	POLICY_SIG_DESCENDANTS, /* a deeper descendant of the sender */
	POLICY_SIG_SIBLINGS,    /* same parent as the sender, inside the session */
	POLICY_SIG_SESSION,     /* any other process of the agentsh session */
	POLICY_SIG_PARENT,      /* the supervisor / agentsh itself */
	POLICY_SIG_EXTERNAL,    /* outside the session, not a system process */
	POLICY_SIG_SYSTEM,      /* pid 1, kernel threads, other uids' daemons */
};
const char *policy_signal_target_name(enum policy_signal_target t);
int policy_signal_target_parse(const char *s, enum policy_signal_target *out);

/* Extra facts for rules with target types user/process/pid_range. */
struct policy_signal_info {
	enum policy_signal_target rel;
	pid_t pid;              /* 0 when unknown */
	const char *comm;       /* target's comm, NULL when unknown */
	bool same_user;         /* target runs as the sender's uid */
};

/* Parse "SIGKILL", "KILL", "9" -> signal number; -EINVAL otherwise. */
int policy_signal_parse(const char *s);
const char *policy_signal_name(int sig);        /* "SIGKILL"; NULL if unknown */

#define POLICY_MSG_MAX 512

struct policy_result {
	enum policy_decision decision;
	enum policy_kind kind;
	bool is_default;                /* no rule matched; rule is e.g. "default-deny-files" */
	int rule_index;                 /* index in its rule list, -1 for a default */
	const char *rule;               /* rule name (policy-owned, never NULL) */
	const char *file;               /* policy source file (policy-owned) */
	unsigned line;                  /* line of the rule, 0 for a default */
	unsigned timeout_ms;            /* approve timeout; 0 = use the configured default */
	char message[POLICY_MSG_MAX];   /* rendered template, "" when the rule has none */

	/* Signals: what to do where the decision cannot be enforced. */
	bool has_fallback;
	enum policy_decision fallback;

	/* Redirect targets (valid when decision == POLICY_REDIRECT, policy-owned
	 * except redirect_path, which is rendered into this struct). */
	struct {
		const char *path;                   /* command to run instead */
		const char *const *args;            /* prepended to the original args */
		size_t nargs;
		const char *const *args_append;     /* appended after the original args */
		size_t nargs_append;
		const char *const *env;             /* "K=V" added to the environment */
		size_t nenv;
	} cmd;
	char redirect_path[PATH_MAX];           /* files: the path to use instead */
	int redirect_signal;                    /* signals: the signal to send instead */
	const char *redirect_host;              /* network: "host" (connect_redirects) */
	uint16_t redirect_port;
	const char *redirect_unix;              /* network: redirect to a unix socket */

	/* Unix sockets: the matching rule lets the session reach a server that
	 * a process of its own account runs outside the session (such a server
	 * would run what it is asked without the sandbox: refused unless the
	 * rule says `own_account_servers: allow`). */
	bool unix_own_account_servers;

	const void *env_rule;                   /* commands: per-rule env policy (opaque) */
};

/* Commands: path is the executable as resolved by the caller (absolute),
 * argv[0..argc-1] the arguments as passed (argv[0] is not matched by
 * args_patterns).  depth = exec ancestry depth for `context:` (0 = direct). */
int policy_check_exec(const struct policy *p, const char *path, int argc,
		      const char *const *argv, struct policy_result *res);
int policy_check_exec_depth(const struct policy *p, const char *path, int argc,
			    const char *const *argv, int depth, struct policy_result *res);

/* A program is also known by each symlink on the way to it that root made:
 * the link owned by root, in a root-owned directory without group or other
 * write (Debian's /usr/bin/awk -> /etc/alternatives/awk -> /usr/bin/mawk); a
 * link anyone else could make names nothing.  The supervisor and `policy
 * check` ask the same question. */
bool policy_exec_alias_trusted(const struct stat *link, const struct stat *dir);
/* Of the decisions for a program's names, the first rule in the list wins:
 * should alt (for another name) replace best? */
bool policy_exec_alias_wins(const struct policy_result *alt, const struct policy_result *best);

/* Files: path must be absolute; it is normalised lexically ("//", "/./",
 * "/../") before matching.  A relative path is denied (rule "invalid-path"). */
int policy_check_file(const struct policy *p, enum policy_file_op op, const char *path,
		      struct policy_result *res);

/* Unix sockets: name is the filesystem path, or the abstract name without the
 * leading NUL (rules write abstract sockets as "@name"). */
int policy_check_unix(const struct policy *p, enum policy_unix_op op, const char *name,
		      bool is_abstract, struct policy_result *res);

/* Network: sa (AF_INET/AF_INET6, may be NULL) gives address and port; domain
 * is the name the agent asked for when known (agentsh's resolver).  With sa
 * NULL the port comes from policy_check_net_name(). */
int policy_check_net(const struct policy *p, const struct sockaddr *sa,
		     const char *domain, struct policy_result *res);
int policy_check_net_name(const struct policy *p, const char *domain, uint16_t port,
			  struct policy_result *res);

int policy_check_signal(const struct policy *p, int sig, enum policy_signal_target target,
			struct policy_result *res);
int policy_check_signal_info(const struct policy *p, int sig,
			     const struct policy_signal_info *info, struct policy_result *res);
/* false when the policy has no signal_rules and no defaults.signals: the
 * reference then filters no signals; enforce/ may skip trapping them. */
bool policy_filters_signals(const struct policy *p);

/* DNS redirects: when a rule matches host (lowercase, no trailing dot), copy
 * its resolve_to IP text into ip (size iplen) and return 1; 0 if none. */
int policy_dns_redirect(const struct policy *p, const char *host, char *ip, size_t iplen,
			const char **rule);
/* Connect redirects on "host:port": fills res (decision REDIRECT, redirect_host
 * / redirect_port or redirect_unix) and returns 1; 0 if none. */
int policy_connect_redirect(const struct policy *p, const char *host, uint16_t port,
			    struct policy_result *res);

/* ---------------------------------------------------------------- environment */

/* Filter envp for a command (cmd = its exec result, or NULL for the session's
 * global env_policy), then add env_inject (and a redirect's env) overriding
 * same-named entries.  out receives up to out_cap pointers (into envp or
 * policy-owned strings), *out_n their count; no NULL terminator is written
 * unless room remains (then out[*out_n] = NULL).  Returns 0, -E2BIG when
 * env_max_bytes/env_max_keys are exceeded (an error, not truncation),
 * -ENOSPC when out_cap is too small. */
int policy_env_filter(const struct policy *p, const struct policy_result *cmd,
		      const char *const *envp, const char **out, size_t out_cap,
		      size_t *out_n);
bool policy_env_allowed(const struct policy *p, const struct policy_result *cmd,
			const char *name);
bool policy_env_block_iteration(const struct policy *p, const struct policy_result *cmd);

/* ---------------------------------------------------------------- settings */

struct policy_limits {                  /* 0 = not set */
	uint64_t max_memory_mb, memory_swap_max_mb;
	unsigned cpu_quota_percent;
	uint64_t disk_read_bps_max, disk_write_bps_max;
	unsigned net_bandwidth_mbps;
	unsigned pids_max;
	unsigned command_timeout_s, session_timeout_s, idle_timeout_s;
	bool memory_swap_set;           /* memory_swap_max_mb: 0 was given explicitly */
};
const struct policy_limits *policy_limits(const struct policy *p);

struct policy_audit_settings {
	bool log_allowed, log_denied, log_approved;
	bool include_stdout, include_stderr, include_file_content;
	unsigned retention_days;
};
const struct policy_audit_settings *policy_audit(const struct policy *p);

/* The decisions used when no rule matches (the reference's defaults, changed
 * by a `defaults:` block).  enforce/ needs them too: a policy whose
 * file_read default is not allow/audit gates every read. */
struct policy_default_decisions {
	enum policy_decision commands, network, unix_sockets, file_read, file_write, signals;
	bool signals_filtered;          /* false: no signal rules, signals not filtered */
};
void policy_defaults(const struct policy *p, struct policy_default_decisions *out);

/* ---------------------------------------------------------------- rule iteration
 * For enforce/ (Landlock rules, mount binds, BPF maps), completions/ and show. */

struct policy_file_rule_info {
	const char *name;
	enum policy_decision decision;
	uint32_t ops;                   /* POLICY_FILE_OP_BIT set */
	const char *const *globs;       /* variables expanded */
	size_t nglobs;
	const char *file;
	unsigned line;
};
size_t policy_file_rule_count(const struct policy *p);
int policy_file_rule_get(const struct policy *p, size_t i, struct policy_file_rule_info *out);

struct policy_cidr { int family; uint8_t addr[16]; uint8_t prefix; };
struct policy_port_range { uint16_t lo, hi; };
struct policy_net_rule_info {
	const char *name;
	enum policy_decision decision;
	const char *const *domains;  size_t ndomains;
	const struct policy_cidr *cidrs; size_t ncidrs;
	const struct policy_port_range *ports; size_t nports;
	const char *file;
	unsigned line;
};
size_t policy_net_rule_count(const struct policy *p);
int policy_net_rule_get(const struct policy *p, size_t i, struct policy_net_rule_info *out);

struct policy_cmd_rule_info {
	const char *name;
	enum policy_decision decision;
	const char *const *commands; size_t ncommands;
	const char *const *args_patterns; size_t nargs_patterns;
	const char *file;
	unsigned line;
};
size_t policy_cmd_rule_count(const struct policy *p);
int policy_cmd_rule_get(const struct policy *p, size_t i, struct policy_cmd_rule_info *out);

/* The directory part of a glob before its first wildcard ("/home/a/.ssh/<**>" ->
 * "/home/a/.ssh"); *is_literal says whether the glob had no wildcard at all.
 * Returns the length written, -ENAMETOOLONG if it does not fit. */
int policy_glob_static_prefix(const char *glob, char *buf, size_t len, bool *is_literal);
/* Match one path against one glob with the policy's rules (for tools/tests). */
int policy_glob_match(const char *glob, const char *path);      /* 1, 0, -EINVAL */

/* ---------------------------------------------------------------- configuration */

struct agentsh_config_map { char *key; char *policy; };

/* approvals.accounts.<account> / approvals.rules.<rule>: who may answer, and
 * how.  A list that is absent (NULL) does not restrict; a present list is
 * NULL-terminated (possibly empty: then nothing is allowed).  methods are
 * validated names: "totp", "webauthn", "confirm". */
struct agentsh_approval_scope {
	char *name;
	char **methods; size_t nmethods;
	char **approvers; size_t napprovers;
	unsigned line, col;             /* of the name, for diagnostics */
};

struct agentsh_config {
	char *path;                     /* file it came from; NULL when defaults */
	bool present;                   /* false: no config file, built-in defaults */
	char *policy_dir;               /* default /etc/agentsh/policies */
	char *default_policy;           /* NULL: embedded default */
	struct agentsh_config_map *accounts; size_t naccounts;
	struct agentsh_config_map *groups;   size_t ngroups;
	bool allow_user_policy;         /* default false */
	char *manifest;                 /* sha256sum-format file; NULL = none */
	struct {
		char *db;               /* NULL = audit module's default */
		char *key;
		size_t stdout_cap;      /* bytes; 0 = default */
		bool sync_full;         /* sync: full (fsync every commit); default normal */
	} audit;
	struct {
		char *shell;            /* delegate shell; NULL = default (bash) */
		bool allow_degraded;
		char *prompt;
		unsigned command_timeout;       /* seconds; 0 = policy/default */
	} session;
	struct {
		char *socket;
		unsigned default_timeout;       /* seconds; 0 = default */
		unsigned max_pending;
		char *approvers_dir;
		char **approver_accounts; size_t napprover_accounts;
		bool human_only;
		struct agentsh_approval_scope *account_scopes; size_t naccount_scopes;
		struct agentsh_approval_scope *rule_scopes; size_t nrule_scopes;
	} approvals;
	bool check_owner;               /* policy files / manifest must be root-owned (false only
					 * via policy_config_load_ex(.., false, ..) in tests) */
};

#define AGENTSH_CONFIG_PATH "/etc/agentsh/config.yaml"
#define AGENTSH_POLICY_DIR  "/etc/agentsh/policies"

/* Missing file: *out gets the defaults (present = false) and 0 is returned.
 * A file not owned by root or writable by group/others is refused (-EPERM),
 * as is any unknown key or wrong type (-EINVAL, all in diags).  Pass
 * check_owner = false only in tests that cannot create root-owned files. */
int policy_config_load(const char *path, struct agentsh_config **out,
		       struct policy_diags *diags);
int policy_config_load_ex(const char *path, bool check_owner, struct agentsh_config **out,
			  struct policy_diags *diags);
void policy_config_free(struct agentsh_config *cfg);

/* Which policy a session gets.  requested (--policy NAME|FILE) is honoured for
 * root, and for others only when cfg->allow_user_policy; otherwise -EPERM with a
 * diag.  Order: requested → accounts[user] → groups[any gid] → default_policy →
 * embedded default.  NAME is looked up as <policy_dir>/NAME.yaml|.yml; a FILE
 * contains a '/'.  When cfg->manifest is set, the file's SHA-256 must be listed
 * there.  cfg may be NULL (= defaults). */
int policy_select(const struct agentsh_config *cfg, uid_t uid, const gid_t *gids,
		  size_t ngids, const char *requested, bool is_root,
		  const struct policy_vars *vars, struct policy **out,
		  struct policy_diags *diags);

/* `policy show`: rules in evaluation order with variables expanded, defaults
 * and limits; json = one indented JSON object. */
int policy_show(const struct policy *p, FILE *out, bool json);

/* ---------------------------------------------------------------- lint */

/* Warnings for: rules shadowed by earlier rules, rules that match nothing,
 * trivially dodged argument regexes, approve rules with no reachable approver
 * (cfg may be NULL: then only "no config" is assumed). Returns the number of
 * warnings added. */
int policy_lint(const struct policy *p, const struct agentsh_config *cfg,
		struct policy_diags *diags);

/* ---------------------------------------------------------------- command line */

struct policy_cli_env {
	const struct agentsh_config *cfg;       /* NULL = defaults */
	const struct policy_vars *vars;         /* the caller's account/session */
	uid_t uid;
	const gid_t *gids;
	size_t ngids;
	bool is_root;
	const struct policy *active;            /* the session's policy, or NULL */
	const char *requested;                  /* global --policy, or NULL */
	bool json;                              /* global --json */
	FILE *out, *err;                        /* NULL = stdout / stderr */
};

/* argv[0] == "policy"; subcommands show|validate|lint|check|test.
 * Prints results itself and returns the exit status (0 ok, 1 failure/errors,
 * 2 usage). */
int policy_cli(int argc, char **argv, const struct policy_cli_env *env);
const char *policy_cli_usage(void);

#endif
