/* The session context: which account the commands run as, the root-owned
 * configuration, the policy, the delegate's environment, and the
 * enforcement session every delegate is started in. */
#include "shell/shell_int.h"
#include "shell/history_int.h"

#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "approve/approve.h"
#include "pty/pty.h"
#include "audit/audit.h"
#include "enforce/enforce.h"
#include "policy/policy.h"

extern char **environ;

#define DEFAULT_PATH "/usr/local/bin:/usr/bin:/bin:/usr/local/sbin:/usr/sbin:/sbin"

static char *xstrdup(const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d) {
		fputs("agentsh: out of memory\n", stderr);
		exit(1);
	}
	return d;
}

static int resolve_account(struct shell_ctx *ctx, const char *name)
{
	struct passwd *pw;
	errno = 0;
	pw = name ? getpwnam(name) : getpwuid(shell_priv.uid);
	if (!pw) {
		if (name)
			fprintf(stderr, "agentsh: --user %s: no such account in the passwd database "
				"(check the name with `getent passwd %s`)\n", name, name);
		else
			fprintf(stderr, "agentsh: uid %u has no passwd entry (%s); agentsh needs one "
				"for HOME and the policy\n", (unsigned)shell_priv.uid,
				errno ? strerror(errno) : "not found");
		return 1;
	}
	ctx->acct.uid = pw->pw_uid;
	ctx->acct.gid = pw->pw_gid;
	ctx->acct.name = xstrdup(pw->pw_name);
	ctx->acct.home = xstrdup(pw->pw_dir);
	ctx->acct.shell = xstrdup(pw->pw_shell);

	return 0;
}

/* The account's groups, as login would set them (initgroups).  Through NSS
 * this can take a millisecond or more (Debian's default "group: files
 * systemd" loads libnss_systemd and asks systemd-userdb), so it runs in a
 * thread while the configuration, the audit store and an embedded policy are
 * loaded; groups_join() waits for it before anything reads the groups. */
struct groups_job {
	pthread_t th;
	bool started;
	char *name;
	gid_t gid;
	gid_t *groups;
	size_t n;
	int err;                /* 0, or -ENOMEM / -ERANGE */
	bool reported;
};

static void *groups_main(void *arg)
{
	struct groups_job *j = arg;
	int n = 64;
	for (;;) {
		gid_t *g = calloc((size_t)n, sizeof(gid_t));
		int want = n;
		if (!g) {
			j->err = -ENOMEM;
			return NULL;
		}
		if (getgrouplist(j->name, j->gid, g, &want) >= 0) {
			j->groups = g;
			j->n = (size_t)want;
			return NULL;
		}
		free(g);
		if (want <= n || want > 65536) {
			j->err = -ERANGE;
			return NULL;
		}
		n = want;
	}
}

static void groups_start(struct shell_ctx *ctx, struct groups_job *j)
{
	j->name = ctx->acct.name;
	j->gid = ctx->acct.gid;
	j->started = pthread_create(&j->th, NULL, groups_main, j) == 0;
	if (!j->started)
		groups_main(j);
}

static int groups_join(struct shell_ctx *ctx, struct groups_job *j)
{
	if (ctx->acct.groups)
		return 0;       /* joined already */
	if (j->started) {
		pthread_join(j->th, NULL);
		j->started = false;
	}
	ctx->acct.groups = j->groups;
	ctx->acct.ngroups = j->n;
	j->groups = NULL;
	if (!ctx->acct.groups && !j->reported) {
		j->reported = true;
		fprintf(stderr, "agentsh: cannot list the groups of %s: %s\n", ctx->acct.name,
			strerror(j->err ? -j->err : EIO));
	}
	return ctx->acct.groups ? 0 : 1;
}

/* The git root above the workspace, for ${GIT_ROOT}/${PROJECT_ROOT}. */
static char *find_git_root(const char *start)
{
	char buf[PATH_MAX];
	struct stat st;
	snprintf(buf, sizeof(buf), "%s", start);
	for (;;) {
		char probe[PATH_MAX + 8];
		snprintf(probe, sizeof(probe), "%s/.git", buf);
		if (lstat(probe, &st) == 0)
			return xstrdup(buf[0] ? buf : "/");
		char *slash = strrchr(buf, '/');
		if (!slash || buf[0] == 0)
			return NULL;
		if (slash == buf) {
			if (buf[1] == 0)
				return NULL;
			buf[1] = 0;
		} else {
			*slash = 0;
		}
	}
}

