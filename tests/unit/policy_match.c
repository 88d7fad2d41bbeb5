/* policy/: matchers and evaluation order, through the public API. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdbool.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <stdio.h>

#include "policy/policy.h"

#define NK(a) (sizeof(a) / sizeof((a)[0]))

static const struct policy_vars V = { "/home/a", "/home/a/ws", "/home/a/ws", "/home/a/ws", "/tmp", "a", NULL };

static struct policy *load(const char *y)
{
	struct policy *p = NULL;
	struct policy_diags d;
	policy_diags_init(&d);
	int e = policy_load_buffer(y, strlen(y), "t.yaml", &V, &p, &d);
	if (e)
		policy_diags_print(&d, stderr);
	policy_diags_free(&d);
	assert_int_equal(e, 0);
	return p;
}

static void test_globs(void **st)
{
	(void)st;
	assert_int_equal(policy_glob_match("/a/*", "/a/b"), 1);
	assert_int_equal(policy_glob_match("/a/*", "/a/b/c"), 0);        /* '*' stays in one segment */
	assert_int_equal(policy_glob_match("/a/**", "/a/b/c"), 1);
	assert_int_equal(policy_glob_match("/a/**", "/a"), 0);           // reference: the dir glob does not match dir
	assert_int_equal(policy_glob_match("/a/**", "/a/"), 1);
	assert_int_equal(policy_glob_match("/a/**/z", "/a/z"), 1);       /* zero directories */
	assert_int_equal(policy_glob_match("/a/**/z", "/a/b/c/z"), 1);
	assert_int_equal(policy_glob_match("**/.env", "/x/y/.env"), 1);
	assert_int_equal(policy_glob_match("**/.env", "/x/y/.envrc"), 0);
	assert_int_equal(policy_glob_match("/f?o", "/foo"), 1);
	assert_int_equal(policy_glob_match("/f?o", "/f/o"), 0);
	assert_int_equal(policy_glob_match("/[a-c]x", "/bx"), 1);
	assert_int_equal(policy_glob_match("/[!a-c]x", "/bx"), 0);
	assert_int_equal(policy_glob_match("/[!a-c]x", "/dx"), 1);
	assert_int_equal(policy_glob_match("/x/{a,b}/y", "/x/b/y"), 1);
	assert_int_equal(policy_glob_match("/x/{a,b}/y", "/x/c/y"), 0);
	assert_int_equal(policy_glob_match("/x/{a,{b,c}d}", "/x/cd"), 1);
	assert_int_equal(policy_glob_match("/proc/*/environ", "/proc/12/environ"), 1);
	assert_int_equal(policy_glob_match("/proc/*/environ", "/proc/12/task/3/environ"), 0);
	assert_int_equal(policy_glob_match("/a\\*b", "/a*b"), 1);
	assert_int_equal(policy_glob_match("/a\\*b", "/axb"), 0);
	assert_int_equal(policy_glob_match("/x/{a,b", "/x/a"), -22);
	/* a pathological pattern stays linear (NFA, no backtracking) */
	assert_int_equal(policy_glob_match("/*a*a*a*a*a*a*a*a*a*a*b", "/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"), 0);
	assert_int_equal(policy_glob_match("/a/**/x.c", "/a/x.c"), 1);
	assert_int_equal(policy_glob_match("/a/**/b/*.c", "/a/b/x.c"), 1);
	assert_int_equal(policy_glob_match("/a/**/b/*.c", "/a/q/b/x.c"), 1);
	assert_int_equal(policy_glob_match("/a/**/b/*.c", "/a/q/b/x/y.c"), 0);
	assert_int_equal(policy_glob_match("**/.env.*", "/w/.env.local"), 1);
	assert_int_equal(policy_glob_match("**/.env.*", "/w/.env.d/x"), 0);
	char buf[64];
	bool lit;
	assert_int_equal(policy_glob_static_prefix("/home/a/.ssh/**", buf, sizeof(buf), &lit), 12);
	assert_string_equal(buf, "/home/a/.ssh");
	assert_false(lit);
	policy_glob_static_prefix("/etc/shadow", buf, sizeof(buf), &lit);
	assert_string_equal(buf, "/etc/shadow");
	assert_true(lit);
}

/* Reference matcher: plain recursive backtracking straight from the
 * documented semantics, to cross-check the compiled NFA and fast paths. */
static int ref_match(const char *p, const char *s, int prev_slash)
{
	if (!*p)
		return !*s;
	if (p[0] == '*' && p[1] == '*') {
		while (*p == '*')
			p++;
		if (prev_slash && *p == '/' && ref_match(p + 1, s, 1))
			return 1;      /* "/" "**" "/" matches a single "/" */
		for (const char *t = s;; t++) {
			if (ref_match(p, t, 0))
				return 1;
			if (!*t)
				return 0;
		}
	}
	if (*p == '*') {
		for (const char *t = s;; t++) {
			if (ref_match(p + 1, t, 0))
				return 1;
			if (!*t || *t == '/')
				return 0;
		}
	}
	if (!*s)
		return 0;
	if (*p == '?')
		return *s != '/' && ref_match(p + 1, s + 1, 0);
	return *p == *s && ref_match(p + 1, s + 1, *p == '/');
}

