/* notify_decide.c — asking the policy, telling the human, recording the audit
 * event, and handing `approve` decisions to the approval broker. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "approve/approve.h"
#include "audit/audit.h"
#include "enforce/notify_sup_int.h"

static const struct notify_policy_ops *ops(struct nreq *r)
{
	return r->n->cfg.ops;
}

static void prep(struct ndecision *d, enum policy_kind kind, int op)
{
	memset(&d->res, 0, sizeof d->res);
	d->kind = kind;
	d->op = op;
}

/* A failing check never allows. */
static int failed(struct ndecision *d, int rc)
{
	d->res.decision = POLICY_DENY;
	d->res.rule = "policy-error";
	d->res.rule_index = -1;
	snprintf(d->res.message, sizeof d->res.message, "the policy check failed (%s)",
		 strerror(rc < 0 ? -rc : rc));
	return 0;
}

static void fix(struct ndecision *d)
{
	if (!d->res.rule)
		d->res.rule = "unnamed-rule";
	d->res.kind = d->kind;
}

int nd_file(struct nreq *r, enum policy_file_op op, const char *path, struct ndecision *d)
{
	int rc;

	prep(d, POLICY_KIND_FILE, op);
	rc = ops(r) && ops(r)->check_file ? ops(r)->check_file(r->n->cfg.policy, op, path, &d->res)
					  : policy_check_file(r->n->cfg.policy, op, path, &d->res);
	if (rc < 0)
		return failed(d, rc);
	fix(d);
	return 0;
}

int nd_exec(struct nreq *r, const char *path, int argc, const char *const *argv,
	    struct ndecision *d)
{
	int rc;

	prep(d, POLICY_KIND_COMMAND, -1);
	rc = ops(r) && ops(r)->check_exec
		     ? ops(r)->check_exec(r->n->cfg.policy, path, argc, argv, &d->res)
		     : policy_check_exec(r->n->cfg.policy, path, argc, argv, &d->res);
	if (rc < 0)
		return failed(d, rc);
	fix(d);
	return 0;
}

int nd_unix(struct nreq *r, enum policy_unix_op op, const char *name, bool abstract,
	    struct ndecision *d)
{
	int rc;

	prep(d, POLICY_KIND_UNIX, op);
	rc = ops(r) && ops(r)->check_unix
		     ? ops(r)->check_unix(r->n->cfg.policy, op, name, abstract, &d->res)
		     : policy_check_unix(r->n->cfg.policy, op, name, abstract, &d->res);
	if (rc < 0)
		return failed(d, rc);
	fix(d);
	return 0;
}

int nd_net(struct nreq *r, const struct sockaddr *sa, struct ndecision *d)
{
	int rc;

	prep(d, POLICY_KIND_NETWORK, -1);
	rc = ops(r) && ops(r)->check_net ? ops(r)->check_net(r->n->cfg.policy, sa, NULL, &d->res)
					 : policy_check_net(r->n->cfg.policy, sa, NULL, &d->res);
	if (rc < 0)
		return failed(d, rc);
	fix(d);
	return 0;
}

int nd_signal(struct nreq *r, int sig, const struct policy_signal_info *info,
	      struct ndecision *d)
{
	int rc;

	prep(d, POLICY_KIND_SIGNAL, -1);
	rc = ops(r) && ops(r)->check_signal
		     ? ops(r)->check_signal(r->n->cfg.policy, sig, info, &d->res)
		     : policy_check_signal_info(r->n->cfg.policy, sig, info, &d->res);
	if (rc < 0)
		return failed(d, rc);
	fix(d);
	return 0;
}

bool nd_env_allowed(struct nreq *r, const struct policy_result *cmd, const char *name)
{
	if (ops(r) && ops(r)->env_allowed)
		return ops(r)->env_allowed(r->n->cfg.policy, cmd, name);
	return policy_env_allowed(r->n->cfg.policy, cmd, name);
}