char *shell_policy_vars(const struct shell_ctx *ctx, struct policy_vars *v)
{
	char *git = find_git_root(ctx->workspace);

	memset(v, 0, sizeof(*v));
	v->home = ctx->acct.home;
	v->workspace = ctx->workspace;
	v->git_root = git;
	v->project_root = git ? git : ctx->workspace;
	v->tmpdir = "/tmp";
	v->user = ctx->acct.name;
	return git;
}

/* /etc/agentsh/config.yaml (not with --no-config).  Quiet: subcommands work
 * without it. */
static int load_config(struct shell_ctx *ctx, bool quiet)
{
	struct policy_diags d;
	int r = 0;
	if (ctx->opts.no_config)
		return 0;
	policy_diags_init(&d);
	r = policy_config_load(AGENTSH_CONFIG_PATH, &ctx->cfg, &d);
	if (r < 0 && !quiet) {
		policy_diags_print(&d, stderr);
		fprintf(stderr, "agentsh: cannot load %s: %s (it must be owned by root and "
			"not writable by others; fix it, or as root use --no-config)\n",
			AGENTSH_CONFIG_PATH, strerror(-r));
	}
	policy_diags_free(&d);
	return r;
}

static int load_policy(struct shell_ctx *ctx, bool quiet, struct groups_job *gj)
{
	struct policy_diags d;
	struct policy_vars v;
	char *git = shell_policy_vars(ctx, &v);
	int r;

	policy_diags_init(&d);
	if (ctx->opts.no_config && !ctx->opts.policy)
		r = policy_load_embedded(&v, &ctx->policy, &d);
	else if ((r = groups_join(ctx, gj)))    /* policies are selected by group */
		r = -EINVAL;
	else {
		/* A policy file the account chose (allow_user_policy) is read with
		 * its file-system ids: installed setuid, root must not read, for
		 * it, a file it could not read itself. */
		struct fsid_save fs = { 0 };
		if (ctx->opts.policy && !ctx->is_root)
			fsid_enter(ctx, &fs);
		r = policy_select(ctx->cfg, ctx->acct.uid, ctx->acct.groups, ctx->acct.ngroups,
				  ctx->opts.policy, ctx->is_root, &v, &ctx->policy, &d);
		fsid_leave(&fs);
	}
	if ((r < 0 || !ctx->policy) && quiet) {
		r = r < 0 ? r : -EINVAL;
	} else if (r < 0 || !ctx->policy) {
		policy_diags_print(&d, stderr);
		fprintf(stderr, "agentsh: no policy for %s: %s; refusing to run commands "
			"unconfined (check `agentsh policy validate`)\n", ctx->acct.name,
			strerror(r < 0 ? -r : EINVAL));
		r = r < 0 ? r : -EINVAL;
	}
	policy_diags_free(&d);
	free(git);
	return r;
}

/* -c, scripts and stdin (plain or --json) flush the audit trail before their
 * command runs, so their store can be opened by the writer thread while the
 * policy is compiled and the sandbox built (audit_opts.defer_open).  Best
 * effort: on failure shell_audit_open() (or the JSON mode) opens it again
 * later and reports why. */
static void audit_open_early(struct shell_ctx *ctx)
{
	enum shell_mode m = ctx->opts.mode;
	if (m != SHELL_MODE_COMMAND && m != SHELL_MODE_SCRIPT && m != SHELL_MODE_STDIN)
		return;
	if (shell_audit_attach(ctx, true) == 0 && audit_prepare(ctx->audit) == 0)
		return;
	audit_close(ctx->audit);
	ctx->audit = NULL;
}

