/* Test helper: write synthetic events into an audit store through the real
 * writer.  audit_emit DB SESSION COUNT [--deny-every K] [--flush-every K]
 * [--sleep-us U] [--command LINE]
 * With --flush-every, prints "durable N" after each flush returns, so a test
 * that SIGKILLs this process knows what the store must hold. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "audit/audit.h"

int main(int argc, char **argv)
{
	if (argc < 4) {
		fprintf(stderr, "usage: audit_emit DB SESSION COUNT [--deny-every K] [--flush-every K] [--sleep-us U] [--command LINE]\n");
		return 2;
	}
	long n = atol(argv[3]), deny = 0, flush = 0, sleep_us = 0;
	const char *line = "synthetic workload";
	for (int i = 4; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--deny-every"))
			deny = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--flush-every"))
			flush = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--sleep-us"))
			sleep_us = atol(argv[i + 1]);
		else if (!strcmp(argv[i], "--command"))
			line = argv[i + 1];
	}
	struct audit *a;
	struct audit_opts o = { .session_id = argv[2] };
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
