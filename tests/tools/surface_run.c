/* surface_run — run one program through enforce_spawn(), the way the shell does,
 * for tests that need the sandbox without the shell.
 *   surface_run [-u UID] [-g GID] [-G GID,GID...] [-p POLICY.yaml] [-t TIMEOUT_MS] [-d] [-w DIR]
 *               [-P PIDFILE] -- /abs/prog args...
 * Exit status: the program's (128+N for a signal), 124 after a timeout, 125 when
 * the sandbox could not be set up (message on stderr). -P writes the
 * supervisor's pid once the program runs (fail-closed tests kill it). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "enforce/enforce.h"
#include "policy/policy.h"

extern char **environ;

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void notice(void *ctx, const char *line)
{
	(void)ctx;
	fprintf(stderr, "agentsh: %s\n", line);
}

int main(int argc, char **argv)
{
	uid_t uid = 65534;
	gid_t gid = 65534;
	const char *policy_file = NULL, *pidfile = NULL, *ws = "/tmp";
	unsigned timeout = 0;
	bool degraded = false;
	gid_t groups[32];
	size_t ng = 0;
	int o;
	while ((o = getopt(argc, argv, "u:g:G:p:t:dw:P:")) != -1) {
		switch (o) {
		case 'u': uid = (uid_t)atoi(optarg); break;
		case 'g': gid = (gid_t)atoi(optarg); break;
		case 'G':
			for (char *sv = NULL, *g = strtok_r(optarg, ",", &sv); g && ng < 32; g = strtok_r(NULL, ",", &sv))
				groups[ng++] = (gid_t)atoi(g);
			break;
		case 'p': policy_file = optarg; break;
		case 't': timeout = (unsigned)atoi(optarg); break;
		case 'd': degraded = true; break;
		case 'w': ws = optarg; break;
		case 'P': pidfile = optarg; break;
		default: return 125;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "usage: surface_run [-u UID] [-g GID] [-p POLICY] [-t MS] [-d] -- /prog args\n");
		return 125;
	}
	struct policy *pol = NULL;
	if (policy_file) {
		struct policy_vars v = { .home = "/tmp", .workspace = ws, .tmpdir = "/tmp", .user = "nobody",
					 .project_root = ws };
		struct policy_diags d;
		policy_diags_init(&d);
		if (policy_load_file(policy_file, &v, &pol, &d) < 0) {
			policy_diags_print(&d, stderr);
			return 125;
		}
		policy_diags_free(&d);
	}
	char sid[64];
	snprintf(sid, sizeof sid, "surface-%d", (int)getpid());
	if (!ng)
		groups[ng++] = gid;
	struct enforce_config cfg = {
		.policy = pol, .account = { .uid = uid, .gid = gid, .groups = groups, .ngroups = ng,
					    .name = "test", .home = "/tmp" },
		.session_id = sid, .workspace = ws, .allow_degraded = degraded,
		.hooks = { .notice = notice },
	};
	struct enforce_session *s = NULL;
	bool timing = getenv("SURFACE_TIMING") != NULL;
	double t0 = now_ms();
	if (enforce_session_new(&cfg, &s) < 0) {
		fprintf(stderr, "surface_run: %s\n", enforce_strerror(s));
		enforce_session_free(s);
		policy_free(pol);
		return 125;
	}
	const char *why;
	if (enforce_session_degraded(s, &why))
		fprintf(stderr, "surface_run: degraded: %s\n", why);
	struct enforce_spawn_req r = { .argv = argv + optind, .envp = environ, .stdio = { 0, 1, 2 },
				       .ctty = -1, .timeout_ms = timeout };
	pid_t pid;
	int pidfd;
	if (enforce_spawn(s, &r, &pid, &pidfd) < 0) {
		fprintf(stderr, "surface_run: %s\n", enforce_strerror(s));
		enforce_session_free(s);
		policy_free(pol);
		return 125;
	}
	double t1 = now_ms();
	if (pidfile) {
		FILE *f = fopen(pidfile, "w");
		if (f) {
			fprintf(f, "%d\n", (int)getpid());
			fclose(f);
		}
	}
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	close(pidfd);
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	if (enforce_session_timed_out(s))
		rc = 124;
	double t2 = now_ms();
	enforce_session_free(s);
	if (timing)
		fprintf(stderr, "timing: session+spawn %.1f ms, run %.1f ms, free %.1f ms\n", t1 - t0, t2 - t1,
			now_ms() - t2);
	policy_free(pol);
	return rc;
}