int shell_env_set(struct shell_ctx *ctx, const char *name, const char *value)
{
	size_t nl = strlen(name), n = 0;
	char *kv = malloc(nl + strlen(value) + 2);
	if (!kv)
		return -ENOMEM;
	sprintf(kv, "%s=%s", name, value);
	for (; ctx->envp && ctx->envp[n]; n++) {
		if (!strncmp(ctx->envp[n], name, nl) && ctx->envp[n][nl] == '=') {
			free(ctx->envp[n]);
			ctx->envp[n] = kv;
			return 0;
		}
	}
	char **e = realloc(ctx->envp, (n + 2) * sizeof(char *));
	if (!e) {
		free(kv);
		return -ENOMEM;
	}
	e[n] = kv;
	e[n + 1] = NULL;
	ctx->envp = e;
	return 0;
}

const char *shell_env_get(const struct shell_ctx *ctx, const char *name)
{
	size_t nl = strlen(name);
	for (size_t i = 0; ctx->envp && ctx->envp[i]; i++)
		if (!strncmp(ctx->envp[i], name, nl) && ctx->envp[i][nl] == '=')
			return ctx->envp[i] + nl + 1;
	return NULL;
}

/* Names kept when root runs the session for another account: the terminal
 * and the locale, never root's secrets or paths. */
static bool keep_for_other(const char *kv)
{
	static const char *const keep[] = { "TERM=", "COLORTERM=", "LANG=", "LC_", "TZ=",
					    "NO_COLOR=", "COLUMNS=", "LINES=", NULL };
	for (int i = 0; keep[i]; i++)
		if (!strncmp(kv, keep[i], strlen(keep[i])))
			return true;
	return false;
}

static int build_env(struct shell_ctx *ctx)
{
	bool other = ctx->acct.uid != shell_priv.uid;
	size_t n = 0;
	for (char **e = environ; *e; e++)
		n++;
	ctx->envp = calloc(n + 1, sizeof(char *));
	if (!ctx->envp)
		return -ENOMEM;
	n = 0;
	for (char **e = environ; *e; e++) {
		/* The control protocol owns these in the interactive delegate. */
		if (!strncmp(*e, "PROMPT_COMMAND=", 15) || !strncmp(*e, "PS0=", 4))
			continue;
		if (other && !keep_for_other(*e))
			continue;
		ctx->envp[n++] = xstrdup(*e);
	}
	if (shell_env_set(ctx, "HOME", ctx->acct.home) || shell_env_set(ctx, "USER", ctx->acct.name) ||
	    shell_env_set(ctx, "LOGNAME", ctx->acct.name) ||
	    shell_env_set(ctx, "SHELL", ctx->self_path))
		return -ENOMEM;
	if (!shell_env_get(ctx, "PATH") && shell_env_set(ctx, "PATH", DEFAULT_PATH))
		return -ENOMEM;
	return 0;
}

static void make_session_id(struct shell_ctx *ctx)
{
	unsigned char r[8] = {0};
	if (getrandom(r, sizeof(r), 0) != (ssize_t)sizeof(r)) {
		/* Not a secret, only a name: pid+time keeps it unique enough. */
		snprintf(ctx->session_id, sizeof(ctx->session_id), "s%ld-%ld", (long)getpid(),
			 (long)time(NULL));
		return;
	}
	for (int i = 0; i < 8; i++)
		sprintf(ctx->session_id + 2 * i, "%02x", r[i]);
}