int nd_subtree(struct nreq *r, const char *dir, enum nd_subtree_way way, struct ndecision *d)
{
	const struct policy *p = r->n->cfg.policy;
	size_t n = policy_file_rule_count(p), dl = strlen(dir);

	prep(d, POLICY_KIND_FILE, POLICY_FILE_RENAME);
	d->res.decision = POLICY_ALLOW;
	d->res.rule = "subtree";
	for (size_t i = 0; i < n; i++) {
		struct policy_file_rule_info ri;
		if (policy_file_rule_get(p, i, &ri) < 0)
			return failed(d, -EIO);
		if (ri.decision == POLICY_ALLOW || ri.decision == POLICY_AUDIT)
			continue;
		for (size_t g = 0; g < ri.nglobs; g++) {
			char pre[PATH_MAX];
			bool lit;
			if (policy_glob_static_prefix(ri.globs[g], pre, sizeof pre, &lit) < 0)
				continue;
			/* protected paths live below dir: the glob's literal part
			 * is inside dir, or is dir itself followed by wildcards
			 * (dir alone was decided by the normal lookup) */
			if (!strncmp(pre, dir, dl) &&
			    ((pre[dl] == '/' && pre[dl + 1]) || (!pre[dl] && !lit))) {
				d->res.decision = POLICY_DENY;
				d->res.rule = ri.name ? ri.name : "unnamed-rule";
				if (way == ND_MOVED_AWAY)
					snprintf(d->res.message, sizeof d->res.message,
						 "moving %.200s would move %.200s, which rule %.64s protects",
						 dir, pre, d->res.rule);
				else
					snprintf(d->res.message, sizeof d->res.message,
						 "a directory or link at %.180s would decide what %.180s "
						 "holds, which rule %.64s protects", dir, pre, d->res.rule);
				return 0;
			}
		}
	}
	return 0;
}

static int rank(enum policy_decision d)
{
	switch (d) {
	case POLICY_DENY: return 6;
	case POLICY_APPROVE: return 5;
	case POLICY_REDIRECT: return 4;
	case POLICY_SOFT_DELETE: return 3;
	case POLICY_ABSORB: return 2;
	case POLICY_AUDIT: return 1;
	case POLICY_ALLOW: return 0;
	}
	return 6;
}

void nd_merge(struct ndecision *into, const struct ndecision *other)
{
	if (rank(other->res.decision) > rank(into->res.decision))
		*into = *other;
}

/* ---------------------------------------------------------------- reporting */

static enum audit_decision adec(enum policy_decision d)
{
	switch (d) {
	case POLICY_ALLOW: return AUDIT_DEC_ALLOW;
	case POLICY_DENY: return AUDIT_DEC_DENY;
	case POLICY_APPROVE: return AUDIT_DEC_APPROVE;
	case POLICY_REDIRECT: return AUDIT_DEC_REDIRECT;
	case POLICY_AUDIT: return AUDIT_DEC_AUDIT;
	case POLICY_SOFT_DELETE: return AUDIT_DEC_SOFT_DELETE;
	case POLICY_ABSORB: return AUDIT_DEC_ALLOW;
	}
	return AUDIT_DEC_DENY;
}

static enum audit_type atype(enum policy_kind k)
{
	switch (k) {
	case POLICY_KIND_FILE: return AUDIT_FILE;
	case POLICY_KIND_COMMAND: return AUDIT_EXEC;
	case POLICY_KIND_NETWORK: return AUDIT_NETWORK;
	case POLICY_KIND_UNIX: return AUDIT_UNIX_SOCKET;
	case POLICY_KIND_SIGNAL: return AUDIT_SIGNAL;
	}
	return AUDIT_FILE;
}

static bool worth_auditing(struct nreq *r, const struct ndecision *d, bool allowed)
{
	const struct policy_audit_settings *s = policy_audit(r->n->cfg.policy);

	/* Every refusal and every non-plain decision (audit, redirect, soft
	 * delete, approve, absorb) is recorded; plain allows when the policy's
	 * audit.log_allowed asks for them. */
	if (d->res.decision != POLICY_ALLOW || !allowed)
		return true;
	return !s || s->log_allowed;
}

