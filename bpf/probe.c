/* bpf_probe(): which of the guard's programs load here, and why not — for `agentsh doctor`.
 * Each program is loaded on its own (the others' autoload switched off) so one refusal
 * does not hide the rest; tracing programs are also attached and detached at once (their
 * scope map is empty, so they act on nothing meanwhile). */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "bpf/guard_int.h"
#include "guard.skel.h"
#include "probe.skel.h"

static const char *const feat_name[BPF_FEAT__COUNT] = {
	[BPF_FEAT_TP_BTF_EXEC] = "raw_tp/sched_process_exec",
	[BPF_FEAT_TP_BTF_FORK] = "raw_tp/sched_process_fork",
	[BPF_FEAT_TP_BTF_EXIT] = "raw_tp/sched_process_exit",
	[BPF_FEAT_SEND_SIGNAL] = "bpf_send_signal",
	[BPF_FEAT_RINGBUF] = "ringbuf map",
	[BPF_FEAT_CONNECT4] = "cgroup/connect4",
	[BPF_FEAT_CONNECT6] = "cgroup/connect6",
	[BPF_FEAT_SENDMSG4] = "cgroup/sendmsg4",
	[BPF_FEAT_SENDMSG6] = "cgroup/sendmsg6",
	[BPF_FEAT_RECVMSG4] = "cgroup/recvmsg4",
	[BPF_FEAT_RECVMSG6] = "cgroup/recvmsg6",
	[BPF_FEAT_SOCK_CREATE] = "cgroup/sock_create",
	[BPF_FEAT_LPM_TRIE] = "lpm_trie map",
	[BPF_FEAT_CGROUP_V2] = "cgroup v2 mount",
	[BPF_FEAT_LSM] = "lsm/bprm_check_security (optional)",
	[BPF_FEAT_FENTRY] = "fentry/do_exit (optional)",
};

static void set(struct bpf_probe_report *r, enum bpf_feature f, int err, const char *fmt, const char *arg)
{
	struct bpf_feature_status *s = &r->f[f];
	s->name = feat_name[f];
	s->ok = err == 0;
	s->err = err;
	snprintf(s->detail, sizeof s->detail, fmt, arg);
}

static void set_err(struct bpf_probe_report *r, enum bpf_feature f, int err, const char *what)
{
	const char *m = guard_last_libbpf_msg();
	char buf[256];
	snprintf(buf, sizeof buf, "%s: %s%s%s", what, strerror(-err), *m ? "; " : "", m);
	set(r, f, err, "%s", buf);
}

/* Load only `only` from the guard object; attach it too when it is a tracing program. */
static int try_guard_prog(const char *only, int attach)
{
	struct guard_bpf *s;
	guard_quiet_libbpf();
	int err = guard_skel_load(&s, only);
	if (!err && attach) {
		struct bpf_program *p = bpf_object__find_program_by_name(s->obj, only);
		struct bpf_link *l = p ? bpf_program__attach(p) : NULL;
		err = l ? 0 : (errno ? -errno : -ENOENT);
		bpf_link__destroy(l);
	}
	guard_bpf__destroy(s);
	return err;
}

static int try_probe_prog(int lsm)
{
	guard_quiet_libbpf();
	struct probe_bpf *s = probe_bpf__open();
	if (!s)
		return -errno;
	bpf_program__set_autoload(s->progs.probe_lsm, lsm);
	bpf_program__set_autoload(s->progs.probe_fentry, !lsm);
	int err = probe_bpf__load(s);
	probe_bpf__destroy(s);
	return err < 0 ? err : (err ? -EINVAL : 0);
}