int shell_ctx_init(struct shell_ctx *ctx, const struct shell_opts *o)
{
	ssize_t l;
	memset(ctx, 0, sizeof(*ctx));
	ctx->opts = *o;
	/* setflags point into opts.flagbuf: re-point them at our copy. */
	for (int i = 0; i < ctx->opts.nsetflags; i++)
		if (o->setflags[i] >= o->flagbuf[0] &&
		    o->setflags[i] < o->flagbuf[0] + sizeof(o->flagbuf))
			ctx->opts.setflags[i] = ctx->opts.flagbuf[0] + (o->setflags[i] - o->flagbuf[0]);
	ctx->out = stdout;
	ctx->err = stderr;
	ctx->notice_fd = -1;
	ctx->is_root = shell_priv.mode == ENFORCE_PRIV_ROOT;

	if (o->user && !ctx->is_root) {
		fputs("agentsh: --user is for root only (sshd or su start agentsh as the account "
		      "itself)\n", stderr);
		return 2;
	}
	if (o->no_config && !ctx->is_root) {
		fputs("agentsh: --no-config is for root only (the configuration in /etc/agentsh "
		      "decides the policy of other accounts)\n", stderr);
		return 2;
	}
	if (o->delegate && !ctx->is_root) {
		fputs("agentsh: --delegate is for root only (set session.shell in "
		      "/etc/agentsh/config.yaml)\n", stderr);
		return 2;
	}
	l = readlink("/proc/self/exe", ctx->self_path, sizeof(ctx->self_path) - 1);
	if (l <= 0)
		snprintf(ctx->self_path, sizeof(ctx->self_path), "/usr/bin/agentsh");
	else
		ctx->self_path[l] = 0;
	bool cwd_lost = !getcwd(ctx->workspace, sizeof(ctx->workspace));
	if (cwd_lost)
		snprintf(ctx->workspace, sizeof(ctx->workspace), "/");
	make_session_id(ctx);
	if (resolve_account(ctx, o->user))
		return 1;
	/* No cwd at all (deleted, unreachable): the account's home is the
	 * workspace, never "/" (the workspace rules would cover the system). */
	if (cwd_lost && ctx->acct.home && ctx->acct.home[0] == '/')
		snprintf(ctx->workspace, sizeof(ctx->workspace), "%s", ctx->acct.home);
	shell_timing_mark("account (passwd, groups)");
	/* Subcommands (`agentsh policy validate`, `doctor`, ...) must work even
	 * when the configuration or the policy does not load: they get
	 * ctx->policy == NULL. */
	bool sub = o->mode == SHELL_MODE_SUBCOMMAND;
	struct groups_job gj = { 0 };
	groups_start(ctx, &gj);
	int r = load_config(ctx, sub) < 0 && !sub;
	if (!r)
		audit_open_early(ctx);
	r = r || (load_policy(ctx, sub, &gj) < 0 && !sub);
	r = groups_join(ctx, &gj) || r;
	free(gj.groups);
	if (r)
		return 1;
	ctx->delegate_path = DEFAULT_DELEGATE;
	if (ctx->cfg && ctx->cfg->session.shell)
		ctx->delegate_path = ctx->cfg->session.shell;
	if (o->delegate)
		ctx->delegate_path = o->delegate;
	if (ctx->delegate_path[0] != '/') {
		fprintf(stderr, "agentsh: delegate shell '%s' is not an absolute path\n",
			ctx->delegate_path);
		return 1;
	}
	if (build_env(ctx) < 0) {
		fputs("agentsh: out of memory\n", stderr);
		return 1;
	}
	return 0;
}

/* Called from the supervisor's threads.  Interactive sessions get the line
 * through a pipe so the loop can print it without tearing the readline line;
 * otherwise it goes to stderr.  One write each: lines must not interleave. */
static void notice_write(struct shell_ctx *ctx, const char *line)
{
	char buf[1024];
	const char *eol = atomic_load(&ctx->notice_crlf) ? "\r\n" : "\n";
	/* a notice names what the sandbox chose (a path, a program): its escape
	 * sequences must not reach the terminal through agentsh's own line */
	char *safe = pty_inert(line);
	int n = snprintf(buf, sizeof(buf), "%s%s%s",
			 strncmp(line, "agentsh:", 8) ? "agentsh: " : "", safe ? safe : "(out of memory)", eol);
	free(safe);
	if (n <= 0)
		return;
	if ((size_t)n >= sizeof(buf)) {
		n = sizeof(buf) - 1;
		memcpy(buf + n - strlen(eol), eol, strlen(eol));
	}
	(void)!write(ctx->notice_fd >= 0 ? ctx->notice_fd : STDERR_FILENO, buf, (size_t)n);
}

/* Soft deletes are restorable and listed by `agentsh trash list`: past the
 * first few of a command, one line per file would bury everything else. */
#define TRASH_NOTES_SHOWN 3

