/* `policy show`: the compiled policy, rules in evaluation order, variables
 * expanded — what agentsh will actually enforce. */
#include <arpa/inet.h>
#include <jansson.h>
#include <string.h>
#include "policy/policy_int.h"


static json_t *strv_json(const struct strv *v)
{
	json_t *a = json_array();
	for (size_t i = 0; i < v->n; i++)
		json_array_append_new(a, json_string(v->v[i]));
	return a;
}

static void ops_text(uint32_t ops, char *buf, size_t len, json_t *arr)
{
	size_t n = 0;
	buf[0] = 0;
	if (ops == (1u << POLICY_FILE_NOPS) - 1) {
		snprintf(buf, len, "*");
		if (arr)
			json_array_append_new(arr, json_string("*"));
		return;
	}
	for (int i = 0; i < POLICY_FILE_NOPS && n < len; i++)
		if (ops & (1u << i)) {
			n += (size_t)snprintf(buf + n, len - n, "%s%s", n ? "," : "",
					      policy_file_op_name((enum policy_file_op)i));
			if (arr)
				json_array_append_new(arr, json_string(policy_file_op_name((enum policy_file_op)i)));
		}
}

static json_t *rule_json(const struct rule_common *c)
{
	return json_pack("{s:s,s:s,s:i,s:s*,s:i}", "name", c->name, "decision",
			 policy_decision_name(c->decision), "line", (int)c->line, "message", c->message,
			 "timeout_ms", (int)c->timeout_ms);
}

static void show_json(const struct policy *p, FILE *out)
{
	json_t *j = json_pack("{s:s,s:s,s:s,s:s}", "name", policy_name(p), "description",
			      policy_description(p), "source", policy_source(p), "sha256", policy_sha256(p));
	json_t *a = json_array();
	char buf[512];
	for (size_t i = 0; i < p->nfiles; i++) {
		json_t *r = rule_json(&p->files[i].c), *ops = json_array();
		ops_text(p->files[i].ops, buf, sizeof(buf), ops);
		json_object_set_new(r, "paths", strv_json(&p->files[i].paths));
		json_object_set_new(r, "operations", ops);
		json_array_append_new(a, r);
	}
	json_object_set_new(j, "file_rules", a);
	a = json_array();
	for (size_t i = 0; i < p->ncmds; i++) {
		json_t *r = rule_json(&p->cmds[i].c);
		json_object_set_new(r, "commands", strv_json(&p->cmds[i].commands));
		json_object_set_new(r, "args_patterns", strv_json(&p->cmds[i].args_src));
		json_array_append_new(a, r);
	}
	json_object_set_new(j, "command_rules", a);
	a = json_array();
	for (size_t i = 0; i < p->nnets; i++) {
		json_t *r = rule_json(&p->nets[i].c), *c = json_array(), *pt = json_array();
		for (size_t k = 0; k < p->nets[i].ncidrs; k++) {
			char ip[INET6_ADDRSTRLEN];
			inet_ntop(p->nets[i].cidrs[k].family, p->nets[i].cidrs[k].addr, ip, sizeof(ip));
			snprintf(buf, sizeof(buf), "%s/%u", ip, p->nets[i].cidrs[k].prefix);
			json_array_append_new(c, json_string(buf));
		}
		for (size_t k = 0; k < p->nets[i].nports; k++)
			json_array_append_new(pt, json_pack("[i,i]", p->nets[i].ports[k].lo, p->nets[i].ports[k].hi));
		json_object_set_new(r, "domains", strv_json(&p->nets[i].domains));
		json_object_set_new(r, "cidrs", c);
		json_object_set_new(r, "ports", pt);
		json_array_append_new(a, r);
	}
	json_object_set_new(j, "network_rules", a);
	a = json_array();
	for (size_t i = 0; i < p->nunixes; i++) {
		json_t *r = rule_json(&p->unixes[i].c);
		json_object_set_new(r, "paths", strv_json(&p->unixes[i].paths));
		if (p->unixes[i].own_account_servers)
			json_object_set_new(r, "own_account_servers", json_string("allow"));
		json_array_append_new(a, r);
	}
	json_object_set_new(j, "unix_socket_rules", a);
	a = json_array();
	for (size_t i = 0; i < p->nsigs; i++) {
		json_t *r = rule_json(&p->sigs[i].c);
		json_object_set_new(r, "signals", strv_json(&p->sigs[i].signals));
		json_array_append_new(a, r);
	}
	json_object_set_new(j, "signal_rules", a);
	const struct policy_defaults *d = &p->defaults;
	json_object_set_new(j, "defaults", json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}",
		"commands", policy_decision_name(d->commands), "network", policy_decision_name(d->network),
		"unix_sockets", policy_decision_name(d->unix_sockets), "file_read",
		policy_decision_name(d->file_read), "file_write", policy_decision_name(d->file_write),
		"signals", policy_filters_signals(p) ? policy_decision_name(d->signals) : "allow (no signal rules)"));
	const struct policy_limits *l = &p->limits;
	json_object_set_new(j, "resource_limits", json_pack("{s:I,s:i,s:i,s:i,s:i,s:i}",
		"max_memory_mb", (json_int_t)l->max_memory_mb, "cpu_quota_percent", (int)l->cpu_quota_percent,
		"pids_max", (int)l->pids_max, "command_timeout_s", (int)l->command_timeout_s,
		"session_timeout_s", (int)l->session_timeout_s, "idle_timeout_s", (int)l->idle_timeout_s));
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_ENSURE_ASCII);
	if (s)
		fprintf(out, "%s\n", s);
	free(s);
	json_decref(j);
}

