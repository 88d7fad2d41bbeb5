/* notify_exec.c — execve/execveat decisions.
 *
 * An exec cannot be emulated, so the decision is paired with the kernel-side
 * check of the bpf module: before answering CONTINUE the supervisor announces
 * the (dev, ino) of the file it decided on (and, for a script, of the final
 * interpreter) for the calling thread; at sched_process_exec the BPF program
 * compares that with what the kernel really loaded and SIGKILLs the process
 * before its first instruction on any difference.  A thread that swaps the
 * path between our read and the kernel's therefore gains nothing.  The argv and
 * envp bytes the decision read are announced too (length + keyed hash,
 * pin_args): the kernel copies them after our CONTINUE, and a thread that
 * rewrites them in between gets the exec killed the same way.
 *
 * What is decided:
 *  - the file itself (command_rules on its canonical path and argv), found by
 *    the same walk the kernel does (cwd, dirfd, AT_EMPTY_PATH, /proc/self/fd/N);
 *  - a script: the script and its interpreter (and theirs, up to 4 levels);
 *  - the dynamic loader run directly: the program named in its argv;
 *  - files without a path (memfd, deleted, O_TMPFILE) are refused: there is
 *    no path a rule could name ("exec-anonymous-file");
 *  - the environment: a variable the policy's env_policy refuses (LD_PRELOAD
 *    set by a grandchild...) makes the exec fail — it cannot be filtered in
 *    place.
 *
 * Command redirect (redirect_to): the exec is turned into the execution of a
 * small shell script held in a memfd that the supervisor injects into the
 * target (ADDFD, not close-on-exec) as fd N: the filename string in the
 * target's memory is overwritten with "/dev/fd/N" and the exec CONTINUEs, with
 * the memfd and /bin/sh announced to the BPF check (and the caller's argv[1..]
 * and envp, which the script passes on, pinned).  The kernel passes the
 * original arguments to the script, which runs
 *     exec 'command' 'args'... "$@" 'args_append'...
 * with the rule's environment added, in the same process (same sandbox, same
 * stdio, same pid).  The replacement command's own exec is pre-authorised once
 * for that process (the policy chose it).  Requirements: the original
 * filename buffer must hold "/dev/fd/N" (10-11 bytes; "/usr/bin/x" always
 * does), and /proc/PID/mem must be writable by root; otherwise the redirect is
 * refused with a notice (fail closed).  The caller's filename buffer is
 * clobbered, which only matters to a vfork() parent sharing that memory. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "bpf/bpf.h"
#include "enforce/notify_sup_int.h"

#define MAX_SCRIPT_DEPTH 4
#define HDR ENF_SHEBANG_BUF

struct xfile {
	int fd;                         /* O_PATH */
	struct stat st;
	char abs[PATH_MAX];
};

struct xargs {
	char *blob;                     /* all strings, NUL separated, as read: argv then envp */
	size_t alen, elen;              /* bytes of the argv and envp parts of blob */
	const char **argv;
	int argc;
	char *names;                    /* a copy of the envp part, cut at each '=' */
	const char **envn;              /* environment names only (K of K=V) */
	int nenv;
};

static void xargs_free(struct xargs *a)
{
	free(a->blob);
	free(a->names);
	free(a->argv);
	free(a->envn);
	memset(a, 0, sizeof *a);
}

/* Read a NULL-terminated array of strings.  Fails closed on truncation. */
static int read_vec(struct nreq *r, uint64_t addr, char **blob, size_t *used, size_t *cap,
		    size_t *offs, int max, int *count)
{
	uint64_t *ptrs = malloc(sizeof(uint64_t) * (size_t)max);
	size_t n;
	int rc;

	if (!ptrs)
		return -ENOMEM;
	rc = nm_read_ptrs(r, addr, ptrs, (size_t)max, &n);
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (*cap - *used < PATH_MAX + 1) {
			size_t nc = *cap * 2;
			if (nc > NOTIFY_MAX_ARGB * 4) {
				rc = -E2BIG;
				break;
			}
			char *nb = realloc(*blob, nc);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			*blob = nb;
			*cap = nc;
		}
		int l = nm_read_str(r, ptrs[i], *blob + *used, *cap - *used);
		if (l < 0) {
			rc = l == -ENAMETOOLONG ? -E2BIG : l;
			break;
		}
		offs[i] = *used;
		*used += (size_t)l + 1;
	}
	*count = (int)n;
	free(ptrs);
	return rc;
}