static void test_glob_differential(void **st)
{
	(void)st;
	static const char alpha[] = "ab/*?";
	static const char salpha[] = "ab/";
	unsigned seed = 12345;
	char pat[12], str[12];
	int checked = 0;
	for (int iter = 0; iter < 200000; iter++) {
		int pl = 1 + (int)(rand_r(&seed) % 9), sl = (int)(rand_r(&seed) % 9);
		for (int i = 0; i < pl; i++)
			pat[i] = alpha[rand_r(&seed) % 5];
		pat[pl] = 0;
		for (int i = 0; i < sl; i++)
			str[i] = salpha[rand_r(&seed) % 3];
		str[sl] = 0;
		int want = ref_match(pat, str, 0);
		int got = policy_glob_match(pat, str);
		if (want != got)
			fail_msg("glob '%s' on '%s': compiled %d, reference %d", pat, str, got, want);
		checked++;
	}
	assert_int_equal(checked, 200000);
}

static void test_files_order_and_vars(void **st)
{
	(void)st;
	struct policy *p = load("version: 1\nname: t\nfile_rules:\n"
		"  - name: ssh\n    paths: [\"${HOME}/.ssh/**\"]\n    decision: deny\n"
		"  - name: ws\n    paths: [\"${WORKSPACE}\", \"${WORKSPACE}/**\"]\n    operations: [read, write]\n    decision: allow\n"
		"  - name: fb\n    paths: [\"${NOPE:-/opt/fb}/**\"]\n    operations: [write]\n    decision: audit\n"
		"  - name: rd\n    paths: [\"/srv/**\"]\n    operations: [delete]\n    decision: redirect\n    redirect_to: /trash\n");
	struct policy_result r;
	policy_check_file(p, POLICY_FILE_READ, "/home/a/.ssh/id_rsa", &r);
	assert_int_equal(r.decision, POLICY_DENY);
	assert_string_equal(r.rule, "ssh");
	assert_int_equal(r.line, 4);
	policy_check_file(p, POLICY_FILE_WRITE, "/home/a/ws/x/../../.ssh/k", &r);  /* normalised */
	assert_string_equal(r.rule, "ssh");
	policy_check_file(p, POLICY_FILE_WRITE, "/home/a/ws//f", &r);
	assert_string_equal(r.rule, "ws");
	policy_check_file(p, POLICY_FILE_STAT, "/home/a/ws", &r);                 /* read covers stat */
	assert_string_equal(r.rule, "ws");
	policy_check_file(p, POLICY_FILE_DELETE, "/home/a/ws/f", &r);
	assert_string_equal(r.rule, "default-deny-files");
	assert_true(r.is_default);
	policy_check_file(p, POLICY_FILE_READ, "/etc/hosts", &r);
	assert_int_equal(r.decision, POLICY_ALLOW);
	assert_string_equal(r.rule, "default-allow-reads");
	policy_check_file(p, POLICY_FILE_WRITE, "/opt/fb/x", &r);
	assert_string_equal(r.rule, "fb");
	policy_check_file(p, POLICY_FILE_DELETE, "/srv/a/b.txt", &r);
	assert_int_equal(r.decision, POLICY_REDIRECT);
	assert_string_equal(r.redirect_path, "/trash/b.txt");
	assert_int_equal(policy_check_file(p, POLICY_FILE_READ, "relative/x", &r), -22);
	assert_int_equal(r.decision, POLICY_DENY);
	policy_free(p);
}

/* The file rule index must give exactly the first matching rule of a linear
 * scan: random policies and paths, checked against policy_glob_match over the
 * rules in order. */