static void list(FILE *out, const char *label, const struct strv *v)
{
	if (!v->n)
		return;
	fprintf(out, "      %s:", label);
	for (size_t i = 0; i < v->n; i++)
		fprintf(out, " %s", v->v[i]);
	fputc('\n', out);
}

static void head(FILE *out, size_t i, const struct rule_common *c)
{
	fprintf(out, "  %3zu. %-11s %s (line %u)%s%s%s\n", i + 1, policy_decision_name(c->decision), c->name,
		c->line, c->message ? " — \"" : "", c->message ? c->message : "", c->message ? "\"" : "");
}

int policy_show(const struct policy *p, FILE *out, bool json)
{
	if (json) {
		show_json(p, out);
		return 0;
	}
	char buf[512];
	fprintf(out, "policy %s (%s, sha256 %.16s…)\n", policy_name(p), policy_source(p), policy_sha256(p));
	fprintf(out, "file_rules (first match wins; default: reads %s, other operations %s)\n",
		policy_decision_name(p->defaults.file_read), policy_decision_name(p->defaults.file_write));
	for (size_t i = 0; i < p->nfiles; i++) {
		head(out, i, &p->files[i].c);
		list(out, "paths", &p->files[i].paths);
		ops_text(p->files[i].ops, buf, sizeof(buf), NULL);
		fprintf(out, "      operations: %s\n", buf);
	}
	fprintf(out, "command_rules (default: %s)\n", policy_decision_name(p->defaults.commands));
	for (size_t i = 0; i < p->ncmds; i++) {
		head(out, i, &p->cmds[i].c);
		list(out, "commands", &p->cmds[i].commands);
		list(out, "args_patterns", &p->cmds[i].args_src);
		if (p->cmds[i].redir_cmd)
			fprintf(out, "      redirect_to: %s\n", p->cmds[i].redir_cmd);
	}
	fprintf(out, "network_rules (default: %s)\n", policy_decision_name(p->defaults.network));
	for (size_t i = 0; i < p->nnets; i++) {
		const struct net_rule *r = &p->nets[i];
		head(out, i, &r->c);
		list(out, "domains", &r->domains);
		if (r->ncidrs) {
			fprintf(out, "      cidrs:");
			for (size_t k = 0; k < r->ncidrs; k++) {
				char ip[INET6_ADDRSTRLEN];
				inet_ntop(r->cidrs[k].family, r->cidrs[k].addr, ip, sizeof(ip));
				fprintf(out, " %s/%u", ip, r->cidrs[k].prefix);
			}
			fputc('\n', out);
		}
		if (r->nports) {
			fprintf(out, "      ports:");
			for (size_t k = 0; k < r->nports; k++)
				if (r->ports[k].lo == r->ports[k].hi)
					fprintf(out, " %u", r->ports[k].lo);
				else
					fprintf(out, " %u-%u", r->ports[k].lo, r->ports[k].hi);
			fputc('\n', out);
		}
	}
	fprintf(out, "unix_socket_rules (default: %s)\n", policy_decision_name(p->defaults.unix_sockets));
	for (size_t i = 0; i < p->nunixes; i++) {
		head(out, i, &p->unixes[i].c);
		list(out, "paths", &p->unixes[i].paths);
		if (p->unixes[i].own_account_servers)
			fprintf(out, "      own_account_servers: allow (servers of the account outside "
				"agentsh too)\n");
	}
	fprintf(out, "signal_rules (default: %s)\n", policy_filters_signals(p) ?
		policy_decision_name(p->defaults.signals) : "allow — the policy has no signal rules");
	for (size_t i = 0; i < p->nsigs; i++) {
		head(out, i, &p->sigs[i].c);
		list(out, "signals", &p->sigs[i].signals);
	}
	const struct policy_limits *l = &p->limits;
	fprintf(out, "resource_limits: memory %llu MB, pids %u, cpu %u%%, command %us, session %us, idle %us\n",
		(unsigned long long)l->max_memory_mb, l->pids_max, l->cpu_quota_percent,
		l->command_timeout_s, l->session_timeout_s, l->idle_timeout_s);
	return 0;
}
