/* Event records: one allocation per queued event, the canonical byte form the
 * HMAC chain covers, and the JSON form used by export/query/--json. */
#include "audit/audit_int.h"

#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define SF(f) offsetof(struct audit_event, f)
/* Every string field, in canonical order.  Appending is a format change:
 * bump the "agentsh-audit-v" tag in audit_canon() when this list changes. */
static const size_t str_fields[] = {
	SF(operation), SF(path), SF(path2), SF(argv), SF(address), SF(dns_name), SF(rule),
	SF(message), SF(session_id), SF(command), SF(approval_id), SF(approver), SF(details),
};
static const size_t int_fields[] = {
	SF(port), SF(signal), SF(target_pid), SF(pid), SF(ppid), SF(uid), SF(err), SF(command_id),
	SF(ts_ns), SF(exit_status), SF(duration_us), SF(cpu_user_us), SF(cpu_sys_us), SF(peak_rss_kb),
};
#define NSTR (sizeof str_fields / sizeof str_fields[0])
#define NINT (sizeof int_fields / sizeof int_fields[0])

static const char **strp(struct audit_event *ev, size_t i)
{
	return (const char **)((char *)ev + str_fields[i]);
}

static const char *strv(const struct audit_event *ev, size_t i)
{
	return *(const char *const *)((const char *)ev + str_fields[i]);
}

static int64_t intv(const struct audit_event *ev, size_t i)
{
	return *(const int64_t *)((const char *)ev + int_fields[i]);
}

struct audit_rec *audit_rec_new(const struct audit_event *ev)
{
	size_t len[NSTR], total = 0;
	for (size_t i = 0; i < NSTR; i++) {
		const char *s = strv(ev, i);
		len[i] = s ? strlen(s) + 1 : 0;
		total += len[i];
	}
	struct audit_rec *r = malloc(sizeof *r + total);
	if (!r)
		return NULL;
	r->next = NULL;
	r->seq = 0;
	r->line = NULL;
	r->ev = *ev;
	char *p = r->buf;
	for (size_t i = 0; i < NSTR; i++) {
		if (!len[i])
			continue;
		memcpy(p, strv(ev, i), len[i]);
		*strp(&r->ev, i) = p;
		p += len[i];
	}
	return r;
}

struct audit_line *audit_line_new(const char *s)
{
	size_t n = strlen(s ? s : "") + 1;
	struct audit_line *l = malloc(sizeof *l + n);
	if (l) {
		l->refs = 1;
		memcpy(l->s, s ? s : "", n);
	}
	return l;
}