static void test_file_index_differential(void **st)
{
	(void)st;
	static const char *const segs[] = { "a", "b", "ab", "*", "**", "?b", "a*", ".env", "{a,b}", "[ab]" };
	static const char *const psegs[] = { "a", "b", "ab", "bb", ".env", "x" };
	static const enum policy_file_op ops[] = { POLICY_FILE_READ, POLICY_FILE_WRITE, POLICY_FILE_DELETE };
	static const char *const opw[] = { "read", "write", "delete", "\"*\"" };
	unsigned seed = 777;
	for (int round = 0; round < 300; round++) {
		char y[8192];
		size_t n = (size_t)snprintf(y, sizeof(y), "version: 1\nname: r\nfile_rules:\n");
		int nr = 1 + (int)(rand_r(&seed) % 12);
		for (int r = 0; r < nr; r++) {
			n += (size_t)snprintf(y + n, sizeof(y) - n, "  - name: r%d\n    operations: [%s]\n    decision: %s\n    paths: [",
					      r, opw[rand_r(&seed) % 4], r % 2 ? "allow" : "deny");
			int ng = 1 + (int)(rand_r(&seed) % 3);
			for (int g = 0; g < ng; g++) {
				n += (size_t)snprintf(y + n, sizeof(y) - n, "%s\"", g ? ", " : "");
				if (rand_r(&seed) % 4 == 0)
					n += (size_t)snprintf(y + n, sizeof(y) - n, "**");
				int depth = 1 + (int)(rand_r(&seed) % 4);
				for (int d = 0; d < depth; d++)
					n += (size_t)snprintf(y + n, sizeof(y) - n, "/%s", segs[rand_r(&seed) % 10]);
				n += (size_t)snprintf(y + n, sizeof(y) - n, "\"");
			}
			n += (size_t)snprintf(y + n, sizeof(y) - n, "]\n");
		}
		struct policy *p = NULL;
		if (policy_load_buffer(y, n, "r", &V, &p, NULL)) {
			fail_msg("random policy did not load:\n%s", y);
		}
		for (int t = 0; t < 200; t++) {
			char path[256];
			size_t pl = 0;
			int depth = 1 + (int)(rand_r(&seed) % 5);
			for (int d = 0; d < depth; d++)
				pl += (size_t)snprintf(path + pl, sizeof(path) - pl, "/%s", psegs[rand_r(&seed) % 6]);
			enum policy_file_op op = ops[rand_r(&seed) % 3];
			long want = -1;
			for (size_t r = 0; want < 0 && r < policy_file_rule_count(p); r++) {
				struct policy_file_rule_info fi;
				policy_file_rule_get(p, r, &fi);
				if (!(fi.ops & POLICY_FILE_OP_BIT(op)))
					continue;
				for (size_t g = 0; g < fi.nglobs; g++)
					if (policy_glob_match(fi.globs[g], path) == 1) {
						want = (long)r;
						break;
					}
			}
			struct policy_result res;
			policy_check_file(p, op, path, &res);
			if (res.rule_index != want)
				fail_msg("path %s op %d: index says rule %d, linear scan %ld, policy:\n%s", path, op,
					 res.rule_index, want, y);
		}
		policy_free(p);
	}
}

/* White-box (own module): compile the same random policy with and without
 * the rule indexes and require identical decisions for random checks. */
extern bool pol_index_disabled;

static const char *pick(unsigned *seed, const char *const *v, size_t n)
{
	return v[rand_r(seed) % n];
}

static void test_indexes_match_linear(void **st)
{
	(void)st;
	static const char *const cmds[] = { "ls", "LS", "git", "py*", "*", "/usr/bin/git", "/opt/*/bin/*",
		"/usr/local/bin/*", "sh.real", "g?t", "/usr/bin/*", "/bin/sh" };
	static const char *const doms[] = { "a.com", "*.a.com", "*.b.a.com", "x.*.com", "*", "B.A.COM",
		"*.com", "c.net", "*c.net" };
	static const char *const cidrs[] = { "10.0.0.0/8", "::ffff:10.1.0.0/112", "fd00::/8", "0.0.0.0/0" };
	static const char *const paths[] = { "/usr/bin/git", "/usr/bin/ls", "/bin/sh", "/opt/x/bin/py3",
		"/usr/local/bin/tool", "/usr/lib/agentsh/sh.real", "/home/a/python3", "/usr/bin/gxt" };
	static const char *const names[] = { "a.com", "x.a.com", "y.b.a.com", "b.a.com", "x.y.com",
		"c.net", "cc.net", "other.org", "com" };
	unsigned seed = 4242;
	for (int round = 0; round < 300; round++) {
		char y[16384];
		size_t n = (size_t)snprintf(y, sizeof(y), "version: 1\nname: r\ncommand_rules:\n");
		int nc = 1 + (int)(rand_r(&seed) % 10);
		for (int r = 0; r < nc; r++) {
			n += (size_t)snprintf(y + n, sizeof(y) - n, "  - name: c%d\n    decision: %s\n    commands: [\"%s\", \"%s\"]\n",
					      r, r % 2 ? "allow" : "deny", pick(&seed, cmds, 12), pick(&seed, cmds, 12));
			if (rand_r(&seed) % 3 == 0)
				n += (size_t)snprintf(y + n, sizeof(y) - n, "    args_patterns: [\"^-x\"]\n");
		}
		n += (size_t)snprintf(y + n, sizeof(y) - n, "file_rules:\n");
		for (int r = 0; r < 4; r++)
			n += (size_t)snprintf(y + n, sizeof(y) - n, "  - name: f%d\n    decision: deny\n    paths: [\"%s\"]\n",
					      r, pick(&seed, (const char *const[]){ "/usr/bin/*", "/usr/**", "**/git",
						      "/opt/*/bin/py3", "/bin/sh", "/**" }, 6));
		n += (size_t)snprintf(y + n, sizeof(y) - n, "network_rules:\n");
		int nn = 1 + (int)(rand_r(&seed) % 10);
		for (int r = 0; r < nn; r++) {
			n += (size_t)snprintf(y + n, sizeof(y) - n, "  - name: n%d\n    decision: %s\n", r, r % 2 ? "allow" : "deny");
			if (rand_r(&seed) % 3)
				n += (size_t)snprintf(y + n, sizeof(y) - n, "    domains: [\"%s\", \"%s\"]\n",
						      pick(&seed, doms, 9), pick(&seed, doms, 9));
			if (rand_r(&seed) % 3 == 0)
				n += (size_t)snprintf(y + n, sizeof(y) - n, "    cidrs: [\"%s\"]\n", pick(&seed, cidrs, 4));
			if (rand_r(&seed) % 3 == 0)
				n += (size_t)snprintf(y + n, sizeof(y) - n, "    ports: [443]\n");
		}
		struct policy *pi = NULL, *pl = NULL;
		pol_index_disabled = false;
		if (policy_load_buffer(y, n, "r", &V, &pi, NULL))
			fail_msg("random policy did not load:\n%s", y);
		pol_index_disabled = true;
		assert_int_equal(policy_load_buffer(y, n, "r", &V, &pl, NULL), 0);
		pol_index_disabled = false;
		for (int t = 0; t < 100; t++) {
			struct policy_result a, b;
			const char *path = pick(&seed, paths, 8);
			const char *argv[] = { "x", rand_r(&seed) % 2 ? "-x" : "y" };
			policy_check_exec(pi, path, 2, argv, &a);
			policy_check_exec(pl, path, 2, argv, &b);
			if (a.rule_index != b.rule_index)
				fail_msg("exec %s: indexed rule %d, linear %d\n%s", path, a.rule_index, b.rule_index, y);
			const char *name = pick(&seed, names, 9);
			uint16_t port = rand_r(&seed) % 2 ? 443 : 80;
			policy_check_net_name(pi, name, port, &a);
			policy_check_net_name(pl, name, port, &b);
			if (a.rule_index != b.rule_index)
				fail_msg("net %s: indexed rule %d, linear %d\n%s", name, a.rule_index, b.rule_index, y);
			struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(port) };
			inet_pton(AF_INET, rand_r(&seed) % 2 ? "10.1.2.3" : "8.8.8.8", &s4.sin_addr);
			const char *nm = rand_r(&seed) % 2 ? name : NULL;
			policy_check_net(pi, (struct sockaddr *)&s4, nm, &a);
			policy_check_net(pl, (struct sockaddr *)&s4, nm, &b);
			if (a.rule_index != b.rule_index)
				fail_msg("net addr+%s: indexed rule %d, linear %d\n%s", nm ? nm : "-", a.rule_index,
					 b.rule_index, y);
			const char *fp = pick(&seed, paths, 8);
			policy_check_file(pi, POLICY_FILE_WRITE, fp, &a);
			policy_check_file(pl, POLICY_FILE_WRITE, fp, &b);
			if (a.rule_index != b.rule_index)
				fail_msg("file %s: indexed rule %d, linear %d\n%s", fp, a.rule_index, b.rule_index, y);
		}
		policy_free(pi);
		policy_free(pl);
	}
}

