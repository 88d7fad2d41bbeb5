/* Approval audit events: request, answer (with approver, method, wait) and every
 * refused proof.  audit_emit never blocks on disk, so the notify thread may call it. */
#include "approve/approve_int.h"
#include "audit/audit.h"

#include <jansson.h>
#include <stdlib.h>

static enum audit_type op_type(enum approve_op op)
{
	switch (op) {
	case APPROVE_OP_EXEC: return AUDIT_EXEC;
	case APPROVE_OP_FILE: return AUDIT_FILE;
	case APPROVE_OP_UNIX: return AUDIT_UNIX_SOCKET;
	case APPROVE_OP_NET: return AUDIT_NETWORK;
	case APPROVE_OP_SIGNAL: return AUDIT_SIGNAL;
	}
	return AUDIT_EXEC;
}

static void emit_with_details(struct audit *a, struct audit_event *ev, json_t *details)
{
	char *d = json_dumps(details, JSON_COMPACT);

	ev->details = d;
	ev->layer = AUDIT_LAYER_APPROVE;
	ev->decision = AUDIT_DEC_APPROVE;
	(void)audit_emit(a, ev);
	free(d);
	json_decref(details);
}

void ap_audit_request(struct audit *a, const struct approve_request *r)
{
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_APPROVAL_REQUESTED);

	if (!a)
		return;
	ev.operation = approve_op_name(r->op);
	ev.path = r->target;
	ev.pid = r->pid;
	ev.rule = r->rule;
	ev.message = r->message;
	ev.session_id = r->session;
	ev.command = r->cmdline;
	ev.approval_id = r->id;
	emit_with_details(a, &ev, json_pack("{s:s, s:I, s:i}", "kind", audit_type_name(op_type(r->op)),
					    "timeout_ms", (json_int_t)r->timeout_ms, "pid", (int)r->pid));
}

void ap_audit_answer(struct audit *a, const char *session, const struct approve_answer *ans,
		     const char *target, const char *rule, enum approve_op op)
{
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_APPROVAL_RESOLVED);

	if (!a)
		return;
	ev.operation = approve_op_name(op);
	ev.path = target;
	ev.rule = rule;
	ev.session_id = session;
	ev.approval_id = ans->id;
	ev.approver = ans->approver && *ans->approver ? ans->approver : NULL;
	ev.uid = ans->approver_uid == (uid_t)-1 ? -1 : (int64_t)ans->approver_uid;
	ev.message = ans->reason;
	ev.effective = approve_answer_allows(ans) ? AUDIT_DEC_ALLOW : AUDIT_DEC_DENY;
	emit_with_details(a, &ev, json_pack("{s:s, s:s, s:s, s:I, s:s?}",
		"outcome", approve_verdict_name(ans->verdict), "method", approve_method_name(ans->method),
		"via", ans->via ? ans->via : "", "wait_ms", (json_int_t)ans->wait_ms,
		"error_code", ans->error_code));
}

void ap_audit_failed(struct audit *a, const char *session, const char *id, const char *via,
		     uid_t uid, enum approve_method m, const char *why)
{
	struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_APPROVAL_RESOLVED);

	if (!a)
		return;
	ev.operation = "approval_refused";
	ev.session_id = session;
	/* approval_id stays NULL: the approvals index tracks answers, not
	 * refused attempts; the id is in details. */
	ev.uid = uid == (uid_t)-1 ? -1 : (int64_t)uid;
	ev.message = why;
	ev.effective = AUDIT_DEC_NONE;
	emit_with_details(a, &ev, json_pack("{s:s, s:s, s:s, s:s}", "outcome", "proof_refused",
					    "approval_id", id ? id : "", "method", approve_method_name(m),
					    "via", via ? via : ""));
}