static void notice_hook(void *c, const char *line)
{
	struct shell_ctx *ctx = c;
	const char *l = strncmp(line, "agentsh: ", 9) ? line : line + 9;

	if (!strncmp(l, ENFORCE_NOTICE_TRASHED, strlen(ENFORCE_NOTICE_TRASHED)) &&
	    atomic_fetch_add(&ctx->trash_notes, 1) >= TRASH_NOTES_SHOWN) {
		atomic_fetch_add(&ctx->trash_hidden, 1);
		return;
	}
	notice_write(ctx, line);
}

void shell_notices_command_end(struct shell_ctx *ctx)
{
	char line[160];
	unsigned hidden = atomic_exchange(&ctx->trash_hidden, 0);

	atomic_store(&ctx->trash_notes, 0);
	if (!hidden)
		return;
	snprintf(line, sizeof line, ENFORCE_NOTICE_TRASHED " %u more entr%s (see: agentsh trash list)",
		 hidden, hidden == 1 ? "y" : "ies");
	notice_write(ctx, line);
}

const char *shell_audit_db(const struct shell_ctx *ctx)
{
	return ctx->cfg && ctx->cfg->audit.db ? ctx->cfg->audit.db : NULL;
}

int shell_audit_attach(struct shell_ctx *ctx, bool defer)
{
	struct audit_opts o = { .session_id = ctx->session_id, .defer_open = defer };
	if (ctx->policy)        /* the session row records it; retention honours it */
		o.retention_days = policy_audit(ctx->policy)->retention_days;
	if (ctx->audit) {       /* opened early (audit_open_early), before the policy */
		audit_set_retention(ctx->audit, o.retention_days);
		return 0;
	}
	if (ctx->cfg && ctx->cfg->audit.key)
		o.key_path = ctx->cfg->audit.key;
	o.sync_full = ctx->cfg && ctx->cfg->audit.sync_full;
	return audit_open(shell_audit_db(ctx), &o, &ctx->audit);
}

int shell_audit_open(struct shell_ctx *ctx, bool defer)
{
	int r = shell_audit_attach(ctx, defer);
	if (r) {
		const char *db = shell_audit_db(ctx), *why = audit_strerror(ctx->audit);
		fprintf(stderr, "agentsh: cannot open the audit store %s: %s; commands do not run "
			"without an audit trail (check `agentsh doctor`)\n",
			db ? db : audit_default_path(), why && *why ? why : strerror(r < 0 ? -r : EIO));
		audit_close(ctx->audit);
		ctx->audit = NULL;
		return r < 0 ? r : -EIO;
	}
	return 0;
}

/* approvals.accounts / approvals.rules as the broker takes them (it copies). */
static struct approve_scope *approval_scopes(const struct agentsh_approval_scope *v, size_t n)
{
	struct approve_scope *s = calloc(n + 1, sizeof(*s));

	for (size_t i = 0; s && i < n; i++)
		s[i] = (struct approve_scope){ .name = v[i].name,
					       .methods = (const char *const *)v[i].methods,
					       .approvers = (const char *const *)v[i].approvers };
	return s;
}

/* The broker that holds `approve` decisions for a human.  Interactive
 * sessions raise the prompt on the outer terminal (ctx->approve_tty);
 * otherwise `agentsh approve` answers from another terminal. */