static void test_var_values_are_literal(void **st)
{
	(void)st;
	struct policy_vars v = V;
	v.home = "/home/x*";
	struct policy *p = NULL;
	const char *y = "version: 1\nname: t\nfile_rules:\n  - name: h\n    paths: [\"${HOME}/**\"]\n    decision: deny\n";
	assert_int_equal(policy_load_buffer(y, strlen(y), "t", &v, &p, NULL), 0);
	struct policy_result r;
	policy_check_file(p, POLICY_FILE_WRITE, "/home/xyz/f", &r);
	assert_string_equal(r.rule, "default-deny-files");  /* not h: '*' in HOME is literal */
	policy_check_file(p, POLICY_FILE_READ, "/home/x*/f", &r);
	assert_string_equal(r.rule, "h");
	policy_free(p);
}

static void test_commands(void **st)
{
	(void)st;
	struct policy *p = load("version: 1\nname: t\ncommand_rules:\n"
		"  - name: rmrf\n    commands: [rm]\n    args_patterns: [\"(^| )-[a-zA-Z]*[rR]\"]\n    decision: deny\n    message: \"no {{.Args}} via {{.Command}}\"\n"
		"  - name: exact\n    commands: [/opt/tool/bin/x]\n    decision: approve\n"
		"  - name: pglob\n    commands: [\"/usr/local/bin/*\"]\n    decision: audit\n"
		"  - name: bglob\n    commands: [\"py*\"]\n    decision: allow\n"
		"  - name: base\n    commands: [LS, rm, sh]\n    decision: allow\n"
		"  - name: redir\n    commands: [curl]\n    decision: redirect\n    redirect_to: {command: /bin/echo, args: [a], args_append: [z], environment: {K: v}}\n");
	struct policy_result r;
	const char *a1[] = { "rm", "-f", "-r", "x" };
	policy_check_exec(p, "/bin/rm", 4, a1, &r);
	assert_string_equal(r.rule, "rmrf");
	assert_string_equal(r.message, "no -f -r x via /bin/rm");
	const char *a2[] = { "rm", "x" };
	policy_check_exec(p, "/bin/rm", 2, a2, &r);
	assert_string_equal(r.rule, "base");
	policy_check_exec(p, "/opt/tool/bin/x", 1, a2, &r);
	assert_string_equal(r.rule, "exact");
	policy_check_exec(p, "/usr/local/bin/thing", 1, a2, &r);
	assert_string_equal(r.rule, "pglob");
	policy_check_exec(p, "/usr/bin/python3", 1, a2, &r);
	assert_string_equal(r.rule, "bglob");
	policy_check_exec(p, "/usr/bin/ls", 1, a2, &r);              /* case-insensitive basename */
	assert_string_equal(r.rule, "base");
	policy_check_exec(p, "/usr/lib/agentsh/sh.real", 1, a2, &r); /* .real stripped */
	assert_string_equal(r.rule, "base");
	policy_check_exec(p, "/usr/bin/vim", 1, a2, &r);
	assert_string_equal(r.rule, "default-deny-commands");
	policy_check_exec(p, "/usr/bin/curl", 1, a2, &r);
	assert_int_equal(r.decision, POLICY_REDIRECT);
	assert_string_equal(r.cmd.path, "/bin/echo");
	assert_int_equal(r.cmd.nargs, 1);
	assert_string_equal(r.cmd.args_append[0], "z");
	assert_string_equal(r.cmd.env[0], "K=v");
	/* long argument lists are matched too (heap path) */
	static char big[100000];
	memset(big, 'a', sizeof(big) - 1);
	const char *a3[] = { "rm", big, "-R" };
	policy_check_exec(p, "/bin/rm", 3, a3, &r);
	assert_string_equal(r.rule, "rmrf");
	policy_free(p);
}