static int read_args(struct nreq *r, uint64_t argv_addr, uint64_t envp_addr, struct xargs *a)
{
	size_t cap = 16384, used = 0;
	size_t *aoff = calloc(NOTIFY_MAX_ARGS, sizeof(size_t));
	size_t *eoff = calloc(NOTIFY_MAX_ARGS * 4, sizeof(size_t));
	int rc, ne = 0;

	memset(a, 0, sizeof *a);
	a->blob = malloc(cap);
	if (!aoff || !eoff || !a->blob) {
		rc = -ENOMEM;
		goto out;
	}
	if ((rc = read_vec(r, argv_addr, &a->blob, &used, &cap, aoff, NOTIFY_MAX_ARGS, &a->argc)) < 0)
		goto out;
	size_t env_start = used;
	if ((rc = read_vec(r, envp_addr, &a->blob, &used, &cap, eoff, NOTIFY_MAX_ARGS * 4, &ne)) < 0)
		goto out;
	/* blob stays as read: it is what the kernel will copy (pinned by the BPF check) */
	a->alen = env_start;
	a->elen = used - env_start;
	a->argv = calloc((size_t)a->argc + 1, sizeof(char *));
	a->envn = calloc((size_t)ne + 1, sizeof(char *));
	a->names = malloc(a->elen + 1);
	if (!a->argv || !a->envn || !a->names) {
		rc = -ENOMEM;
		goto out;
	}
	memcpy(a->names, a->blob + env_start, a->elen);
	for (int i = 0; i < a->argc; i++)
		a->argv[i] = a->blob + aoff[i];
	for (int i = 0; i < ne; i++) {
		char *kv = a->names + (eoff[i] - env_start);
		char *eq = strchr(kv, '=');
		if (eq)
			*eq = 0;        /* names only: values are never needed */
		a->envn[a->nenv++] = kv;
	}
out:
	free(aoff);
	free(eoff);
	if (rc < 0)
		xargs_free(a);
	return rc;
}

