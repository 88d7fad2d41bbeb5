/* shell/ private interface: shared between the files of the shell module
 * (main, options, session, oneshot, commands, interactive, jsonmode, ...).
 * shell/ is the top of the dependency graph; nothing else includes this. */
#ifndef AGENTSH_SHELL_INT_H
#define AGENTSH_SHELL_INT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

struct policy;
struct agentsh_config;
struct enforce_session;
struct audit;
struct approve_broker;
struct approve_tty;

/* ------------------------------------------------------------------ options */

enum shell_mode {
	SHELL_MODE_DEFAULT,     /* no -c, no script: interactive on a tty, else stdin */
	SHELL_MODE_COMMAND,     /* -c STRING [name [args...]] */
	SHELL_MODE_SCRIPT,      /* FILE [args...] */
	SHELL_MODE_STDIN,       /* -s [args...], or DEFAULT with stdin not a tty */
	SHELL_MODE_INTERACTIVE, /* resolved DEFAULT, or -i */
	SHELL_MODE_SUBCOMMAND,  /* agentsh NAME ... where NAME is in the registry */
	SHELL_MODE_VERSION,
	SHELL_MODE_HELP,
};

/* The shell the language is delegated to unless configured (session.shell) or
 * given (--delegate). */
#define DEFAULT_DELEGATE "/bin/bash"

#define SHELL_MAX_SETFLAGS 32

/* Who started agentsh, fixed by the privilege split before anything else
 * (enforce_privilege_init): mode is ENFORCE_PRIV_ROOT/SETUID/NONE and uid/gid
 * the invoking account.  After a setuid split getuid() is 0, so nothing may
 * use getuid() to decide who the user is: use this. */
struct shell_priv {
	int mode;
	uid_t uid;
	gid_t gid;
};
extern struct shell_priv shell_priv;

struct shell_opts {
	enum shell_mode mode;
	const char *argv0;              /* as invoked */
	bool login;                     /* -l, --login, argv[0] starting with '-' */
	bool interactive;               /* -i */
	bool read_stdin;                /* -s */
	bool no_config;                 /* --no-config */
	bool json;                      /* --json or --output json */
	const char *command;            /* -c STRING */
	const char *policy;             /* --policy NAME|FILE */
	const char *user;               /* --user NAME */
	const char *events;             /* --events all|summary|blocked|none */
	const char *delegate;           /* --delegate PATH (root only) */
	/* Options bash understands (-e, +x, -o pipefail, ...), forwarded in order. */
	const char *setflags[SHELL_MAX_SETFLAGS];
	char flagbuf[SHELL_MAX_SETFLAGS][3];    /* storage for "-e", "+x", ... */
	int nsetflags;
	/* Operands: for COMMAND name+args, SCRIPT script+args, STDIN args,
	 * SUBCOMMAND name+args.  Points into the caller's argv. */
	char **args;
	int nargs;
};

/* Parse argv like bash/sh do.  is_subcommand(name) tells whether a first
 * operand names a registry subcommand (may be NULL).  Returns 0, or 2 (usage
 * error) with a message in err. */
int shell_parse_args(int argc, char **argv, struct shell_opts *o,
		     bool (*is_subcommand)(const char *name), char *err, size_t errlen);
void shell_usage(FILE *f);

/* ------------------------------------------------------------------ context */

struct shell_account {
	uid_t uid;
	gid_t gid;
	gid_t *groups;
	size_t ngroups;
	char *name;
	char *home;
	char *shell;                    /* passwd shell (informational) */
};

struct shell_ctx {
	struct shell_opts opts;
	struct shell_account acct;
	bool is_root;                   /* the real uid is 0 */
	char self_path[4096];           /* agentsh's own path: $SHELL for the delegate */
	char workspace[4096];           /* cwd at start */
	char session_id[40];
	const char *delegate_path;      /* /bin/bash by default */
	struct agentsh_config *cfg;     /* NULL when --no-config */
	struct policy *policy;
	struct enforce_session *enf;    /* created lazily by shell_session_open() */
	struct audit *audit;            /* audit store handle (audit/audit.h); NULL until opened */
	/* The one-shot delegate's spawn flushes the audit trail before its exec
	 * (enforce_spawn_req.before_exec), so -c and --json only queue their
	 * command's start and the commit overlaps the sandbox set-up.  This is
	 * that flush's result (< 0: the command was not run). */
	int audit_gate_rc;
	struct approve_broker *approvals;       /* approve/approve.h; created by shell_session_open */
	struct approve_tty *approve_tty;        /* interactive only: inline prompts (set before open) */
	int notice_fd;                  /* >= 0: supervisor notices go to this pipe (interactive) */
	atomic_bool notice_crlf;        /* stderr is a terminal in raw mode (a one-shot's relay) */
	/* "moved to trash" notices of the current command: the first few are
	 * printed, the rest counted (rm -rf of an old tree, a checkout) and
	 * summed up by shell_notices_command_end() */
	atomic_uint trash_notes, trash_hidden;
	char **envp;                    /* environment for the delegate (owned) */
	int last_status;                /* $? of the last command */
	bool exit_requested;            /* a built-in asked the REPL to end */
	int exit_status;
	FILE *out, *err;                /* where built-ins print */
};

/* session.c: account, config, policy, environment.  Returns 0 or an exit
 * status (having printed the error). */