static void test_command_vars(void **st)
{
	(void)st;
	struct policy *p = load("version: 1\nname: t\ncommand_rules:\n"
		"  - name: mine\n    commands: [\"${HOME}/bin/*\", \"${WORKSPACE}/run.sh\"]\n    decision: allow\n");
	struct policy_result r;
	const char *a[] = { "x" };
	policy_check_exec(p, "/home/a/bin/tool", 1, a, &r);
	assert_string_equal(r.rule, "mine");
	policy_check_exec(p, "/home/a/ws/run.sh", 1, a, &r);
	assert_string_equal(r.rule, "mine");
	policy_check_exec(p, "/home/b/bin/tool", 1, a, &r);
	assert_string_equal(r.rule, "default-deny-commands");
	policy_free(p);
}

static void test_context(void **st)
{
	(void)st;
	struct policy *p = load("version: 1\nname: t\ncommand_rules:\n"
		"  - name: nested-only\n    commands: [make]\n    context: [nested]\n    decision: deny\n"
		"  - name: depth\n    commands: [make]\n    context: {min_depth: 0, max_depth: 0}\n    decision: allow\n");
	struct policy_result r;
	const char *a[] = { "make" };
	policy_check_exec_depth(p, "/usr/bin/make", 1, a, 0, &r);
	assert_string_equal(r.rule, "depth");
	policy_check_exec_depth(p, "/usr/bin/make", 1, a, 2, &r);
	assert_string_equal(r.rule, "nested-only");
	policy_free(p);
}

static int net(const struct policy *p, const char *ip, uint16_t port, const char *dom, struct policy_result *r)
{
	struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
	struct sockaddr_in s4 = { .sin_family = AF_INET, .sin_port = htons(port) };
	if (inet_pton(AF_INET, ip, &s4.sin_addr) == 1)
		return policy_check_net(p, (struct sockaddr *)&s4, dom, r);
	assert_int_equal(inet_pton(AF_INET6, ip, &s6.sin6_addr), 1);
	return policy_check_net(p, (struct sockaddr *)&s6, dom, r);
}

static void test_network(void **st)
{
	(void)st;
	struct policy *p = load("version: 1\nname: t\nnetwork_rules:\n"
		"  - name: gh\n    domains: [\"*.GitHub.com\", github.com]\n    ports: [443, \"8000-8010\"]\n    decision: allow\n"
		"  - name: priv\n    cidrs: [10.0.0.0/8, \"fd00::/8\", \"::ffff:192.168.0.0/112\"]\n    decision: deny\n"
		"  - name: https\n    ports: [443]\n    decision: approve\n    message: \"{{.RemoteAddr}}:{{.RemotePort}}\"\n"
		"  - name: all\n    domains: [\"*\"]\n    decision: audit\n");
	struct policy_result r;
	policy_check_net_name(p, "API.github.com.", 443, &r);
	assert_string_equal(r.rule, "gh");
	policy_check_net_name(p, "a.b.c.github.com", 8005, &r);     /* any depth, port range */
	assert_string_equal(r.rule, "gh");
	policy_check_net_name(p, "github.com", 8011, &r);
	assert_string_equal(r.rule, "all");
	policy_check_net_name(p, "evilgithub.com", 443, &r);
	assert_string_equal(r.rule, "https");
	assert_string_equal(r.message, "evilgithub.com:443");
	net(p, "10.1.2.3", 80, NULL, &r);
	assert_string_equal(r.rule, "priv");
	net(p, "::ffff:10.9.9.9", 80, NULL, &r);                   /* v4-mapped matches the v4 rule */
	assert_string_equal(r.rule, "priv");
	net(p, "192.168.4.4", 80, NULL, &r);                       /* v4-mapped CIDR is a v4 rule */
	assert_string_equal(r.rule, "priv");
	net(p, "fd12::1", 80, NULL, &r);
	assert_string_equal(r.rule, "priv");
	net(p, "11.0.0.1", 443, NULL, &r);
	assert_string_equal(r.rule, "https");
	assert_string_equal(r.message, "11.0.0.1:443");
	net(p, "11.0.0.1", 80, NULL, &r);                          /* bare '*' matches IP-only too */
	assert_string_equal(r.rule, "all");
	policy_check_net_name(p, "10.0.0.5", 22, &r);              /* IP literal as a name */
	assert_string_equal(r.rule, "priv");
	policy_free(p);
	/* the unspecified address is this host's loopback to the kernel, so to the rules */
	p = load("version: 1\nname: t\nnetwork_rules:\n"
		"  - name: no-lo\n    cidrs: [127.0.0.0/8, \"::1/128\"]\n    decision: deny\n    message: \"{{.RemoteAddr}}\"\n"
		"  - name: rest\n    cidrs: [0.0.0.0/0, \"::/0\"]\n    decision: allow\n");
	const char *const unspecified[] = { "0.0.0.0", "::", "::ffff:0.0.0.0" };
	for (int i = 0; i < 3; i++) {
		net(p, unspecified[i], 8080, NULL, &r);
		assert_string_equal(r.rule, "no-lo");
	}
	assert_string_equal(r.message, "0.0.0.0");            /* as the program gave it */
	net(p, "0.0.0.1", 8080, NULL, &r);
	assert_string_equal(r.rule, "rest");
	policy_free(p);
	p = load("version: 1\nname: t\nnetwork_rules:\n  - name: x\n    domains: [a.com]\n    decision: allow\n");
	policy_check_net_name(p, "b.com", 443, &r);
	assert_string_equal(r.rule, "default-deny-network");
	policy_free(p);
}