static void xfile_close(struct xfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

/* The first bytes of the file, read with our rights (only to parse it: an
 * execute-only binary is the kernel's to read, not the account's).
 * Regular files only: the kernel execs nothing else, and opening a device
 * as root has effects of its own (/dev/watchdog arms the watchdog).  Only
 * what the account may execute (-EACCES otherwise, the kernel's answer):
 * a refusal naming the interpreter would show the first line of a file the
 * account may neither run nor read. */
static ssize_t header(struct nreq *r, int opath, char *buf, size_t len)
{
	struct ncreds_saved sv;
	char p[64];
	struct stat st;
	int fd;
	ssize_t n;

	if (fstat(opath, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return 0;
	snprintf(p, sizeof p, "/proc/self/fd/%d", opath);
	if (nc_enter(r->n, &sv) < 0 || faccessat(AT_FDCWD, p, X_OK, AT_EACCESS) < 0)
		return -EACCES;
	nc_root();
	fd = open(p, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	n = pread(fd, buf, len, 0);
	close(fd);
	return n < 0 ? -errno : n;
}

static bool spacetab(char c)
{
	return c == ' ' || c == '\t';
}

/* The first of [p, last] that is not a space or tab, or NULL. */
static char *skip_spacetab(char *p, const char *last)
{
	for (; p <= last; p++)
		if (!spacetab(*p))
			return p;
	return NULL;
}

/* The first of [p, last] that ends a name (space, tab, NUL), or NULL. */
static char *name_end(char *p, const char *last)
{
	for (; p <= last; p++)
		if (spacetab(*p) || !*p)
			return p;
	return NULL;
}

/* "#!interp [arg]" exactly as the kernel's load_script() (fs/binfmt_script.c)
 * reads the file's first BINPRM_BUF_SIZE bytes, so that what is decided is
 * what runs.  The line ends at the first '\n' before any NUL; without one,
 * the interpreter's name must end inside the buffer, and the line runs to
 * its last byte.  Trailing spaces and tabs of the line go, '\r' stays.  The
 * name ends at a space, tab or NUL; after a space or tab the argument starts
 * at the next other byte and runs to a NUL: it may hold spaces, and it may
 * be empty ("#!/bin/sh \0" passes "" to the shell).  -1: the kernel does not
 * run the file as a script (ENOEXEC); 0: no argument; 1: *arg is one. */
int enf_shebang(const char *hdr, size_t n, char *interp, size_t ilen, char *arg, size_t alen)
{
	char buf[ENF_SHEBANG_BUF] = { 0 };      /* the kernel zero-fills a short file's */
	char *end = buf + sizeof buf - 1, *line_end, *name, *sep, *a = NULL;

	memcpy(buf, hdr, n < sizeof buf ? n : sizeof buf);
	if (buf[0] != '#' || buf[1] != '!')
		return -1;
	line_end = memchr(buf, '\n', strnlen(buf, sizeof buf));
	if (!line_end) {
		if (!(line_end = skip_spacetab(buf + 2, end)) || !name_end(line_end, end))
			return -1;              /* only blanks, or the name is cut off */
		line_end = end;
	}
	while (spacetab(line_end[-1]))
		line_end--;
	name = skip_spacetab(buf + 2, line_end);
	if (!name || name == line_end)
		return -1;
	sep = name_end(name, line_end);
	if (sep && *sep)
		a = skip_spacetab(sep, line_end);
	*line_end = 0;
	if (a)
		*sep = 0;
	snprintf(interp, ilen, "%s", name);
	snprintf(arg, alen, "%s", a ? a : "");
	return a ? 1 : 0;
}

static bool is_loader(const char *abs)
{
	const char *b = strrchr(abs, '/');

	b = b ? b + 1 : abs;
	return !strncmp(b, "ld-linux", 8) || !strncmp(b, "ld64.so", 7) || !strcmp(b, "ld.so") ||
	       (!strncmp(b, "ld-", 3) && strstr(b, ".so"));
}

/* ld.so's own options that take a value (glibc 2.36). */
static bool loader_opt_takes_value(const char *o)
{
	static const char *const v[] = { "--library-path", "--inhibit-rpath", "--audit", "--preload",
					 "--argv0", "--glibc-hwcaps-prefix", "--glibc-hwcaps-mask" };
	for (size_t i = 0; i < sizeof v / sizeof v[0]; i++)
		if (!strcmp(o, v[i]))
			return true;
	return false;
}

static int resolve_file(struct nreq *r, int dfd, const char *path, bool follow, bool empty,
			struct xfile *f)
{
	int rc;

	f->fd = -1;
	f->abs[0] = 0;
	if (empty && !*path)
		rc = np_target_fd(r, dfd, &f->fd);
	else
		rc = np_object(r, dfd, path, follow, &f->fd, NULL);
	if (rc < 0)
		return rc;
	if (fstat(f->fd, &f->st) < 0)
		return -errno;
	if (np_fd_path(f->fd, f->abs, sizeof f->abs) < 0)
		f->abs[0] = 0;
	return 0;
}

/* The names a program is known by besides its real path: each symlink on the
 * way from the name the caller gave to the file that runs, where root made it
 * and the account cannot change it (the link owned by root, in a root-owned
 * directory without group or other write).  Debian names many everyday tools
 * that way (/usr/bin/python3 -> python3.11, /usr/bin/awk ->
 * /etc/alternatives/awk -> /usr/bin/mawk, gcc -> gcc-12 ->
 * x86_64-linux-gnu-gcc-12), and a rule allowing "python3" means them.  A link
 * the agent made (workspace, /tmp) names nothing: a symlink to a denied
 * program is still decided as that program.  Returns how many were found. */
#define MAX_ALIASES 8
static int trusted_aliases(struct nreq *r, int dfd, const char *given, char (*out)[PATH_MAX])
{
	char cur[PATH_MAX], tgt[PATH_MAX];
	int n = 0;

	if (snprintf(cur, sizeof cur, "%s", given) >= (int)sizeof cur)
		return 0;
	for (int hop = 0; hop < MAX_ALIASES && cur[0]; hop++) {
		struct npath np;
		struct stat ls, ds;
		ssize_t k = -1;
		struct ncreds_saved sv;
		np_init(&np);
		if (np_parent(r, hop ? AT_FDCWD : dfd, cur, &np) == 0 && np.name[0] &&
		    nc_enter(r->n, &sv) == 0 &&
		    fstatat(np.dirfd, np.name, &ls, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(ls.st_mode) &&
		    fstat(np.dirfd, &ds) == 0)
			k = readlinkat(np.dirfd, np.name, tgt, sizeof tgt - 1);
		if (k <= 0) {
			np_free(&np);
			break;
		}
		tgt[k] = 0;
		if (policy_exec_alias_trusted(&ls, &ds))
			snprintf(out[n++], PATH_MAX, "%s", np.abs);
		/* the next hop, as the kernel follows it: relative to the link's directory */
		char *slash = strrchr(np.abs, '/');
		if (tgt[0] == '/' || !slash)
			snprintf(cur, sizeof cur, "%s", tgt);
		else if (snprintf(cur, sizeof cur, "%.*s/%s", (int)(slash - np.abs), np.abs, tgt) >=
			 (int)sizeof cur)
			cur[0] = 0;
		np_free(&np);
	}
	return n;
}

/* The decision for the program at real (its resolved path), given as
 * `given` by the caller: the first rule that matches the real path or one of
 * its trusted aliases wins, as if the rule list were read once for all names. */
static void decide_program(struct nreq *r, int dfd, const char *given, const char *real, int argc,
			   const char *const *argv, struct ndecision *d)
{
	/* the common case: the caller named the file by its real path */
	bool named_real = given && !strcmp(given, real);
	char (*al)[PATH_MAX] = given && !named_real ? malloc(MAX_ALIASES * sizeof *al) : NULL;
	int n = al ? trusted_aliases(r, dfd, given, al) : 0;
	struct ndecision *da = n ? malloc(sizeof *da) : NULL;

	nd_exec(r, real, argc, argv, d);
	for (int i = 0; da && i < n; i++)
		if (strcmp(al[i], real) && nd_exec(r, al[i], argc, argv, da) == 0 &&
		    policy_exec_alias_wins(&da->res, &d->res))
			*d = *da;
	free(da);
	free(al);
}

/* Which variable of the exec's environment env_policy would remove.  The
 * policy's own filter decides (so env_inject and a rule's env, which put
 * their variables back, are honoured); values are not needed for names. */
static int env_check(struct nreq *r, const struct policy_result *cmd, const struct xargs *a,
		     const char **bad)
{
	const char **in, **out;
	size_t nout = 0;
	int rc = 0;

	*bad = NULL;
	if (!a->nenv)
		return 0;
	if (r->n->cfg.ops && r->n->cfg.ops->env_allowed) {
		for (int i = 0; i < a->nenv; i++)
			if (!nd_env_allowed(r, cmd, a->envn[i])) {
				*bad = a->envn[i];
				return 0;
			}
		return 0;
	}
	size_t cap = (size_t)a->nenv + 256;
	in = calloc((size_t)a->nenv + 1, sizeof(char *));
	out = calloc(cap, sizeof(char *));
	char *names = NULL;
	size_t total = 0;
	for (int i = 0; i < a->nenv; i++)
		total += strlen(a->envn[i]) + 2;
	names = malloc(total ? total : 1);
	if (!in || !out || !names) {
		rc = -ENOMEM;
		goto done;
	}
	char *w = names;
	for (int i = 0; i < a->nenv; i++) {
		size_t l = strlen(a->envn[i]);
		in[i] = w;
		memcpy(w, a->envn[i], l);
		w[l] = '=';
		w[l + 1] = 0;
		w += l + 2;
	}
	if ((rc = policy_env_filter(r->n->cfg.policy, cmd, in, out, cap, &nout)) < 0)
		goto done;
	for (int i = 0; i < a->nenv && !*bad; i++) {
		size_t l = strlen(a->envn[i]);
		bool kept = false;
		for (size_t j = 0; j < nout && !kept; j++)
			kept = !strncmp(out[j], a->envn[i], l) && out[j][l] == '=';
		if (!kept)
			*bad = a->envn[i];
	}
done:
	free(in);
	free(out);
	free(names);
	return rc;
}

/* ---------------------------------------------------------------- redirect */

struct pending_redirect {
	pid_t tgid;
	time_t until;
	char path[PATH_MAX];
};

#define NREDIR 32
static struct pending_redirect redirects[NREDIR];
static pthread_mutex_t redir_lock = PTHREAD_MUTEX_INITIALIZER;

static void redirect_allow(pid_t tgid, const char *path)
{
	pthread_mutex_lock(&redir_lock);
	int slot = 0;
	for (int i = 0; i < NREDIR; i++)
		if (redirects[i].until < redirects[slot].until)
			slot = i;
	redirects[slot].tgid = tgid;
	redirects[slot].until = time(NULL) + 30;
	snprintf(redirects[slot].path, sizeof redirects[slot].path, "%s", path);
	pthread_mutex_unlock(&redir_lock);
}

static bool redirect_take(pid_t tgid, const char *path)
{
	bool ok = false;
	time_t now = time(NULL);

	pthread_mutex_lock(&redir_lock);
	for (int i = 0; i < NREDIR; i++) {
		if (redirects[i].tgid == tgid && redirects[i].until >= now &&
		    !strcmp(redirects[i].path, path)) {
			redirects[i].until = 0;
			redirects[i].tgid = 0;
			ok = true;
			break;
		}
	}
	pthread_mutex_unlock(&redir_lock);
	return ok;
}

/* Single-quote for sh. */
static int sq(char **out, size_t *len, size_t *cap, const char *s)
{
	size_t need = strlen(s) * 4 + 3;

	if (*len + need + 2 > *cap) {
		size_t nc = (*cap + need) * 2;
		char *nb = realloc(*out, nc);
		if (!nb)
			return -ENOMEM;
		*out = nb;
		*cap = nc;
	}
	char *o = *out + *len;
	*o++ = '\'';
	for (; *s; s++) {
		if (*s == '\'') {
			memcpy(o, "'\\''", 4);
			o += 4;
		} else {
			*o++ = *s;
		}
	}
	*o++ = '\'';
	*o++ = ' ';
	*o = 0;
	*len = (size_t)(o - *out);
	return 0;
}

static int add(char **out, size_t *len, size_t *cap, const char *s)
{
	size_t l = strlen(s);

	if (*len + l + 1 > *cap) {
		size_t nc = (*cap + l) * 2;
		char *nb = realloc(*out, nc);
		if (!nb)
			return -ENOMEM;
		*out = nb;
		*cap = nc;
	}
	memcpy(*out + *len, s, l + 1);
	*len += l;
	return 0;
}

static char *redirect_script(const struct policy_result *res, int memfd_no, const char *shell)
{
	size_t len = 0, cap = 1024;
	char *s = malloc(cap), num[32];
	int rc = 0;

	if (!s)
		return NULL;
	s[0] = 0;
	rc |= add(&s, &len, &cap, "#!");
	rc |= add(&s, &len, &cap, shell);
	rc |= add(&s, &len, &cap, "\n# agentsh command redirect (policy redirect_to)\n");
	snprintf(num, sizeof num, "exec %d>&-\n", memfd_no);
	rc |= add(&s, &len, &cap, num);
	for (size_t i = 0; i < res->cmd.nenv; i++) {
		const char *kv = res->cmd.env[i];
		const char *eq = strchr(kv, '=');
		if (!eq || eq == kv)
			continue;
		char name[256];
		snprintf(name, sizeof name, "%.*s", (int)(eq - kv), kv);
		if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_") !=
		    strlen(name))
			continue;
		rc |= add(&s, &len, &cap, "export ");
		rc |= add(&s, &len, &cap, name);
		rc |= add(&s, &len, &cap, "=");
		rc |= sq(&s, &len, &cap, eq + 1);
		rc |= add(&s, &len, &cap, "\n");
	}
	rc |= add(&s, &len, &cap, "exec ");
	rc |= sq(&s, &len, &cap, res->cmd.path);
	for (size_t i = 0; i < res->cmd.nargs; i++)
		rc |= sq(&s, &len, &cap, res->cmd.args[i]);
	rc |= add(&s, &len, &cap, "\"$@\" ");
	for (size_t i = 0; i < res->cmd.nargs_append; i++)
		rc |= sq(&s, &len, &cap, res->cmd.args_append[i]);
	rc |= add(&s, &len, &cap, "\n");
	if (rc) {
		free(s);
		return NULL;
	}
	return s;
}

static int do_redirect(struct nreq *r, const struct ndecision *d, uint64_t fname_addr,
		       size_t fname_len, const struct bpf_exec_args *args, char *why, size_t whylen)
{
	const struct policy_result *res = &d->res;
	struct stat mst, sst;
	int rc;

	if (!res->cmd.path || res->cmd.path[0] != '/') {
		snprintf(why, whylen, "the redirect target must be an absolute path");
		return -EINVAL;
	}
	if (stat(r->n->cfg.redirect_shell, &sst) < 0) {
		snprintf(why, whylen, "the redirect shell %s is missing", r->n->cfg.redirect_shell);
		return -ENOENT;
	}
	nc_root();
	int mfd = memfd_create("agentsh-redirect", MFD_CLOEXEC);
	if (mfd < 0) {
		snprintf(why, whylen, "memfd_create failed");
		return -errno;
	}
	/* Inject first: the script must name its own fd number. */
	struct seccomp_notif_addfd a = { .id = r->req->id, .srcfd = (uint32_t)mfd, .newfd_flags = 0 };
	int tfd = ioctl(r->n->fd, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
	if (tfd < 0) {
		rc = -errno;
		close(mfd);
		snprintf(why, whylen, "could not give the target the redirect script");
		return rc;
	}
	char newname[32];
	int nl = snprintf(newname, sizeof newname, "/dev/fd/%d", tfd);
	if ((size_t)nl + 1 > fname_len) {
		close(mfd);
		snprintf(why, whylen, "the program path is too short to be redirected (needs %d bytes)",
			 nl + 1);
		return -ENAMETOOLONG;
	}
	char *script = redirect_script(res, tfd, r->n->cfg.redirect_shell);
	if (!script || write(mfd, script, strlen(script)) != (ssize_t)strlen(script) ||
	    fchmod(mfd, 0555) < 0 || fstat(mfd, &mst) < 0) {
		free(script);
		close(mfd);
		snprintf(why, whylen, "could not write the redirect script");
		return -EIO;
	}
	free(script);
	if (!r->tgid && (rc = nc_tgid(r->pid, &r->tgid, NULL)) < 0) {
		close(mfd);
		return rc;
	}
	if (r->n->cfg.bpf &&
	    (rc = bpf_guard_expect_exec_args(r->n->cfg.bpf, r->pid, mst.st_dev, mst.st_ino,
					     sst.st_dev, sst.st_ino, args->flags ? args : NULL)) < 0) {
		close(mfd);
		snprintf(why, whylen, "the kernel-side exec check could not be armed");
		return rc;
	}
	if ((rc = nm_write(r, fname_addr, newname, (size_t)nl + 1)) < 0) {
		close(mfd);
		if (r->n->cfg.bpf)
			bpf_guard_unexpect_exec(r->n->cfg.bpf, r->pid);
		snprintf(why, whylen, "could not rewrite the exec in the target's memory");
		return rc;
	}
	/* the script's exec will name the canonical path (merged /usr...) */
	char canon[PATH_MAX];
	redirect_allow(r->tgid, realpath(res->cmd.path, canon) ? canon : res->cmd.path);
	close(mfd);     /* the target holds its own reference */
	snprintf(r->target2, sizeof r->target2, "%s", res->cmd.path);
	return 0;
}

/* ---------------------------------------------------------------- decision */

struct xplan {
	dev_t dev, idev;
	ino_t ino, iino;
	bool script;
	struct bpf_exec_args args;      /* flags 0: the arguments are not pinned */
};

static int announce(struct nreq *r, const struct xplan *x)
{
	if (!r->n->cfg.bpf)
		return 0;       /* degraded mode, explicitly allowed at start */
	nc_root();
	return bpf_guard_expect_exec_args(r->n->cfg.bpf, r->pid, x->dev, x->ino,
					  x->script ? x->idev : 0, x->script ? x->iino : 0,
					  x->args.flags ? &x->args : NULL);
}

/* Could the decision have come out differently with other arguments or another
 * environment?  Rules with args_patterns read argv; env_policy reads the names. */
static bool args_matter(struct nreq *r, const struct xargs *a)
{
	const struct policy *p = r->n->cfg.policy;
	struct policy_cmd_rule_info ri;

	if (a->nenv || !p)
		return true;
	for (size_t i = 0; i < policy_cmd_rule_count(p); i++)
		if (policy_cmd_rule_get(p, i, &ri) < 0 || ri.nargs_patterns)
			return true;
	return false;
}

/* Pin the argv/envp bytes the decision saw (x->args), so that a thread changing them
 * before the kernel copies them gets the exec killed.  -E2BIG: too large for the kernel
 * side to hash and the decision depended on them (the caller refuses the exec); too large
 * but irrelevant to the decision: not pinned.  (read_args refuses far smaller lists today,
 * so the first case is a guard for a later increase of its limit.) */
static int pin_args(struct nreq *r, const struct xargs *a, bool script, struct xplan *x)
{
	memset(&x->args, 0, sizeof x->args);
	if (!r->n->cfg.bpf)
		return 0;
	int rc = bpf_guard_exec_args(r->n->cfg.bpf, a->blob, a->alen, a->blob + a->alen, a->elen,
				     script, &x->args);
	if (rc == -E2BIG && !args_matter(r, a))
		return 0;
	return rc;
}

static void let_through(struct nreq *r, const struct ndecision *d, const struct xplan *x,
			const char *note)
{
	int rc = announce(r, x);

	if (rc < 0) {
		nd_report(r, d, false, EACCES, "the kernel-side exec check could not be armed");
		nr_error(r, EACCES);
		return;
	}
	nd_report(r, d, true, 0, r->n->cfg.bpf ? note : "degraded: exec not verified in the kernel");
	if (nr_continue(r) < 0 && r->n->cfg.bpf)
		bpf_guard_unexpect_exec(r->n->cfg.bpf, r->pid);
}

static void resume_exec(struct nreq *r, void *arg)
{
	struct xplan *x = arg;

	/* (approved_cb already reported the decision.)  A swap while the human decided is caught by the BPF check (inode). */
	int rc = announce(r, x);
	if (rc < 0 || nr_continue(r) < 0) {
		if (r->n->cfg.bpf)
			bpf_guard_unexpect_exec(r->n->cfg.bpf, r->pid);
		if (!r->answered)
			nr_error(r, EACCES);
	}
	free(x);
}

static void deny(struct nreq *r, const char *rule, int err, const char *msg)
{
	struct ndecision d = { .kind = POLICY_KIND_COMMAND };

	d.res.decision = POLICY_DENY;
	d.res.rule = rule;
	snprintf(d.res.message, sizeof d.res.message, "%s", msg);
	nd_report(r, &d, false, err, NULL);
	nr_error(r, err);
}

void nh_exec(struct nreq *r)
{
	char path[PATH_MAX], buf[HDR];
	struct xargs a;
	struct xfile f = { .fd = -1 }, in = { .fd = -1 };
	struct xplan x = { 0 };
	struct ndecision d, d2;
	int dfd = AT_FDCWD, flags = 0, rc;
	uint64_t paddr = r->a[0], argv = r->a[1], envp = r->a[2];

	r->opname = "execve";
	if (r->nr == __NR_execveat) {
		dfd = (int)(int32_t)r->a[0];
		paddr = r->a[1];
		argv = r->a[2];
		envp = r->a[3];
		flags = (int)r->a[4];
		r->opname = "execveat";
	}
	int plen = nm_read_str(r, paddr, path, sizeof path);
	if (plen < 0) {
		nr_error(r, plen == -ENAMETOOLONG ? ENAMETOOLONG : EFAULT);
		return;
	}
	if ((rc = read_args(r, argv, envp, &a)) < 0) {
		/* a target killed meanwhile (tmux's pane helper at kill-server)
		 * has no memory left to read, and wants no answer or notice */
		if (!nr_valid(r))
			return;
		snprintf(r->target, sizeof r->target, "%s", path);
		deny(r, "exec-args-unreadable", rc == -E2BIG ? E2BIG : EFAULT,
		     "the arguments could not be read completely for a decision");
		return;
	}
	if (!nr_valid(r))
		goto out;
	snprintf(r->target, sizeof r->target, "%s", path);
	rc = resolve_file(r, dfd, path, !(flags & AT_SYMLINK_NOFOLLOW), flags & AT_EMPTY_PATH, &f);
	if (rc < 0) {
		nr_error(r, -rc);
		goto out;
	}
	if (!f.abs[0]) {
		deny(r, "exec-anonymous-file", EACCES,
		     "executing a file that has no path (memfd, deleted or O_TMPFILE file) is refused");
		goto out;
	}
	snprintf(r->target, sizeof r->target, "%s", f.abs);
	x.dev = f.st.st_dev;
	x.ino = f.st.st_ino;

	/* The file named by the exec, with the caller's argv. */
	decide_program(r, dfd, (flags & AT_SYMLINK_NOFOLLOW) || !path[0] ? NULL : path, f.abs,
		       a.argc, a.argv, &d);
	if (d.res.decision == POLICY_REDIRECT) {
		/* handled below, once the script/loader checks are done */
	}
	bool pre = redirect_take(r->tgid ? r->tgid : (nc_tgid(r->pid, &r->tgid, NULL), r->tgid),
				 f.abs);
	if (pre) {
		d.res.decision = POLICY_ALLOW;
		d.res.rule = "redirect-target";
	}

	/* A script: the interpreter (as the kernel resolves it, from the
	 * caller's cwd) must be allowed too, with the argv it will get. */
	ssize_t hn = header(r, f.fd, buf, sizeof buf);
	char interp[HDR + 1], iarg[HDR + 1];
	int depth = 0;
	int cur = dup(f.fd);
	int sb;
	while (hn > 0 && (sb = enf_shebang(buf, (size_t)hn, interp, sizeof interp, iarg, sizeof iarg)) >= 0) {
		if (++depth > MAX_SCRIPT_DEPTH) {
			close(cur);
			deny(r, "exec-script-depth", ELOOP, "too many levels of interpreters");
			goto out;
		}
		xfile_close(&in);
		if ((rc = resolve_file(r, AT_FDCWD, interp, true, false, &in)) < 0 || !in.abs[0]) {
			close(cur);
			nr_error(r, rc < 0 ? -rc : ENOEXEC);
			goto out;
		}
		const char **iv = calloc((size_t)a.argc + 4, sizeof(char *));
		int ic = 0;
		if (!iv) {
			close(cur);
			nr_error(r, ENOMEM);
			goto out;
		}
		iv[ic++] = interp;
		if (sb)
			iv[ic++] = iarg;
		iv[ic++] = f.abs;
		for (int i = 1; i < a.argc; i++)
			iv[ic++] = a.argv[i];
		decide_program(r, AT_FDCWD, interp, in.abs, ic, iv, &d2);
		free(iv);
		if (!pre)
			nd_merge(&d, &d2);
		x.script = true;
		x.idev = in.st.st_dev;
		x.iino = in.st.st_ino;
		close(cur);
		cur = dup(in.fd);
		hn = header(r, in.fd, buf, sizeof buf);
	}
	if (cur >= 0)
		close(cur);
	if (hn == -EACCES) {
		nr_error(r, EACCES);    /* the program or an interpreter is not executable for the account */
		goto out;
	}

	/* The dynamic loader run directly: decide on the program it will load. */
	if (!x.script && is_loader(f.abs) && !pre) {
		int i = 1;
		while (i < a.argc && a.argv[i][0] == '-' && a.argv[i][1] == '-') {
			if (!strcmp(a.argv[i], "--")) {
				i++;
				break;
			}
			i += loader_opt_takes_value(a.argv[i]) ? 2 : 1;
		}
		if (i < a.argc) {
			struct xfile prog = { .fd = -1 };
			if ((rc = resolve_file(r, AT_FDCWD, a.argv[i], true, false, &prog)) < 0 ||
			    !prog.abs[0]) {
				xfile_close(&prog);
				deny(r, "exec-loader-target", EACCES,
				     "the program given to the dynamic loader cannot be resolved");
				goto out;
			}
			decide_program(r, AT_FDCWD, a.argv[i], prog.abs, a.argc - i, a.argv + i, &d2);
			nd_merge(&d, &d2);
			snprintf(r->target2, sizeof r->target2, "%s", prog.abs);
			xfile_close(&prog);
		}
	}

	/* Environment variables the policy refuses cannot be removed in place. */
	if (d.res.decision != POLICY_DENY) {
		const char *bad = NULL;
		int erc = env_check(r, &d.res, &a, &bad);
		if (erc < 0 || bad) {
			char m[512];
			if (bad)
				snprintf(m, sizeof m,
					 "the environment variable %.200s is not allowed by env_policy; unset it",
					 bad);
			else
				snprintf(m, sizeof m, "the environment exceeds env_policy's limits (%s)",
					 strerror(-erc));
			deny(r, "env-policy", EPERM, m);
			goto out;
		}
	}

	/* The redirect runs a script (memfd, #!shell): the kernel puts the shell and the
	 * script's path in place of argv[0] and copies the caller's argv[1..] and envp, which
	 * the script passes on ("$@"): those are pinned, the rest is what we wrote. */
	if (d.res.decision != POLICY_DENY &&
	    (rc = pin_args(r, &a, x.script || d.res.decision == POLICY_REDIRECT, &x)) < 0) {
		deny(r, "exec-args-pin", rc == -E2BIG ? E2BIG : EACCES,
		     rc == -E2BIG ? "the arguments and environment are too large to be verified "
				    "in the kernel (2 MiB); pass fewer or shorter ones"
				  : "the arguments could not be pinned for the kernel-side exec check");
		goto out;
	}

	switch (d.res.decision) {
	case POLICY_ALLOW:
	case POLICY_AUDIT:
		let_through(r, &d, &x, NULL);
		break;
	case POLICY_APPROVE: {
		struct xplan *px = malloc(sizeof *px);
		if (!px) {
			nr_error(r, ENOMEM);
			break;
		}
		*px = x;
		if (nd_approve(r, &d, EACCES, resume_exec, px, free) < 0 || !r->n->cfg.approvals)
			free(px);
		break;
	}
	case POLICY_REDIRECT: {
		char why[160] = "";
		if ((flags & AT_EMPTY_PATH) || (path[0] != '/' && r->nr == __NR_execveat &&
						dfd != AT_FDCWD)) {
			snprintf(why, sizeof why, "an exec by file descriptor cannot be redirected");
			rc = -EINVAL;
		} else {
			rc = do_redirect(r, &d, paddr, (size_t)plen + 1, &x.args, why, sizeof why);
		}
		if (rc < 0) {
			nd_report(r, &d, false, EACCES, why);
			nr_error(r, EACCES);
			break;
		}
		nd_report(r, &d, true, 0, NULL);
		nr_continue(r);
		break;
	}
	default:
		nd_report(r, &d, false, EACCES, NULL);
		nr_error(r, EACCES);
		break;
	}
out:
	xfile_close(&f);
	xfile_close(&in);
	xargs_free(&a);
}