static void emit(struct nreq *r, enum audit_type t, enum audit_decision dec,
		 enum audit_decision eff, const char *rule, const char *msg, int err,
		 const char *details)
{
	struct audit_event ev = AUDIT_EVENT_INIT(t);

	if (!r->n->cfg.audit)
		return;
	ev.operation = r->opname;
	ev.path = r->target[0] ? r->target : NULL;
	ev.path2 = r->target2[0] ? r->target2 : NULL;
	ev.pid = r->tgid ? r->tgid : r->pid;
	ev.uid = r->n->cfg.account.uid;
	ev.decision = dec;
	ev.effective = eff;
	ev.rule = rule;
	ev.message = msg && *msg ? msg : NULL;
	ev.err = err;
	ev.layer = AUDIT_LAYER_SECCOMP_NOTIFY;
	ev.quiet = r->quiet != NULL;
	ev.session_id = r->n->cfg.session_id;
	ev.details = details;
	/* A full queue means the writer is stuck: the event is lost and the
	 * store's chain shows the gap; the decision itself stands. */
	(void)audit_emit(r->n->cfg.audit, &ev);
}

static void notice(struct nreq *r, const char *verb, const struct ndecision *d, const char *note)
{
	char line[PATH_MAX * 2 + 1024];

	if (!r->n->cfg.notice)
		return;
	snprintf(line, sizeof line, "agentsh: %s %s%s%s%s%s (rule %s%s%s)%s%s", verb,
		 r->opname ? r->opname : "operation", r->target[0] ? " " : "", r->target,
		 r->target2[0] ? " -> " : "", r->target2, d->res.rule,
		 d->res.message[0] ? ": " : "", d->res.message, note ? "; " : "", note ? note : "");
	r->n->cfg.notice(r->n->cfg.hook_ctx, line);
}

static void hook(struct nreq *r, const struct ndecision *d, bool allowed, int err)
{
	struct notify_event ev = {
		.operation = r->opname, .target = r->target, .target2 = r->target2,
		.decision = d->res.decision, .allowed = allowed, .err = err,
		.rule = d->res.rule, .message = d->res.message, .pid = r->pid,
	};

	if (r->n->cfg.event)
		r->n->cfg.event(r->n->cfg.hook_ctx, &ev);
}

void nd_report(struct nreq *r, const struct ndecision *d, bool allowed, int err,
	       const char *note)
{
	enum audit_decision eff;
	const char *verb = NULL;

	if (allowed)
		atomic_fetch_add(&r->n->st_allow, 1);
	switch (d->res.decision) {
	case POLICY_REDIRECT: eff = allowed ? AUDIT_DEC_REDIRECT : AUDIT_DEC_DENY;
		verb = allowed ? "redirected" : "denied"; break;
	case POLICY_SOFT_DELETE: eff = allowed ? AUDIT_DEC_SOFT_DELETE : AUDIT_DEC_DENY;
		verb = allowed ? ENFORCE_NOTICE_TRASHED : "denied"; break;
	case POLICY_APPROVE: eff = allowed ? AUDIT_DEC_ALLOW : AUDIT_DEC_DENY;
		verb = allowed ? "approved" : "denied (approval)"; break;
	case POLICY_ABSORB: eff = AUDIT_DEC_ALLOW; verb = "absorbed"; break;
	default: eff = allowed ? AUDIT_DEC_ALLOW : AUDIT_DEC_DENY;
		verb = allowed ? NULL : "denied"; break;
	}
	if (worth_auditing(r, d, allowed)) {
		char details[256];
		char kr[48] = "";
		if (r->quiet)
			snprintf(kr, sizeof kr, ",\"%s\":true", r->quiet);
		snprintf(details, sizeof details, "{\"syscall\":%d%s%s%s%s}", r->nr, kr,
			 note ? ",\"note\":\"" : "", note ? note : "", note ? "\"" : "");
		if (note && strpbrk(note, "\"\\"))
			snprintf(details, sizeof details, "{\"syscall\":%d%s}", r->nr, kr);
		emit(r, atype(d->kind), adec(d->res.decision), eff, d->res.rule, d->res.message,
		     err, details);
	}
	if (verb && !r->quiet)
		notice(r, verb, d, note);
	hook(r, d, allowed, err);
}

void nd_report_plain(struct nreq *r, const char *rule, int err, const char *msg)
{
	struct ndecision d;

	prep(&d, POLICY_KIND_FILE, -1);
	d.res.decision = POLICY_DENY;
	d.res.rule = rule;
	snprintf(d.res.message, sizeof d.res.message, "%s", msg);
	if (!r->opname)
		r->opname = "syscall";
	nd_report(r, &d, false, err, NULL);
}

