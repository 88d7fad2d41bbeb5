/* Policy evaluation throughput, single thread (= per core): the embedded
 * default policy on a realistic mix, each check kind alone, and a generated
 * 500-rule policy.  Prints "policy: <what> <N> decisions/s" lines. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "policy/policy.h"

static const struct policy_vars V = { "/home/agent", "/home/agent/work", "/home/agent/work",
				      "/home/agent/work", "/tmp", "agent", NULL };

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);   /* per core: CPU time, not wall */
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static const char *const files[] = {
	"/home/agent/work/src/main.c", "/usr/lib/x86_64-linux-gnu/libc.so.6", "/home/agent/.ssh/id_rsa",
	"/etc/ld.so.cache", "/tmp/cc1234.o", "/home/agent/work/.env", "/proc/self/status",
	"/home/agent/work/build/obj/a/b/c/d.o", "/usr/share/locale/C.UTF-8/LC_MESSAGES/libc.mo", "/etc/passwd",
};
static const char *const cmds[][4] = {
	{ "/usr/bin/ls", "ls", "-la", NULL }, { "/usr/bin/git", "git", "status", NULL },
	{ "/usr/bin/npm", "npm", "install", "x" }, { "/usr/bin/gcc", "gcc", "-c", "a.c" },
	{ "/usr/bin/curl", "curl", "https://x", NULL }, { "/usr/bin/vim", "vim", "f", NULL },
};
static const char *const hosts[] = { "registry.npmjs.org", "api.github.com", "example.com", "pypi.org" };

static unsigned long sink;

/* Targets for the generated policy, so its rules are actually hit. */
#define GEN 1024
static char gpath[GEN][64], gcmd[GEN][40], ghost[GEN][48];

static void gen_targets(int nrules)
{
	for (int i = 0; i < GEN; i++) {
		int r = i % (nrules * 3 / 5);
		switch (i % 4) {
		case 0: snprintf(gpath[i], sizeof(gpath[i]), "/srv/app%d/src/main.c", r); break;
		case 1: snprintf(gpath[i], sizeof(gpath[i]), "/data/%d/run.log", r); break;
		case 2: snprintf(gpath[i], sizeof(gpath[i]), "/home/u/secret%d", r); break;
		default: snprintf(gpath[i], sizeof(gpath[i]), "/var/lib/other/%d", r); break;
		}
		snprintf(gcmd[i], sizeof(gcmd[i]), i % 2 ? "/usr/bin/tool%d" : "/opt/t%d/bin/x", i % (nrules / 5));
		snprintf(ghost[i], sizeof(ghost[i]), i % 2 ? "h%d.example.com" : "a.s%d.example.net", i % (nrules / 5));
	}
}

static double run_gen(const struct policy *p, int kind, long n)
{
	struct policy_result r;
	double t0 = now();
	for (long i = 0; i < n; i++) {
		int k = kind >= 0 ? kind : (int)(i % 10 < 7 ? 0 : i % 10 < 9 ? 1 : 2);
		size_t j = (size_t)i % GEN;
		const char *argv[] = { "x", "--dangerous" };
		if (k == 0)
			policy_check_file(p, (i & 3) ? POLICY_FILE_READ : POLICY_FILE_WRITE, gpath[j], &r);
		else if (k == 1)
			policy_check_exec(p, gcmd[j], 1 + (int)(i & 1), argv, &r);
		else
			policy_check_net_name(p, ghost[j], 443, &r);
		sink += r.decision;
	}
	return (double)n / (now() - t0);
}

