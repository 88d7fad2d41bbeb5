/* approve_hold — hosts a real approval broker (with its socket) for the
 * remote-approver integration tests, standing in for the enforcement
 * supervisor: it submits N requests the way the notify thread does and prints
 * each answer.
 *
 *   approve_hold --session S --uid UID --dir APPROVERS --socket-dir DIR
 *                [--op exec] [--target T] [--rule R] [--timeout-ms MS] [--count N]
 *                [--audit DB]
 * stdout: "pending ID" per request, then "answer ID VERDICT METHOD APPROVER CODE"
 * as each resolves.  Exit 0 when every request was approved, 1 otherwise. */
#include "approve/approve.h"
#include "audit/audit.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int answered, approved;

static void done(void *ctx, const struct approve_answer *a)
{
	(void)ctx;
	pthread_mutex_lock(&mu);
	printf("answer %s %s %s %s %s\n", a->id, approve_verdict_name(a->verdict),
	       approve_method_name(a->method), a->approver && *a->approver ? a->approver : "-",
	       a->error_code ? a->error_code : "-");
	fflush(stdout);
	answered++;
	approved += approve_answer_allows(a);
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "session", required_argument, 0, 's' }, { "uid", required_argument, 0, 'u' },
		{ "dir", required_argument, 0, 'd' }, { "socket-dir", required_argument, 0, 'S' },
		{ "op", required_argument, 0, 'o' }, { "target", required_argument, 0, 't' },
		{ "rule", required_argument, 0, 'r' }, { "timeout-ms", required_argument, 0, 'T' },
		{ "count", required_argument, 0, 'n' }, { "audit", required_argument, 0, 'a' },
		{ 0, 0, 0, 0 } };
	struct approve_config c = { .session = "hold", .socket_dir = "" };
	const char *target = "/usr/bin/deploy", *rule = "ask-test", *audit_db = NULL;
	enum approve_op op = APPROVE_OP_EXEC;
	struct approve_broker *b;
	struct audit *au = NULL;
	char err[512];
	int n = 1, o;

	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 's': c.session = optarg; break;
		case 'u': c.session_uid = (uid_t)atoi(optarg); break;
		case 'd': c.approvers_dir = optarg; break;
		case 'S': c.socket_dir = optarg; break;
		case 'o': if (approve_op_parse(optarg, &op) < 0) return 2; break;
		case 't': target = optarg; break;
		case 'r': rule = optarg; break;
		case 'T': c.default_timeout_ms = (unsigned)atoi(optarg); break;
		case 'n': n = atoi(optarg); break;
		case 'a': audit_db = optarg; break;
		default: return 2;
		}
	}
	if (audit_db) {
		struct audit_opts ao = { .session_id = c.session, .no_owner_check = true };
		if (audit_open(audit_db, &ao, &au) < 0) {
			fprintf(stderr, "approve_hold: cannot open audit store %s\n", audit_db);
			return 2;
		}
		c.audit = au;
	}
	if (approve_broker_new(&c, &b, err, sizeof(err)) < 0) {
		fprintf(stderr, "approve_hold: %s\n", err);
		return 2;
	}
	for (int i = 0; i < n; i++) {
		char t[512];
		struct approve_request r = { .op = op, .target = t, .cmdline = "test command", .pid = getpid(),
					     .rule = rule, .message = "integration test" };
		snprintf(t, sizeof(t), n > 1 ? "%s.%d" : "%s", target, i);
		if (approve_submit(b, &r, done, NULL) < 0)
			return 2;
		printf("pending %s\n", r.id);
		fflush(stdout);
	}
	pthread_mutex_lock(&mu);
	while (answered < n)
		pthread_cond_wait(&cv, &mu);
	pthread_mutex_unlock(&mu);
	approve_broker_free(b);
	if (au)
		audit_close(au);
	return approved == n ? 0 : 1;
}