/* `@resolvers`: the nameserver lines of the resolver configuration, each a
 * /32 or /128 (a link-local scope dropped; comments and look-alike keys
 * ignored); none at all means the resolver's own default, 127.0.0.1 and ::1,
 * never an empty list (which would match every address); an unreadable file
 * is an error naming it. */
static int load_rc(const char *conf, struct policy **p)
{
	static const char *y = "version: 1\nname: t\nnetwork_rules:\n"
		"  - name: dns\n    cidrs: [\"@resolvers\"]\n    ports: [53]\n    decision: allow\n";
	struct policy_vars v = V;
	struct policy_diags d;
	char path[] = "/tmp/agentsh-rc-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, conf, strlen(conf)), (ssize_t)strlen(conf));
	close(fd);
	v.resolv_conf = path;
	policy_diags_init(&d);
	int e = policy_load_buffer(y, strlen(y), "t.yaml", &v, p, &d);
	policy_diags_free(&d);
	unlink(path);
	return e;
}

struct rc_case { const char *addr; uint16_t port; bool dns; const char *why; };

static void rc_expect(const char *conf, const struct rc_case *c, size_t n)
{
	struct policy *p;
	struct policy_result r;
	assert_int_equal(load_rc(conf, &p), 0);
	for (size_t i = 0; i < n; i++) {
		net(p, c[i].addr, c[i].port, NULL, &r);
		if (c[i].dns != !strcmp(r.rule, "dns"))
			fail_msg("%s port %u: rule %s (%s)", c[i].addr, c[i].port, r.rule, c[i].why);
	}
	policy_free(p);
}

static void test_resolvers(void **st)
{
	(void)st;
	static const struct rc_case named[] = {
		{ "10.9.8.7", 53, true, "a nameserver line" },
		{ "fe80::53", 53, true, "the link-local scope dropped" },
		{ "192.0.2.53", 53, true, "a tab after the key" },
		{ "10.9.8.7", 80, false, "the rule's ports still apply" },
		{ "10.9.8.8", 53, false, "a /32, not a range" },
		{ "1.1.1.1", 53, false, "commented out" },
		{ "9.9.9.9", 53, false, "not the nameserver key" },
		{ "127.0.0.1", 53, false, "not added when servers are named" },
	};
	rc_expect("# local\nnameserver 10.9.8.7\nnameserver fe80::53%eth0\n;nameserver 1.1.1.1\n"
		  "nameserverx 9.9.9.9\noptions ndots:2\nnameserver\t192.0.2.53\n", named, NK(named));
	static const struct rc_case none[] = {
		{ "127.0.0.1", 53, true, "the resolver's own default" },
		{ "::1", 53, true, "the resolver's own default" },
		{ "8.8.8.8", 53, false, "an empty list never means any address" },
	};
	rc_expect("search example.com\n", none, NK(none));
}