static void probe_progs(struct bpf_probe_report *r)
{
	static const struct { enum bpf_feature f; const char *prog; int attach; } t[] = {
		{ BPF_FEAT_TP_BTF_EXEC, "guard_exec", 1 },
		{ BPF_FEAT_TP_BTF_FORK, "guard_fork", 1 },
		{ BPF_FEAT_TP_BTF_EXIT, NULL /* guard_exit or guard_exit_legacy */, 1 },
		{ BPF_FEAT_CONNECT4, "guard_connect4", 0 },
		{ BPF_FEAT_CONNECT6, "guard_connect6", 0 },
		{ BPF_FEAT_SENDMSG4, "guard_sendmsg4", 0 },
		{ BPF_FEAT_SENDMSG6, "guard_sendmsg6", 0 },
		{ BPF_FEAT_RECVMSG4, "guard_recvmsg4", 0 },
		{ BPF_FEAT_RECVMSG6, "guard_recvmsg6", 0 },
		{ BPF_FEAT_SOCK_CREATE, "guard_sock_create", 0 },
	};
	for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
		int legacy = 0, err = try_guard_prog(t[i].prog ? t[i].prog : "guard_exit", t[i].attach);
		if (err && !t[i].prog && !try_guard_prog("guard_exit_legacy", 1))
			err = 0, legacy = 1; /* a kernel before 6.16 */
		if (err)
			set_err(r, t[i].f, err, t[i].attach ? "load/attach refused" : "load refused");
		else if (legacy)
			set(r, t[i].f, 0, "%s", "loads and attaches (no group_dead argument before "
				  "Linux 6.16: a process exiting from several threads at once may be "
				  "reported twice)");
		else
			set(r, t[i].f, 0, "%s", t[i].attach ? "loads and attaches" :
				  "loads (attached per session cgroup)");
	}
	const struct bpf_feature_status *ex = &r->f[BPF_FEAT_TP_BTF_EXEC];
	set(r, BPF_FEAT_SEND_SIGNAL, ex->ok ? 0 : ex->err, "%s",
	    ex->ok ? "verified with raw_tp/sched_process_exec" :
		     "unknown: raw_tp/sched_process_exec does not load");
}

static void probe_maps(struct bpf_probe_report *r)
{
	int ok = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_RINGBUF, NULL);
	set(r, BPF_FEAT_RINGBUF, ok == 1 ? 0 : (ok < 0 ? ok : -EOPNOTSUPP), "%s",
	    ok == 1 ? "available" : "not available");
	ok = libbpf_probe_bpf_map_type(BPF_MAP_TYPE_LPM_TRIE, NULL);
	set(r, BPF_FEAT_LPM_TRIE, ok == 1 ? 0 : (ok < 0 ? ok : -EOPNOTSUPP), "%s",
	    ok == 1 ? "available" : "not available");
}

static void probe_optional(struct bpf_probe_report *r)
{
	int err = try_probe_prog(1);
	if (err)
		set_err(r, BPF_FEAT_LSM, err, "not available (exec is verified at sched_process_exec instead)");
	else
		set(r, BPF_FEAT_LSM, 0, "%s", "loads (not used yet)");
	err = try_probe_prog(0);
	if (err)
		set_err(r, BPF_FEAT_FENTRY, err, "not available");
	else
		set(r, BPF_FEAT_FENTRY, 0, "%s", "loads (not used yet)");
}

static void probe_cgroup2(struct bpf_probe_report *r)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024], mnt[128], fstype[64];
	r->cgroup2_mount[0] = 0;
	while (f && fgets(line, sizeof line, f)) {
		const char *sep = strstr(line, " - ");
		if (!sep || sscanf(line, "%*s %*s %*s %*s %127s", mnt) != 1 ||
		    sscanf(sep + 3, "%63s", fstype) != 1 || strcmp(fstype, "cgroup2"))
			continue;
		memcpy(r->cgroup2_mount, mnt, sizeof r->cgroup2_mount);
		break;
	}
	if (f)
		fclose(f);
	if (r->cgroup2_mount[0])
		set(r, BPF_FEAT_CGROUP_V2, 0, "mounted at %s", r->cgroup2_mount);
	else
		set(r, BPF_FEAT_CGROUP_V2, -ENOENT, "%s", "no cgroup2 mount: mount -t cgroup2 none /sys/fs/cgroup/unified");
}

int bpf_probe(struct bpf_probe_report *r)
{
	if (!r)
		return -EINVAL;
	memset(r, 0, sizeof *r);
	guard_quiet_libbpf();
	probe_progs(r);
	probe_maps(r);
	probe_optional(r);
	probe_cgroup2(r);
	r->guard_usable = 1;
	for (int f = 0; f < BPF_FEAT__COUNT; f++)
		if (f != BPF_FEAT_LSM && f != BPF_FEAT_FENTRY && !r->f[f].ok)
			r->guard_usable = 0;
	return 0;
}
