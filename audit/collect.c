/* Per-command collectors: the shell's --json mode reads from here what
 * happened during one command (counts, the first blocked operation, redirects,
 * soft deletes) without a round trip through the store. */
#include "audit/audit_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define KEEP_MAX 2000           /* events kept for --events all */
#define KEEP_BLOCKED_MAX 1000   /* blocked events kept beyond that */
#define SUMMARY_BLOCKED 25

enum bucket { B_FILE, B_NET, B_OTHER };

static enum bucket bucket_of(const struct audit_event *e)
{
	switch (e->type) {
	case AUDIT_FILE:
	case AUDIT_SOFT_DELETE:
		return B_FILE;
	case AUDIT_NETWORK:
	case AUDIT_DNS:
	case AUDIT_UNIX_SOCKET:
		return B_NET;
	default:
		return B_OTHER;
	}
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

static void note_blocked(struct audit_summary *s, const struct audit_event *e)
{
	s->blocked++;
	if (s->has_blocked)
		return;
	s->has_blocked = true;
	struct audit_blocked *b = &s->first_blocked;
	b->type = dup_or_null(audit_type_name(e->type));
	b->operation = dup_or_null(e->operation);
	b->target = dup_or_null(audit_event_target(e));
	b->rule = dup_or_null(e->rule);
	b->message = dup_or_null(e->message);
	json_t *d = e->details ? json_loads(e->details, 0, NULL) : NULL;
	b->note = dup_or_null(json_string_value(json_object_get(d, "note")));
	json_decref(d);
	b->decision = e->decision;
	b->effective = e->effective;
	b->layer = e->layer;
	s->approval_required = e->decision == AUDIT_DEC_APPROVE;
}

static void note_soft_delete(struct audit_summary *s, const struct audit_event *e)
{
	s->soft_deletes++;
	if (s->has_soft_delete)
		return;
	s->has_soft_delete = true;
	s->soft_delete_path = dup_or_null(e->path);
	/* the token comes as details.trash_token, or in the supervisor's note
	 * "restore with: agentsh trash restore TOKEN" */
	json_t *d = e->details ? json_loads(e->details, 0, NULL) : NULL;
	const char *tok = json_string_value(json_object_get(d, "trash_token"));
	const char *note = json_string_value(json_object_get(d, "note"));
	const char *mark = note ? strstr(note, "agentsh trash restore ") : NULL;
	if (tok)
		s->soft_delete_token = strdup(tok);
	else if (mark)
		s->soft_delete_token = strndup(mark + 22, strcspn(mark + 22, " ;\""));
	json_decref(d);
}

static void note_approval_denied(struct audit_summary *s, const struct audit_event *e)
{
	json_t *d = e->details ? json_loads(e->details, 0, NULL) : NULL;
	const char *outcome = json_string_value(json_object_get(d, "outcome"));
	if ((outcome && !strcmp(outcome, "timeout")) || (e->operation && !strcmp(e->operation, "timeout")))
		s->approvals_timed_out++;
	else
		s->approvals_denied++;
	json_decref(d);
}

static void tally(struct audit_collector *c, const struct audit_rec *r)
{
	const struct audit_event *e = &r->ev;
	struct audit_summary *s = &c->sum;
	if (e->type == AUDIT_COMMAND_START || e->type == AUDIT_COMMAND_END)
		return;
	switch (bucket_of(e)) {
	case B_FILE: s->file++; break;
	case B_NET: s->network++; break;
	default: s->other++; break;
	}
	bool blocked = audit_event_blocked(e);
	if (blocked)
		note_blocked(s, e);
	/* the supervisor reports these as file/exec events with that effective
	 * decision; dedicated event types are accepted too */
	bool redirect = e->type == AUDIT_REDIRECT || e->effective == AUDIT_DEC_REDIRECT;
	if (redirect && !s->has_redirect) {
		s->has_redirect = true;
		s->redirect_from = dup_or_null(e->path ? e->path : e->operation);
		s->redirect_to = dup_or_null(e->argv ? e->argv : e->path2);
		if (e->message)
			s->redirect_reason = strdup(e->message);
		else if (asprintf(&s->redirect_reason, "redirected by policy rule %s", e->rule ? e->rule : "?") < 0)
			s->redirect_reason = NULL;
	}
	s->redirects += redirect;
	if (e->type == AUDIT_SOFT_DELETE || e->effective == AUDIT_DEC_SOFT_DELETE)
		note_soft_delete(s, e);
	if (e->type == AUDIT_LIMIT_HIT)
		s->limits_hit++;
	if (e->type == AUDIT_APPROVAL_RESOLVED && e->effective == AUDIT_DEC_DENY)
		note_approval_denied(s, e);
	if (c->kept >= KEEP_MAX && (!blocked || c->kept_blocked >= KEEP_BLOCKED_MAX))
		return;
	struct audit_rec *k = audit_rec_clone(r);
	if (!k)
		return;
	*c->kept_tail = k;
	c->kept_tail = &k->next;
	c->kept++;
	c->kept_blocked += blocked;
}

void audit_collect_event(struct audit *a, const struct audit_rec *r)
{
	for (struct audit_collector *c = a->collectors; c; c = c->next)
		if (c->active && c->command_id == r->ev.command_id)
			tally(c, r);
}

int audit_collect_begin(struct audit *a, int64_t command_id, struct audit_collector **out)
{
	struct audit_collector *c = calloc(1, sizeof *c);
	if (!c)
		return -ENOMEM;
	c->kept_tail = &c->kept_head;
	c->active = true;
	pthread_mutex_lock(&a->mu);
	c->command_id = command_id ? command_id : a->current_command;
	c->next = a->collectors;
	a->collectors = c;
	pthread_mutex_unlock(&a->mu);
	*out = c;
	return 0;
}

void audit_collect_end(struct audit *a, struct audit_collector *c)
{
	if (!a || !c)
		return;         /* never begun (the store failed first) */
	pthread_mutex_lock(&a->mu);
	for (struct audit_collector **pp = &a->collectors; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	c->active = false;
	c->next = NULL;
	pthread_mutex_unlock(&a->mu);
}

const struct audit_summary *audit_collect_summary(const struct audit_collector *c)
{
	return &c->sum;
}

static json_t *strip(const struct audit_rec *r)
{
	json_t *o = audit_event_json(&r->ev, r->seq);
	/* the enclosing result already names the session and command */
	json_object_del(o, "session_id");
	json_object_del(o, "command_id");
	json_object_del(o, "seq");
	json_object_del(o, "command");
	return o;
}

json_t *audit_collect_events_json(const struct audit_collector *c, enum audit_events_mode mode)
{
	const struct audit_summary *s = &c->sum;
	json_t *o = json_object(), *file = json_array(), *net = json_array(), *blk = json_array(),
	       *oth = json_array();
	size_t nblk = 0, shown = 0;
	size_t blk_cap = mode == AUDIT_EVENTS_SUMMARY ? SUMMARY_BLOCKED : mode == AUDIT_EVENTS_NONE ? 0 : SIZE_MAX;
	for (const struct audit_rec *r = c->kept_head; r; r = r->next) {
		if (audit_event_blocked(&r->ev) && nblk < blk_cap) {
			json_array_append_new(blk, strip(r));
			nblk++;
		}
		if (mode != AUDIT_EVENTS_ALL)
			continue;
		enum bucket b = bucket_of(&r->ev);
		json_array_append_new(b == B_FILE ? file : b == B_NET ? net : oth, strip(r));
		shown++;
	}
	size_t total = s->file + s->network + s->other;
	bool truncated = nblk < s->blocked || (mode == AUDIT_EVENTS_ALL && shown < total);
	json_object_set_new(o, "file_operations", file);
	json_object_set_new(o, "network_operations", net);
	json_object_set_new(o, "blocked_operations", blk);
	json_object_set_new(o, "other", oth);
	json_object_set_new(o, "file_operations_count", json_integer((json_int_t)s->file));
	json_object_set_new(o, "network_operations_count", json_integer((json_int_t)s->network));
	json_object_set_new(o, "blocked_operations_count", json_integer((json_int_t)s->blocked));
	json_object_set_new(o, "other_count", json_integer((json_int_t)s->other));
	json_object_set_new(o, "truncated", json_boolean(truncated));
	return o;
}

static void free_summary(struct audit_summary *s)
{
	struct audit_blocked *b = &s->first_blocked;
	free(b->type);
	free(b->operation);
	free(b->target);
	free(b->rule);
	free(b->message);
	free(b->note);
	free(s->redirect_from);
	free(s->redirect_to);
	free(s->redirect_reason);
	free(s->soft_delete_path);
	free(s->soft_delete_token);
}

void audit_collector_free(struct audit_collector *c)
{
	if (!c)
		return;
	for (struct audit_rec *r = c->kept_head, *n; r; r = n) {
		n = r->next;
		audit_rec_free(r);
	}
	free_summary(&c->sum);
	free(c);
}
