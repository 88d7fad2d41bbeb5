/* doctor.c — `agentsh doctor [--json]`: every enforcement layer, measured on the
 * running kernel (not guessed from its version): available, active, degraded,
 * and why. */
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/fsuid.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bpf/bpf.h"
#include "enforce/enforce_int.h"
#include "enforce/probe_int.h"
#include "policy/policy.h"

/* required: a session refuses to start without it (unless allow_degraded, where
 * the layer says so). */
enum lstate { L_ACTIVE, L_DEGRADED, L_MISSING, L_INFO };
static const char *const state_name[] = { "active", "degraded", "unavailable", "info" };

struct layer {
	const char *name;
	enum lstate state;
	bool available;
	char why[256];
};

#define MAXL 48
struct report {
	struct layer l[MAXL];
	size_t n;
};

static void add(struct report *r, const char *name, bool ok, enum lstate if_missing, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
static void add(struct report *r, const char *name, bool ok, enum lstate if_missing, const char *fmt, ...)
{
	if (r->n >= MAXL)
		return;
	struct layer *l = &r->l[r->n++];
	l->name = name;
	l->available = ok;
	l->state = ok ? (if_missing == L_INFO ? L_INFO : L_ACTIVE) : if_missing;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(l->why, sizeof l->why, fmt, ap);
	va_end(ap);
}

static void seccomp_layers(struct report *r)
{
	const struct enf_seccomp_caps *c = enf_probe_seccomp();
	unsigned f = c->flags;
	add(r, "seccomp filter (syscall surface)", f & ENF_CAP_FILTER, L_MISSING,
	    "%s", f & ENF_CAP_FILTER ? "io_uring, foreign ABIs, ptrace, mount, keys, ... refused in the kernel"
				     : "seccomp(2) filters refused");
	add(r, "seccomp user notification", f & ENF_CAP_NOTIFY, L_MISSING, "%s",
	    f & ENF_CAP_NOTIFY ? "exec/file/socket/signal decisions in the supervisor" : "needs Linux 5.0+");
	add(r, "SECCOMP_IOCTL_NOTIF_ADDFD", f & ENF_CAP_ADDFD, L_MISSING, "%s",
	    f & ENF_CAP_ADDFD ? "opens emulated without TOCTOU" : "needs Linux 5.9+");
	add(r, "SECCOMP_IOCTL_NOTIF_ID_VALID", f & ENF_CAP_ID_VALID, L_MISSING, "%s",
	    f & ENF_CAP_ID_VALID ? "stale notifications detected" : "needs Linux 5.0+");
	add(r, "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV", f & ENF_CAP_KILLABLE, L_DEGRADED, "%s",
	    f & ENF_CAP_KILLABLE ? "signals do not restart notified syscalls"
				 : "needs Linux 5.19+: signal-heavy programs see restarts");
	add(r, "SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP", f & ENF_CAP_SYNC_WAKEUP, L_DEGRADED, "%s",
	    f & ENF_CAP_SYNC_WAKEUP ? "~10 us per notified syscall instead of ~70 us here"
				    : "needs Linux 6.6+: notified syscalls cost more (not a hole)");
}

static void landlock_layers(struct report *r)
{
	int abi = enf_landlock_abi();
	if (abi >= 1)
		add(r, "Landlock filesystem floor", true, L_DEGRADED, "ABI %d: writes only where a rule could allow "
		    "them%s", abi, abi >= 3 ? ", truncate included" : ", truncate NOT covered (ABI < 3)");
	else
		add(r, "Landlock filesystem floor", false, L_DEGRADED, "not available (%s)", strerror(-abi));
	add(r, "Landlock signal scoping", abi >= 6, L_DEGRADED, "%s",
	    abi >= 6 ? "the session cannot signal anything outside it" : "needs ABI 6 (Linux 6.12)");
	add(r, "Landlock TCP ports", abi >= 4, L_INFO, "%s",
	    abi >= 4 ? "available (network rules are enforced by BPF by address instead)" : "needs ABI 4");
}

static void floor_layers(struct report *r)
{
	int fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	int e = errno;
	if (fd >= 0)
		close(fd);
	add(r, "read-deny floor (mount namespace + FUSE)", fd >= 0, L_DEGRADED, fd >= 0 ?
	    "%s" : "/dev/fuse: %s", fd >= 0 ? "literal read denies refused and audited without notifying reads"
	    : strerror(e));
	/* the same cover keeps the human's terminal from the session; without it
	 * the supervisor refuses the terminal and sees every open (slower) */
	add(r, "terminal guard", true, L_DEGRADED, "%s", fd >= 0
	    ? "the terminals agentsh holds are covered in each session (rule agentsh-terminal)"
	    : "the supervisor refuses the terminals agentsh holds; every open is notified");
}

static void cgroup_layers(struct report *r)
{
	char root[PATH_MAX], p[PATH_MAX + 64];
	int rc = enf_cg2_root(root, sizeof root);
	add(r, "cgroup v2 (session containment, cgroup.kill)", rc == 0, L_MISSING, rc == 0 ? "mounted at %s"
	    : "no cgroup2 mount (%s)", rc == 0 ? root : strerror(-rc));
	if (rc < 0)
		return;
	char ctl[256] = "";
	snprintf(p, sizeof p, "%s/cgroup.controllers", root);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t k = read(fd, ctl, sizeof ctl - 1);
		ctl[k > 0 ? k : 0] = 0;
		ctl[strcspn(ctl, "\n")] = 0;
		close(fd);
	}
	add(r, "cgroup v2 controllers", true, L_INFO, "%s", ctl[0] ? ctl : "(none)");
	snprintf(p, sizeof p, "%s/agentsh", root);
	struct stat st;
	bool ok = stat(p, &st) == 0 || (mkdir(p, 0755) == 0);
	snprintf(p, sizeof p, "%s/agentsh/cgroup.kill", root);
	add(r, "cgroup.kill", ok && access(p, F_OK) == 0, L_MISSING, "%s",
	    ok && access(p, F_OK) == 0 ? "the whole tree dies at once" : "needs Linux 5.14+ and root");
	static const char *const ctrls[] = { "pids", "memory", "cpu" };
	for (size_t i = 0; i < 3; i++) {
		bool v2 = strstr(ctl, ctrls[i]) != NULL;
		snprintf(p, sizeof p, "/proc/self/cgroup");
		char line[512];
		bool v1 = false;
		FILE *f = fopen(p, "re");
		while (f && fgets(line, sizeof line, f))
			v1 |= strstr(line, ctrls[i]) != NULL && line[0] != '0';
		if (f)
			fclose(f);
		static char names[3][40];
		snprintf(names[i], sizeof names[i], "limits: %s controller", ctrls[i]);
		add(r, names[i], v2 || v1, L_DEGRADED, "%s", v2 ? "cgroup v2" : v1 ? "cgroup v1 (sessions join a "
		    "child of agentsh's own v1 cgroup)" : "not mounted: resource_limits for it cannot be enforced");
	}
}