static int approvals_open(struct shell_ctx *ctx)
{
	struct approve_config ac = { .session = ctx->session_id, .session_uid = ctx->acct.uid,
				     .audit = ctx->audit };
	char err[512] = "";
	struct approve_scope *as = NULL, *rs = NULL;
	if (ctx->approvals)
		return 0;
	if (ctx->cfg) {
		ac.account = ctx->acct.name;
		ac.account_scopes = as = approval_scopes(ctx->cfg->approvals.account_scopes,
							 ac.naccount_scopes = ctx->cfg->approvals.naccount_scopes);
		ac.rule_scopes = rs = approval_scopes(ctx->cfg->approvals.rule_scopes,
						      ac.nrule_scopes = ctx->cfg->approvals.nrule_scopes);
		if (!as || !rs)
			ac.session = NULL;      /* fail closed: the broker refuses to start */
		ac.approvers_dir = ctx->cfg->approvals.approvers_dir;
		ac.socket_dir = ctx->cfg->approvals.socket;
		ac.default_timeout_ms = ctx->cfg->approvals.default_timeout * 1000u;
		ac.max_pending = ctx->cfg->approvals.max_pending;
		ac.approver_accounts = (const char *const *)ctx->cfg->approvals.approver_accounts;
		ac.allow_confirm = ctx->cfg->approvals.human_only;
	}
	/* Without privilege (reduced mode) the root-owned socket directory is out
	 * of reach: approvals are then answered inline only. */
	if (geteuid() != 0 && !ac.socket_dir)
		ac.socket_dir = "";
	if (ctx->approve_tty) {
		ac.on_pending = approve_tty_on_pending;
		ac.on_resolved = approve_tty_on_resolved;
		ac.hook_ctx = ctx->approve_tty;
	}
	int r = approve_broker_new(&ac, &ctx->approvals, err, sizeof(err));
	free(as);
	free(rs);
	if (r < 0) {
		fprintf(stderr, "agentsh: cannot start the approval broker: %s\n",
			err[0] ? err : strerror(-r));
		ctx->approvals = NULL;
		return r;
	}
	if (ctx->approve_tty)
		approve_tty_attach(ctx->approve_tty, ctx->approvals);
	return 0;
}

int shell_session_open(struct shell_ctx *ctx)
{
	struct enforce_config c = {0};
	int r;
	if (ctx->enf)
		return 0;
	if ((r = shell_audit_open(ctx, false)) < 0)
		return r;
	shell_timing_mark("audit store open");
	if ((r = approvals_open(ctx)) < 0)
		return r;
	shell_timing_mark("approval broker");
	c.policy = ctx->policy;
	c.account.uid = ctx->acct.uid;
	c.account.gid = ctx->acct.gid;
	c.account.groups = ctx->acct.groups;
	c.account.ngroups = ctx->acct.ngroups;
	c.account.name = ctx->acct.name;
	c.account.home = ctx->acct.home;
	c.session_id = ctx->session_id;
	c.audit = ctx->audit;
	c.approvals = ctx->approvals;
	c.workspace = ctx->workspace;
	c.allow_degraded = ctx->cfg ? ctx->cfg->session.allow_degraded : false;
	c.hooks.notice = notice_hook;
	c.hooks.ctx = ctx;
	r = enforce_session_new(&c, &ctx->enf);
	shell_timing_mark("enforcement session");
	if (r < 0) {
		const char *why = ctx->enf ? enforce_strerror(ctx->enf) : NULL;
		fprintf(stderr, "agentsh: cannot set up the sandbox: %s\n",
			why && *why ? why : strerror(-r));
		enforce_session_free(ctx->enf);
		ctx->enf = NULL;
	}
	return r;
}

void shell_ctx_free(struct shell_ctx *ctx)
{
	enforce_session_free(ctx->enf);
	ctx->enf = NULL;
	shell_timing_mark("enforcement session freed");
	approve_broker_free(ctx->approvals);    /* denies what is still pending */
	ctx->approvals = NULL;
	approve_tty_free(ctx->approve_tty);
	ctx->approve_tty = NULL;
	if (ctx->notice_fd >= 0)        /* the supervisor is gone: nobody writes it now */
		close(ctx->notice_fd);
	ctx->notice_fd = -1;
	audit_close(ctx->audit);        /* flushes; after the supervisor's last events */
	shell_timing_mark("audit store closed");
	policy_free(ctx->policy);
	ctx->policy = NULL;
	policy_config_free(ctx->cfg);
	ctx->cfg = NULL;
	for (size_t i = 0; ctx->envp && ctx->envp[i]; i++)
		free(ctx->envp[i]);
	free(ctx->envp);
	free(ctx->acct.groups);
	free(ctx->acct.name);
	free(ctx->acct.home);
	free(ctx->acct.shell);
	memset(&ctx->acct, 0, sizeof(ctx->acct));
	ctx->envp = NULL;
}
