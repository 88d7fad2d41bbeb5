/* Stable text names of the audit vocabularies: stored in the db, hashed into
 * the chain and printed in JSON, so they never change once released. */
#include "audit/audit_int.h"

#include <errno.h>
#include <string.h>

static const char *const type_names[AUDIT_TYPE_MAX] = {
	[AUDIT_SESSION_START] = "session_start",
	[AUDIT_SESSION_END] = "session_end",
	[AUDIT_POLICY_LOADED] = "policy_loaded",
	[AUDIT_COMMAND_START] = "command_start",
	[AUDIT_COMMAND_END] = "command_end",
	[AUDIT_EXEC] = "exec",
	[AUDIT_FILE] = "file",
	[AUDIT_UNIX_SOCKET] = "unix_socket",
	[AUDIT_NETWORK] = "network",
	[AUDIT_DNS] = "dns",
	[AUDIT_SIGNAL] = "signal",
	[AUDIT_APPROVAL_REQUESTED] = "approval_requested",
	[AUDIT_APPROVAL_RESOLVED] = "approval_resolved",
	[AUDIT_REDIRECT] = "redirect",
	[AUDIT_SOFT_DELETE] = "soft_delete",
	[AUDIT_LIMIT_HIT] = "limit_hit",
	[AUDIT_DEGRADED] = "degraded",
	[AUDIT_SURFACE_DENIED] = "surface_denied",
	[AUDIT_PTY] = "pty",
	[AUDIT_PRUNE] = "prune",
};

static const char *const decision_names[AUDIT_DEC_MAX] = {
	[AUDIT_DEC_NONE] = "",
	[AUDIT_DEC_ALLOW] = "allow",
	[AUDIT_DEC_DENY] = "deny",
	[AUDIT_DEC_APPROVE] = "approve",
	[AUDIT_DEC_REDIRECT] = "redirect",
	[AUDIT_DEC_AUDIT] = "audit",
	[AUDIT_DEC_SOFT_DELETE] = "soft_delete",
};

static const char *const layer_names[AUDIT_LAYER_MAX] = {
	[AUDIT_LAYER_NONE] = "",
	[AUDIT_LAYER_SECCOMP_KERNEL] = "seccomp-kernel",
	[AUDIT_LAYER_SECCOMP_NOTIFY] = "seccomp-notify",
	[AUDIT_LAYER_LANDLOCK] = "landlock",
	[AUDIT_LAYER_BPF] = "bpf",
	[AUDIT_LAYER_CGROUP] = "cgroup",
	[AUDIT_LAYER_SUPERVISOR] = "supervisor",
	[AUDIT_LAYER_SHELL] = "shell",
	[AUDIT_LAYER_APPROVE] = "approve",
};

const char *audit_type_name(enum audit_type t)
{
	if ((int)t <= 0 || t >= AUDIT_TYPE_MAX || !type_names[t])
		return "unknown";
	return type_names[t];
}

int audit_type_parse(const char *name, enum audit_type *out)
{
	for (int i = 1; i < AUDIT_TYPE_MAX; i++)
		if (type_names[i] && name && strcmp(name, type_names[i]) == 0) {
			*out = (enum audit_type)i;
			return 0;
		}
	return -EINVAL;
}

const char *audit_decision_name(enum audit_decision d)
{
	if ((int)d < 0 || d >= AUDIT_DEC_MAX)
		return "unknown";
	return decision_names[d];
}

int audit_decision_parse(const char *name, enum audit_decision *out)
{
	if (!name) {
		*out = AUDIT_DEC_NONE;
		return 0;
	}
	for (int i = 0; i < AUDIT_DEC_MAX; i++)
		if (strcmp(name, decision_names[i]) == 0) {
			*out = (enum audit_decision)i;
			return 0;
		}
	return -EINVAL;
}

const char *audit_layer_name(enum audit_layer l)
{
	if ((int)l < 0 || l >= AUDIT_LAYER_MAX)
		return "unknown";
	return layer_names[l];
}

int audit_layer_parse(const char *name, enum audit_layer *out)
{
	if (!name) {
		*out = AUDIT_LAYER_NONE;
		return 0;
	}
	for (int i = 0; i < AUDIT_LAYER_MAX; i++)
		if (strcmp(name, layer_names[i]) == 0) {
			*out = (enum audit_layer)i;
			return 0;
		}
	return -EINVAL;
}

int audit_events_mode_parse(const char *s, enum audit_events_mode *out)
{
	static const struct { const char *n; enum audit_events_mode m; } t[] = {
		{ "none", AUDIT_EVENTS_NONE }, { "blocked", AUDIT_EVENTS_BLOCKED },
		{ "summary", AUDIT_EVENTS_SUMMARY }, { "all", AUDIT_EVENTS_ALL },
	};
	for (size_t i = 0; s && i < sizeof t / sizeof t[0]; i++)
		if (strcmp(s, t[i].n) == 0) {
			*out = t[i].m;
			return 0;
		}
	return -EINVAL;
}

const char *audit_str_or_null(const char *s)
{
	return s ? s : "(null)";
}