/* The guard is loaded once per build and pinned: say what is pinned now. */
static void bpf_pinned(struct report *r)
{
	static char why[512];
	struct bpf_pin_report p;
	int rc = bpf_pin_report(&p);
	if (rc < 0) {
		add(r, "BPF guard pins", false, L_INFO, "cannot inspect: %s", strerror(-rc));
		return;
	}
	if (!p.present)
		snprintf(why, sizeof why, "%s: not loaded yet (the next session loads and pins it, ~7 ms once)",
			 p.dir);
	else if (!p.valid)
		snprintf(why, sizeof why, "%s: does not match this build (%s): the next session replaces it",
			 p.dir, strerror(-p.err));
	else
		snprintf(why, sizeof why, "%s: loaded once, shared; %d session(s) registered (%d stale, "
			 "swept by the next session)", p.dir, p.sessions, p.stale);
	if (p.other_builds)
		snprintf(why + strlen(why), sizeof why - strlen(why), "; %d other build(s) pinned (unpinned by the "
			 "next session once none of their sessions is left)", p.other_builds);
	add(r, "BPF guard pins", !p.present || p.valid, L_INFO, "%s", why);
}

static void bpf_layers(struct report *r)
{
	struct bpf_probe_report br;
	memset(&br, 0, sizeof br);
	int rc = bpf_probe(&br);
	if (rc < 0) {
		add(r, "BPF", false, L_DEGRADED, "probe failed: %s", strerror(-rc));
		return;
	}
	for (int i = 0; i < BPF_FEAT__COUNT; i++) {
		struct bpf_feature_status *f = &br.f[i];
		if (!f->name)
			continue;
		bool extra = i == BPF_FEAT_LSM || i == BPF_FEAT_FENTRY;
		static char names[BPF_FEAT__COUNT][64];
		snprintf(names[i], sizeof names[i], "BPF %s", f->name);
		add(r, names[i], f->ok, extra ? L_INFO : L_DEGRADED, "%s", f->detail[0] ? f->detail
		    : f->ok ? "ok" : strerror(-f->err));
	}
	add(r, "BPF guard (exec verification, network rules)", br.guard_usable, L_DEGRADED, "%s",
	    br.guard_usable ? "every program the session guard needs loads" : "some program type is refused");
	bpf_pinned(r);
}