static double run(const struct policy *p, int kind, long n)
{
	struct policy_result r;
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(443) };
	inet_pton(AF_INET, "10.1.2.3", &s4.sin_addr);
	double t0 = now();
	for (long i = 0; i < n; i++) {
		int k = kind >= 0 ? kind : (int)(i % 10 < 7 ? 0 : i % 10 < 9 ? 1 : 2);  /* 70/20/10 */
		switch (k) {
		case 0:
			policy_check_file(p, (i & 3) ? POLICY_FILE_READ : POLICY_FILE_WRITE,
					  files[i % (sizeof(files) / sizeof(files[0]))], &r);
			break;
		case 1: {
			const char *const *c = cmds[i % (sizeof(cmds) / sizeof(cmds[0]))];
			int argc = c[3] ? 3 : 2;
			policy_check_exec(p, c[0], argc, c + 1, &r);
			break;
		}
		case 2:
			if (i & 1)
				policy_check_net_name(p, hosts[i % 4], 443, &r);
			else
				policy_check_net(p, (struct sockaddr *)&s4, NULL, &r);
			break;
		}
		sink += r.decision;
	}
	return (double)n / (now() - t0);
}

static struct policy *generated(int nrules)
{
	size_t cap = (size_t)nrules * 400 + 1024, n = 0;
	char *y = malloc(cap);
	n += (size_t)snprintf(y + n, cap - n, "version: 1\nname: gen\nfile_rules:\n");
	for (int i = 0; i < nrules * 3 / 5; i++)
		n += (size_t)snprintf(y + n, cap - n,
				      "  - name: f%d\n    paths: [\"/srv/app%d/**\", \"/data/%d/*.log\", \"**/secret%d\"]\n"
				      "    operations: [read, write]\n    decision: %s\n",
				      i, i, i, i, i % 2 ? "allow" : "deny");
	n += (size_t)snprintf(y + n, cap - n, "command_rules:\n");
	for (int i = 0; i < nrules / 5; i++)
		n += (size_t)snprintf(y + n, cap - n,
				      "  - name: c%d\n    commands: [tool%d, \"/opt/t%d/bin/*\"]\n%s    decision: allow\n", i,
				      i, i, i % 4 ? "" : "    args_patterns: [\"^--dangerous\"]\n");
	n += (size_t)snprintf(y + n, cap - n, "network_rules:\n");
	for (int i = 0; i < nrules / 5; i++)
		n += (size_t)snprintf(y + n, cap - n,
				      "  - name: n%d\n    domains: [\"h%d.example.com\", \"*.s%d.example.net\"]\n"
				      "    cidrs: [\"10.%d.0.0/16\"]\n    ports: [443]\n    decision: allow\n",
				      i, i, i, i % 256);
	struct policy *p = NULL;
	struct policy_diags d;
	policy_diags_init(&d);
	if (policy_load_buffer(y, n, "<generated>", &V, &p, &d)) {
		policy_diags_print(&d, stderr);
		exit(1);
	}
	policy_diags_free(&d);
	free(y);
	return p;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 2000000;
	struct policy *p;
	struct policy_diags d;
	policy_diags_init(&d);
	if (policy_load_embedded(&V, &p, &d)) {
		policy_diags_print(&d, stderr);
		return 1;
	}
	policy_diags_free(&d);
	run(p, -1, n / 10);   /* warm caches */
	printf("policy: default mix (70%% file, 20%% exec, 10%% net) %.0f decisions/s\n", run(p, -1, n));
	printf("policy: default file checks %.0f decisions/s\n", run(p, 0, n));
	printf("policy: default exec checks %.0f decisions/s\n", run(p, 1, n));
	printf("policy: default network checks %.0f decisions/s\n", run(p, 2, n));
	policy_free(p);

	double t0 = now();
	p = generated(500);
	double load = now() - t0;
	gen_targets(500);
	printf("policy: generated 500-rule policy mix %.0f decisions/s (compiled in %.1f ms)\n",
	       run_gen(p, -1, n / 4), load * 1000);
	printf("policy: generated 500-rule file checks %.0f decisions/s\n", run_gen(p, 0, n / 4));
	printf("policy: generated 500-rule exec checks %.0f decisions/s\n", run_gen(p, 1, n / 4));
	printf("policy: generated 500-rule network checks %.0f decisions/s\n", run_gen(p, 2, n / 4));
	policy_free(p);
	return sink == 42 ? 2 : 0;
}
