/* Test helper: write synthetic events into an audit store through the real
 * writer.  audit_emit DB SESSION COUNT [--deny-every K] [--flush-every K]
 * [--sleep-us U] [--command LINE] [--sync full|normal]
 *      audit_emit DB SESSION --jsonl FILE   (one event per line, fields as in
 * `agentsh events query --json`; {"type":"command_start","command":...} and
 * {"type":"command_end","exit_status":N} bracket commands)
 * With --flush-every, prints "durable N" after each flush returns, so a test
 * that SIGKILLs this process knows what the store must hold. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"

static const char *js(json_t *o, const char *k)
{
	return json_string_value(json_object_get(o, k));
}

static int64_t ji(json_t *o, const char *k)
{
	json_t *v = json_object_get(o, k);
	return v ? json_integer_value(v) : -1;
}

static int from_jsonl(struct audit *a, const char *file)
{
	FILE *f = fopen(file, "r");
	char line[8192];
	int64_t cmd = 0;
	if (!f)
		return 1;
	while (fgets(line, sizeof line, f)) {
		json_error_t e;
		json_t *o = json_loads(line, 0, &e);
		if (!o) {
			fprintf(stderr, "audit_emit: %s: %s\n", file, e.text);
			return 1;
		}
		struct audit_event ev = AUDIT_EVENT_INIT(0);
		if (audit_type_parse(js(o, "type"), &ev.type))
			return 1;
		if (ev.type == AUDIT_COMMAND_START) {
			audit_command_begin(a, js(o, "command"), &cmd);
			json_decref(o);
			continue;
		}
		if (ev.type == AUDIT_COMMAND_END) {
			struct audit_command_result r = { .exit_status = ji(o, "exit_status"), .duration_us = 1000,
							  .cpu_user_us = 0, .cpu_sys_us = 0, .peak_rss_kb = 0 };
			audit_command_end(a, cmd, &r);
			json_decref(o);
			continue;
		}
		ev.operation = js(o, "operation");
		ev.path = js(o, "path");
		ev.path2 = js(o, "path2");
		ev.argv = js(o, "argv");
		ev.address = js(o, "address");
		ev.port = ji(o, "port");
		ev.dns_name = js(o, "dns_name");
		ev.rule = js(o, "rule");
		ev.message = js(o, "message");
		ev.pid = getpid();
		ev.uid = getuid();
		char *details = json_object_get(o, "details") ? json_dumps(json_object_get(o, "details"), 0) : NULL;
		ev.details = details;
		audit_decision_parse(js(o, "decision"), &ev.decision);
		ev.effective = ev.decision;
		if (js(o, "effective_decision"))
			audit_decision_parse(js(o, "effective_decision"), &ev.effective);
		int rc = audit_emit(a, &ev);
		free(details);
		json_decref(o);
		if (rc)
			return 1;
	}
	fclose(f);
	return audit_flush(a) ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: audit_emit DB SESSION COUNT [--deny-every K] [--flush-every K] [--sleep-us U] [--command LINE]\n");
		return 2;
	}
	if (!strcmp(argv[3], "--jsonl") && argc == 5) {
		struct audit *a;
		struct audit_opts o = { .session_id = argv[2] };
		if (audit_open(argv[1], &o, &a)) {
			fprintf(stderr, "audit_emit: %s\n", audit_strerror(a));
			return 1;
		}
		struct audit_event s = AUDIT_EVENT_INIT(AUDIT_SESSION_START);
		s.uid = getuid();
		audit_emit(a, &s);
		int rc = from_jsonl(a, argv[4]);
		struct audit_event e = AUDIT_EVENT_INIT(AUDIT_SESSION_END);
		audit_emit(a, &e);
		audit_close(a);
		return rc;
	}
	long n = atol(argv[3]), deny = 0, flush = 0, sleep_us = 0;
	const char *line = "synthetic workload";
	bool sync_full = false;
	for (int i = 4; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--deny-every"))
			deny = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--flush-every"))
			flush = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--sleep-us"))
			sleep_us = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--command"))
			line = argv[i + 1];
		else if (!strcmp(argv[i], "--sync"))
			sync_full = !strcmp(argv[i + 1], "full");
	}
	struct audit *a;
	struct audit_opts o = { .session_id = argv[2], .sync_full = sync_full };
	if (audit_open(argv[1], &o, &a)) {
		fprintf(stderr, "audit_emit: %s\n", audit_strerror(a));
		return 1;
	}
	struct audit_event s = AUDIT_EVENT_INIT(AUDIT_SESSION_START);
	s.pid = getpid();
	s.uid = getuid();
	audit_emit(a, &s);
	int64_t cmd;
	audit_command_begin(a, line, &cmd);
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (long i = 1; i <= n; i++) {
		char path[128];
		snprintf(path, sizeof path, "/tmp/work/%s/f%ld", argv[2], i % 50);
		struct audit_event ev = AUDIT_EVENT_INIT(AUDIT_FILE);
		bool d = deny && i % deny == 0;
		ev.operation = i % 3 ? "write" : "create";
		ev.path = d ? "/etc/shadow" : path;
		ev.pid = getpid();
		ev.uid = getuid();
		ev.decision = ev.effective = d ? AUDIT_DEC_DENY : AUDIT_DEC_ALLOW;
		ev.rule = d ? "deny-system" : "allow-work";
		ev.err = d ? 13 : 0;
		ev.layer = AUDIT_LAYER_SECCOMP_NOTIFY;
		if (audit_emit(a, &ev)) {
			fprintf(stderr, "audit_emit: emit failed: %s\n", audit_strerror(a));
			return 1;
		}
		if (flush && i % flush == 0) {
			if (audit_flush(a)) {
				fprintf(stderr, "audit_emit: flush failed: %s\n", audit_strerror(a));
				return 1;
			}
			printf("durable %ld\n", i);
		}
		if (sleep_us)
			usleep((useconds_t)sleep_us);
	}
	struct audit_command_result r = { .exit_status = 0, .duration_us = 1, .cpu_user_us = 0, .cpu_sys_us = 0,
					  .peak_rss_kb = 0 };
	if (audit_command_end(a, cmd, &r)) {
		fprintf(stderr, "audit_emit: %s\n", audit_strerror(a));
		return 1;
	}
	struct audit_event e = AUDIT_EVENT_INIT(AUDIT_SESSION_END);
	audit_emit(a, &e);
	audit_close(a);
	return 0;
}