static void session_layers(struct report *r)
{
	uid_t ru, eu, su;
	getresuid(&ru, &eu, &su);
	add(r, "privilege", eu == 0, L_DEGRADED, "%s", eu == 0 ? (ru == 0 ? "running as root" :
	    "setuid root (commands run as the invoking account)") :
	    "not root: cgroups, BPF and other accounts are unavailable (reduced mode)");
}

static void collect(struct report *r)
{
	memset(r, 0, sizeof *r);
	session_layers(r);
	seccomp_layers(r);
	landlock_layers(r);
	floor_layers(r);
	cgroup_layers(r);
	bpf_layers(r);
}

static int print_json(const struct report *r, bool ok)
{
	json_t *o = json_object(), *a = json_array();
	for (size_t i = 0; i < r->n; i++) {
		json_t *l = json_pack("{s:s, s:b, s:s, s:s}", "layer", r->l[i].name, "available", r->l[i].available,
				      "state", state_name[r->l[i].state], "why", r->l[i].why);
		json_array_append_new(a, l);
	}
	json_object_set_new(o, "ok", json_boolean(ok));
	json_object_set_new(o, "layers", a);
	char *s = json_dumps(o, JSON_INDENT(2));
	json_decref(o);
	if (!s)
		return 1;
	puts(s);
	free(s);
	return 0;
}

/* --policy FILE: which way a session started here with FILE decides writes.
 * The file is read with the caller's file-system ids: doctor keeps root for
 * its probes (installed setuid too), and must not read for the caller what
 * the caller could not. */
static int write_mode(struct report *r, const char *file, const struct enforce_account *who)
{
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof cwd))
		snprintf(cwd, sizeof cwd, "/");
	struct policy_vars v = { .home = who->home ? who->home : "/", .workspace = cwd,
				 .project_root = cwd, .tmpdir = "/tmp",
				 .user = who->name ? who->name : "nobody" };
	struct policy_diags d;
	struct policy *p = NULL;
	policy_diags_init(&d);
	bool as_caller = geteuid() == 0 && who->uid != 0;
	uid_t fu = as_caller ? (uid_t)setfsuid(who->uid) : 0;
	gid_t fg = as_caller ? (gid_t)setfsgid(who->gid) : 0;
	int lrc = policy_load_file(file, &v, &p, &d);
	if (as_caller) {
		setfsgid(fg);
		setfsuid(fu);
	}
	if (lrc < 0) {
		policy_diags_print(&d, stderr);
		policy_diags_free(&d);
		fprintf(stderr, "agentsh doctor: cannot load the policy %s: fix the errors above\n", file);
		return -EINVAL;
	}
	policy_diags_free(&d);
	char why[256];
	bool k = enf_writemode_preview(p, why, sizeof why);
	add(r, "write decisions (--policy, workspace = cwd)", true, L_INFO, "%s: %s",
	    k ? "kernel (Landlock + cover mounts, not notified)" : "supervisor (notified)", why);
	policy_free(p);
	return 0;
}

int enforce_doctor_run(int argc, char **argv, const struct enforce_account *who)
{
	bool json = false;
	const char *policy_file = NULL;
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--policy") == 0 && i + 1 < argc) {
			policy_file = argv[++i];
		} else {
			fprintf(stderr, "agentsh doctor: unknown argument '%s'\n"
				"usage: agentsh doctor [--json] [--policy FILE]\n", argv[i]);
			return 2;
		}
	}
	struct report r;
	collect(&r);
	fflush(stdout);
	if (policy_file && write_mode(&r, policy_file, who) < 0)
		return 2;
	bool ok = true;
	for (size_t i = 0; i < r.n; i++)
		ok &= r.l[i].state != L_MISSING && r.l[i].state != L_DEGRADED;
	if (json) {
		if (print_json(&r, ok))
			return 1;
	} else {
		for (size_t i = 0; i < r.n; i++)
			printf("%-12s %-46s %s\n", state_name[r.l[i].state], r.l[i].name, r.l[i].why);
		printf("\n%s\n", ok ? "every enforcement layer is available"
			       : "some layers are missing: sessions refuse to start, or run degraded where "
				 "the configuration allows it");
	}
	return ok ? 0 : 1;
}