static void test_signals_unix(void **st)
{
	(void)st;
	struct policy *p = load("version: 1\nname: t\nsignal_rules:\n"
		"  - name: self\n    signals: [\"@all\"]\n    target: {type: self}\n    decision: allow\n"
		"  - name: kill2term\n    signals: [SIGKILL, 9]\n    target: {type: descendants}\n    decision: redirect\n    redirect_to: TERM\n"
		"  - name: job\n    signals: [\"@job\"]\n    target: {type: session}\n    decision: absorb\n"
		"  - name: ext\n    signals: [\"@fatal\", \"HUP\"]\n    target: {type: external}\n    decision: deny\n    fallback: audit\n"
		"  - name: proc\n    signals: [\"@reload\"]\n    target: {type: process, pattern: \"nginx*\"}\n    decision: allow\n"
		"unix_socket_rules:\n  - name: dock\n    paths: [/run/docker.sock]\n    operations: [connect]\n    decision: deny\n"
		"  - name: abs\n    paths: [\"@dbus-*\"]\n    decision: allow\n"
		"  - name: harness\n    paths: [\"/tmp/tmux-*/**\"]\n    decision: allow\n    own_account_servers: allow\n"
		"  - name: tmp\n    paths: [\"/tmp/**\"]\n    decision: allow\n    own_account_servers: refuse\n");
	struct policy_result r;
	/* the opt-in travels with the rule that matched, and only with it */
	policy_check_unix(p, POLICY_UNIX_CONNECT, "/tmp/tmux-1000/default", false, &r);
	assert_string_equal(r.rule, "harness");
	assert_true(r.unix_own_account_servers);
	policy_check_unix(p, POLICY_UNIX_CONNECT, "/tmp/other.sock", false, &r);
	assert_string_equal(r.rule, "tmp");
	assert_false(r.unix_own_account_servers);
	policy_check_unix(p, POLICY_UNIX_CONNECT, "dbus-123", true, &r);
	assert_false(r.unix_own_account_servers);
	policy_check_signal(p, SIGUSR1, POLICY_SIG_SELF, &r);
	assert_string_equal(r.rule, "self");
	policy_check_signal(p, SIGKILL, POLICY_SIG_CHILDREN, &r);
	assert_int_equal(r.decision, POLICY_REDIRECT);
	assert_int_equal(r.redirect_signal, SIGTERM);
	policy_check_signal(p, SIGTSTP, POLICY_SIG_DESCENDANTS, &r);
	assert_int_equal(r.decision, POLICY_ABSORB);
	policy_check_signal(p, SIGHUP, POLICY_SIG_EXTERNAL, &r);
	assert_string_equal(r.rule, "ext");
	assert_true(r.has_fallback);
	assert_int_equal(r.fallback, POLICY_AUDIT);
	struct policy_signal_info in = { .rel = POLICY_SIG_EXTERNAL, .comm = "nginx-worker" };
	policy_check_signal_info(p, SIGUSR2, &in, &r);
	assert_string_equal(r.rule, "proc");
	policy_check_signal(p, SIGUSR2, POLICY_SIG_SYSTEM, &r);
	assert_string_equal(r.rule, "default-deny-signals");
	policy_check_signal(p, 0, POLICY_SIG_SYSTEM, &r);
	assert_int_equal(r.decision, POLICY_ALLOW);
	assert_int_equal(policy_signal_parse("sigterm"), SIGTERM);
	assert_int_equal(policy_signal_parse("15"), 15);
	assert_int_equal(policy_signal_parse("SIGNOPE"), -22);
	policy_check_unix(p, POLICY_UNIX_CONNECT, "/run/docker.sock", false, &r);
	assert_string_equal(r.rule, "dock");
	policy_check_unix(p, POLICY_UNIX_BIND, "/run/docker.sock", false, &r);
	assert_string_equal(r.rule, "default-deny-unix-sockets");
	policy_check_unix(p, POLICY_UNIX_CONNECT, "dbus-123", true, &r);
	assert_string_equal(r.rule, "abs");
	policy_free(p);
	/* no signal rules: reference behaviour, no filtering */
	p = load("version: 1\nname: t\n");
	assert_false(policy_filters_signals(p));
	policy_check_signal(p, SIGKILL, POLICY_SIG_EXTERNAL, &r);
	assert_int_equal(r.decision, POLICY_ALLOW);
	policy_free(p);
}

static void test_redirects(void **st)
{
	(void)st;
	struct policy *p = load("version: 1\nname: t\n"
		"dns_redirects:\n  - {name: mirror, match: \"^registry\\\\.npmjs\\\\.org$\", resolve_to: 10.0.0.5}\n"
		"connect_redirects:\n  - name: proxy\n    match: \"^api\\\\.example\\\\.com:443$\"\n    redirect_to: \"127.0.0.1:8443\"\n"
		"    message: \"via proxy for {{.RemoteAddr}}\"\n"
		"  - {name: sock, match: \":5432$\", redirect_to_unix: /run/pg.sock}\n");
	char ip[64];
	const char *rule = NULL;
	assert_int_equal(policy_dns_redirect(p, "registry.npmjs.org", ip, sizeof(ip), &rule), 1);
	assert_string_equal(ip, "10.0.0.5");
	assert_string_equal(rule, "mirror");
	assert_int_equal(policy_dns_redirect(p, "registryxnpmjs.org", ip, sizeof(ip), NULL), 0);
	assert_int_equal(policy_dns_redirect(p, "registry.npmjs.org", ip, 4, NULL), -ENOSPC);
	struct policy_result r;
	assert_int_equal(policy_connect_redirect(p, "api.example.com", 443, &r), 1);
	assert_int_equal(r.decision, POLICY_REDIRECT);
	assert_string_equal(r.redirect_host, "127.0.0.1");
	assert_int_equal(r.redirect_port, 8443);
	assert_string_equal(r.message, "via proxy for api.example.com");
	assert_int_equal(policy_connect_redirect(p, "api.example.com", 80, &r), 0);
	assert_int_equal(policy_connect_redirect(p, "db.local", 5432, &r), 1);
	assert_string_equal(r.redirect_unix, "/run/pg.sock");
	policy_free(p);
}