void nd_report_surface(struct nreq *r, const char *rule, int err, const char *msg)
{
	struct ndecision d;
	char details[64];

	prep(&d, POLICY_KIND_FILE, -1);
	d.res.decision = POLICY_DENY;
	d.res.rule = rule;
	snprintf(d.res.message, sizeof d.res.message, "%s", msg);
	snprintf(details, sizeof details, "{\"syscall\":%d}", r->nr);
	emit(r, AUDIT_SURFACE_DENIED, AUDIT_DEC_DENY, AUDIT_DEC_DENY, rule, d.res.message, err,
	     details);
	notice(r, "denied", &d, NULL);
	hook(r, &d, false, err);
}

/* ---------------------------------------------------------------- approvals */

struct pending {
	struct nreq *r;                 /* heap clone */
	struct ndecision d;
	int err;
	void (*resume)(struct nreq *r, void *arg);
	void *arg;
	void (*discard)(void *arg);
};

static enum approve_op aop(enum policy_kind k)
{
	switch (k) {
	case POLICY_KIND_COMMAND: return APPROVE_OP_EXEC;
	case POLICY_KIND_FILE: return APPROVE_OP_FILE;
	case POLICY_KIND_UNIX: return APPROVE_OP_UNIX;
	case POLICY_KIND_NETWORK: return APPROVE_OP_NET;
	case POLICY_KIND_SIGNAL: return APPROVE_OP_SIGNAL;
	}
	return APPROVE_OP_FILE;
}

static void approved_cb(void *ctx, const struct approve_answer *ans)
{
	struct pending *p = ctx;
	struct notify *n = p->r->n;

	if (approve_answer_allows(ans)) {
		nd_report(p->r, &p->d, true, 0, ans->reason);
		/* The operation itself runs in a worker with the target's creds. */
		if (notify_defer(p->r, p->resume, p->arg) < 0 && p->discard)
			p->discard(p->arg);
	} else {
		nd_report(p->r, &p->d, false, p->err,
			  ans->reason ? ans->reason : "the approval was refused");
		nr_error(p->r, p->err);
		if (p->discard)
			p->discard(p->arg);
	}
	nr_free_clone(p->r);
	free(p);
	notify_unref(n);
}

int nd_approve(struct nreq *r, struct ndecision *d, int err,
	       void (*resume)(struct nreq *r, void *arg), void *arg, void (*discard)(void *arg))
{
	struct pending *p;
	struct approve_request req = { .id = "" };
	char target[PATH_MAX * 2 + 8];

	nc_root();      /* the broker runs in our thread until it queues the request */
	if (!r->n->cfg.approvals) {
		nd_report(r, d, false, err,
			  "approvals are not configured for this session (enrol an approver with "
			  "'agentsh approver add'); the operation is refused");
		return nr_error(r, err);
	}
	p = calloc(1, sizeof *p);
	if (!p || !(p->r = nr_clone(r))) {
		free(p);
		nd_report(r, d, false, err, "out of memory while asking for approval");
		return nr_error(r, err);
	}
	p->d = *d;
	p->err = err;
	p->resume = resume;
	p->arg = arg;
	p->discard = discard;
	snprintf(target, sizeof target, "%s%s%s", r->target, r->target2[0] ? " -> " : "",
		 r->target2);
	req.session = r->n->cfg.session_id;
	req.op = aop(d->kind);
	req.target = target;
	req.pid = r->tgid ? r->tgid : r->pid;
	req.rule = d->res.rule;
	req.message = d->res.message;
	req.timeout_ms = d->res.timeout_ms;
	notify_ref(r->n);
	r->answered = true;     /* the callback answers */
	int rc = approve_submit(r->n->cfg.approvals, &req, approved_cb, p);
	if (rc < 0) {
		/* malformed: the callback will not run */
		r->answered = false;
		nd_report(r, d, false, err, "the approval request could not be submitted");
		nr_error(r, err);
		nr_free_clone(p->r);
		free(p);
		notify_unref(r->n);
		return rc;
	}
	return 0;
}