void audit_line_put(struct audit_line *l)
{
	if (l && __atomic_sub_fetch(&l->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(l);
}

void audit_rec_free(struct audit_rec *r)
{
	if (r) {
		audit_line_put(r->line);
		free(r);
	}
}

struct audit_rec *audit_rec_clone(const struct audit_rec *r)
{
	struct audit_rec *c = audit_rec_new(&r->ev);
	if (c)
		c->seq = r->seq;
	return c;
}

static int put(unsigned char **buf, size_t *cap, size_t *len, const void *p, size_t n)
{
	if (*len + n > *cap) {
		size_t nc = *cap ? *cap : 512;
		while (nc < *len + n)
			nc *= 2;
		unsigned char *nb = realloc(*buf, nc);
		if (!nb)
			return -ENOMEM;
		*buf = nb;
		*cap = nc;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	return 0;
}

static int put_u64(unsigned char **buf, size_t *cap, size_t *len, uint64_t v)
{
	uint64_t be = htobe64(v);
	return put(buf, cap, len, &be, sizeof be);
}

/* Length-prefixed fields in a fixed order: no two different events share a
 * serialisation (NULL and "" differ by the length marker). */
static int put_str(unsigned char **buf, size_t *cap, size_t *len, const char *s)
{
	if (!s)
		return put_u64(buf, cap, len, UINT64_MAX);
	size_t n = strlen(s);
	int rc = put_u64(buf, cap, len, n);
	return rc ? rc : put(buf, cap, len, s, n);
}

ssize_t audit_canon(const struct audit_event *ev, int64_t seq, unsigned char **buf, size_t *cap)
{
	size_t len = 0;
	int rc = put_str(buf, cap, &len, "agentsh-audit-v1");
	rc = rc ? rc : put_u64(buf, cap, &len, (uint64_t)seq);
	rc = rc ? rc : put_str(buf, cap, &len, audit_type_name(ev->type));
	rc = rc ? rc : put_str(buf, cap, &len, audit_decision_name(ev->decision));
	rc = rc ? rc : put_str(buf, cap, &len, audit_decision_name(ev->effective));
	rc = rc ? rc : put_str(buf, cap, &len, audit_layer_name(ev->layer));
	for (size_t i = 0; !rc && i < NSTR; i++)
		rc = put_str(buf, cap, &len, strv(ev, i));
	for (size_t i = 0; !rc && i < NINT; i++)
		rc = put_u64(buf, cap, &len, (uint64_t)intv(ev, i));
	return rc ? rc : (ssize_t)len;
}

bool audit_event_blocked(const struct audit_event *ev)
{
	if (ev->type == AUDIT_SURFACE_DENIED)
		return true;
	/* an approval answer is not itself an operation: the operation it
	 * decided is reported by its own event */
	if (ev->type == AUDIT_COMMAND_START || ev->type == AUDIT_COMMAND_END ||
	    ev->type == AUDIT_APPROVAL_REQUESTED || ev->type == AUDIT_APPROVAL_RESOLVED)
		return false;
	return ev->effective == AUDIT_DEC_DENY && !ev->quiet;
}

static void set_str(json_t *o, const char *k, const char *v)
{
	if (v)
		json_object_set_new(o, k, json_string(v));
}

static void set_int(json_t *o, const char *k, int64_t v)
{
	if (v >= 0)
		json_object_set_new(o, k, json_integer(v));
}

json_t *audit_event_json(const struct audit_event *ev, int64_t seq)
{
	json_t *o = json_object();
	if (!o)
		return NULL;
	if (seq > 0)
		json_object_set_new(o, "seq", json_integer(seq));
	json_object_set_new(o, "ts_ns", json_integer(ev->ts_ns));
	set_str(o, "type", audit_type_name(ev->type));
	set_str(o, "session_id", ev->session_id);
	if (ev->command_id > 0)
		json_object_set_new(o, "command_id", json_integer(ev->command_id));
	set_str(o, "operation", ev->operation);
	set_str(o, "path", ev->path);
	set_str(o, "path2", ev->path2);
	set_str(o, "argv", ev->argv);
	set_str(o, "address", ev->address);
	set_int(o, "port", ev->port);
	set_str(o, "dns_name", ev->dns_name);
	set_int(o, "signal", ev->signal);
	set_int(o, "target_pid", ev->target_pid);
	set_int(o, "pid", ev->pid);
	set_int(o, "ppid", ev->ppid);
	set_int(o, "uid", ev->uid);
	if (ev->decision != AUDIT_DEC_NONE)
		set_str(o, "decision", audit_decision_name(ev->decision));
	if (ev->effective != AUDIT_DEC_NONE)
		set_str(o, "effective_decision", audit_decision_name(ev->effective));
	set_str(o, "rule", ev->rule);
	set_str(o, "message", ev->message);
	set_int(o, "errno", ev->err);
	if (ev->layer != AUDIT_LAYER_NONE)
		set_str(o, "layer", audit_layer_name(ev->layer));
	set_str(o, "command", ev->command);
	set_int(o, "exit_status", ev->exit_status);
	set_int(o, "duration_us", ev->duration_us);
	set_int(o, "cpu_user_us", ev->cpu_user_us);
	set_int(o, "cpu_sys_us", ev->cpu_sys_us);
	set_int(o, "peak_rss_kb", ev->peak_rss_kb);
	set_str(o, "approval_id", ev->approval_id);
	set_str(o, "approver", ev->approver);
	if (ev->details) {
		json_t *d = json_loads(ev->details, JSON_REJECT_DUPLICATES, NULL);
		json_object_set_new(o, "details", d ? d : json_string(ev->details));
	}
	return o;
}

const char *audit_event_target(const struct audit_event *e)
{
	if (e->path)
		return e->path;
	if (e->dns_name)
		return e->dns_name;
	if (e->address)
		return e->address;
	if (e->argv)
		return e->argv;
	return e->command;
}