int shell_ctx_init(struct shell_ctx *ctx, const struct shell_opts *o);
/* Create the enforcement session (once), with the audit store and the
 * approval broker it reports to.  0 or -errno, message printed. */
int shell_session_open(struct shell_ctx *ctx);
/* Open the audit store (once).  Fails closed: 0 or -errno, message printed. */
/* defer: the caller flushes before it runs or reports anything, so the sqlite
 * open may overlap with the sandbox set-up (audit_opts.defer_open); a store
 * that cannot be opened then fails that flush. */
int shell_audit_open(struct shell_ctx *ctx, bool defer);
/* The same without the message: opens the store from the configuration and
 * the policy unless it is open (then records the policy's retention).  On
 * failure ctx->audit holds the reason (audit_strerror); close it. */
int shell_audit_attach(struct shell_ctx *ctx, bool defer);
/* audit.db from the configuration, or NULL for the default store. */
const char *shell_audit_db(const struct shell_ctx *ctx);
void shell_ctx_free(struct shell_ctx *ctx);
/* A command ended: one line for the "moved to trash" notices it did not show. */
void shell_notices_command_end(struct shell_ctx *ctx);
/* The policy variables of this session, from the passwd entry and the
 * workspace (never the environment).  Returns the git root to free() after
 * the last use of *v (its strings point into ctx and that buffer). */
struct policy_vars;
char *shell_policy_vars(const struct shell_ctx *ctx, struct policy_vars *v);
/* Set (or replace) NAME=VALUE in ctx->envp. */
int shell_env_set(struct shell_ctx *ctx, const char *name, const char *value);
const char *shell_env_get(const struct shell_ctx *ctx, const char *name);

/* ------------------------------------------------------------------ one-shot */

/* Build the delegate's argv for a non-interactive invocation (-c, script,
 * stdin) from ctx->opts.  Returns a NULL-terminated malloc'd array whose
 * strings point into opts/static storage (free only the array). */
char **shell_oneshot_argv(const struct shell_ctx *ctx);

/* nested.c: agentsh run inside one of its sessions ($SHELL there,
 * enforce_inside_session) hands its arguments to the delegate shell, already
 * confined; returns only on error. */
int shell_run_nested(const struct shell_opts *o);

/* Run the one-shot delegate for the invocation in ctx->opts, with stdio[0..2]
 * as its fds 0,1,2 (the caller's own fds for plain -c, pipes for --json).
 * Waits for it; *wstatus gets its wait status (as from waitpid).  Signals
 * SIGINT/SIGQUIT/SIGTERM/SIGHUP received meanwhile are forwarded to the
 * session.  With an audit store open, the spawn flushes it before the
 * delegate's exec and runs nothing if that fails (ctx->audit_gate_rc).
 * Returns 0 or -errno (message printed on ctx->err). */
int shell_run_oneshot(struct shell_ctx *ctx, const int stdio[3], int *wstatus);

/* Same, with an explicit delegate argv (argv[0] = absolute path). */
int shell_run_argv(struct shell_ctx *ctx, char *const *argv, const int stdio[3],
		   int *wstatus);

/* Plain -c / script / stdin on the caller's stdio, audited; returns the
 * exit status (124: killed by the policy's command timeout, 126: not run). */
int shell_run_noninteractive(struct shell_ctx *ctx);

/* wait status -> shell exit status (128+n on a signal). */
int shell_status_from_wait(int wstatus);

/* jsonmode.c (audit helper): `agentsh --json -c ...`.  Returns the exit status.
 * main.c holds a weak fallback that refuses with a clear message. */
int shell_json_main(struct shell_ctx *ctx);
int shell_json_start_failed(const struct shell_opts *o, int status);   /* one JSON error object; 125 */

/* ------------------------------------------------------------------ registry */

enum shell_cmd_kind {
	SHELL_CMD_BUILTIN = 1,          /* a built-in of the interactive shell */
	SHELL_CMD_SUBCOMMAND = 2,       /* `agentsh NAME ...` */
	SHELL_CMD_BOTH = 3,
	/* probes the host (doctor): inside a session the sandbox refuses every
	 * probe, so the subcommand is refused there with a pointer out */
	SHELL_CMD_HOST_ONLY = 4,
	/* Installed setuid, a subcommand gives root up for good before it runs,
	 * unless it is marked so: it then acts for ctx->acct itself, by an
	 * explicit account (the trash is root's and holds every account's
	 * entries; doctor probes the host as the sessions will run). */
	SHELL_CMD_KEEPS_ROOT = 8,
};

struct shell_command {
	const char *name;
	int (*handler)(int argc, char **argv, struct shell_ctx *ctx);
	const char *help;               /* one line: "NAME ARGS - what it does" */
	enum shell_cmd_kind kind;
};

const struct shell_command *shell_command_find(const char *name, enum shell_cmd_kind kind);
bool shell_is_subcommand(const char *name);
bool shell_is_builtin(const char *name);
/* Split line into words (shell-like quotes), run the built-in; returns its
 * status, or -1 when the first word is not a built-in. */
int shell_run_builtin_line(struct shell_ctx *ctx, const char *line);
extern const struct shell_command shell_commands[];
extern const size_t shell_ncommands;

/* ------------------------------------------------------------------ interactive */

int shell_interactive(struct shell_ctx *ctx);

/* AGENTSH_TIMING=1 (root only): ms since the first mark, on stderr. */
void shell_timing_mark(const char *phase);

#endif