static void test_defaults_block(void **st)
{
	(void)st;
	struct policy *p = load("version: 1\nname: t\ndefaults: {commands: audit, network: allow, file_read: deny, file_write: approve, unix_sockets: allow, signals: allow}\n");
	struct policy_result r;
	const char *a[] = { "x" };
	policy_check_exec(p, "/bin/x", 1, a, &r);
	assert_int_equal(r.decision, POLICY_AUDIT);
	policy_check_net_name(p, "x.com", 1, &r);
	assert_int_equal(r.decision, POLICY_ALLOW);
	policy_check_file(p, POLICY_FILE_READ, "/x", &r);
	assert_int_equal(r.decision, POLICY_DENY);
	policy_check_file(p, POLICY_FILE_MKDIR, "/x", &r);
	assert_int_equal(r.decision, POLICY_APPROVE);
	policy_check_unix(p, POLICY_UNIX_CONNECT, "/x", false, &r);
	assert_int_equal(r.decision, POLICY_ALLOW);
	assert_true(policy_filters_signals(p));
	struct policy_default_decisions dd;
	policy_defaults(p, &dd);
	assert_int_equal(dd.file_read, POLICY_DENY);
	assert_int_equal(dd.commands, POLICY_AUDIT);
	assert_true(dd.signals_filtered);
	policy_free(p);
}

static void test_env(void **st)
{
	(void)st;
	struct policy *p = load("version: 1\nname: t\nenv_policy: {deny: [\"*_TOKEN\"], max_keys: 5}\n"
		"env_inject: {BASH_ENV: /etc/agentsh/bashenv}\ncommand_rules:\n"
		"  - name: strict\n    commands: [node]\n    env_allow: [PATH, HOME]\n    decision: allow\n");
	const char *envp[] = { "PATH=/bin", "HOME=/h", "GITHUB_TOKEN=x", "MY_TOKEN=y", "AWS_SECRET_ACCESS_KEY=z",
			       "LD_PRELOAD=/x.so", "BASH_ENV=/evil", "TERM=xterm", NULL };
	const char *out[16];
	size_t n;
	assert_int_equal(policy_env_filter(p, NULL, envp, out, 16, &n), 0);
	assert_int_equal(n, 4);  /* PATH HOME TERM + injected BASH_ENV */
	assert_string_equal(out[0], "PATH=/bin");
	assert_string_equal(out[2], "TERM=xterm");
	assert_string_equal(out[3], "BASH_ENV=/etc/agentsh/bashenv");
	struct policy_result r;
	const char *a[] = { "node" };
	policy_check_exec(p, "/usr/bin/node", 1, a, &r);
	assert_int_equal(policy_env_filter(p, &r, envp, out, 16, &n), 0);
	assert_int_equal(n, 3);  /* PATH HOME + BASH_ENV */
	const char *many[] = { "A=1", "B=2", "C=3", "D=4", "E=5", "F=6", NULL };
	assert_int_equal(policy_env_filter(p, NULL, many, out, 16, &n), -E2BIG);
	assert_int_equal(policy_env_filter(p, NULL, many, out, 2, &n), -ENOSPC);
	assert_false(policy_env_allowed(p, NULL, "LD_PRELOAD"));
	assert_true(policy_env_allowed(p, NULL, "TERM"));
	assert_false(policy_env_allowed(p, &r, "TERM"));      /* node's own allow list */
	assert_false(policy_env_block_iteration(p, NULL));
	policy_free(p);
}

static void test_embedded_default(void **st)
{
	(void)st;
	size_t len;
	const char *y = policy_embedded_default(&len);
	assert_true(len > 100);
	assert_int_equal(y[len], 0);
	struct policy *p;
	assert_int_equal(policy_load_embedded(&V, &p, NULL), 0);
	assert_string_equal(policy_name(p), "default");
	assert_string_equal(policy_source(p), "<embedded>");
	assert_int_equal(strlen(policy_sha256(p)), 64);
	assert_true(policy_file_rule_count(p) > 3);
	struct policy_file_rule_info fi;
	assert_int_equal(policy_file_rule_get(p, 0, &fi), 0);
	assert_int_equal(fi.decision, POLICY_DENY);
	assert_string_equal(fi.globs[0], "/home/a/.ssh/**");
	assert_true(policy_limits(p)->pids_max > 0);
	policy_free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_globs),
		cmocka_unit_test(test_glob_differential),
		cmocka_unit_test(test_files_order_and_vars),
		cmocka_unit_test(test_file_index_differential),
		cmocka_unit_test(test_indexes_match_linear),
		cmocka_unit_test(test_var_values_are_literal),
		cmocka_unit_test(test_commands),
		cmocka_unit_test(test_command_vars),
		cmocka_unit_test(test_context),
		cmocka_unit_test(test_network),
		cmocka_unit_test(test_resolvers),
		cmocka_unit_test(test_signals_unix),
		cmocka_unit_test(test_redirects),
		cmocka_unit_test(test_defaults_block),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_embedded_default),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
