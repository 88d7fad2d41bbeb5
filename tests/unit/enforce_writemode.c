/* enforce_writemode — which policies may leave workspace writes to the kernel
 * (writemode.c).  Every "no" here is a policy under which skipping the notify
 * supervisor for writes would change a decision or lose a record; every "yes"
 * is one whose writes Landlock + the cover mounts decide exactly.  The example
 * policies are loaded from examples/policies/ as shipped. */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "enforce/enforce_int.h"
#include "policy/policy.h"

static char ws[64];
static char why[256];
static struct enf_floor floor1[2];
static size_t nfloor;

static struct policy *load(const char *rules, const char *extra)
{
	char y[8192];
	snprintf(y, sizeof y, "version: 1\nname: wm\nfile_rules:\n%s%s", rules, extra ? extra : "");
	struct policy_vars v = { .home = ws, .workspace = ws, .project_root = ws, .tmpdir = "/tmp",
				 .user = "nobody" };
	struct policy_diags d;
	struct policy *p = NULL;
	policy_diags_init(&d);
	if (policy_load_buffer(y, strlen(y), "<test>", &v, &p, &d) < 0)
		policy_diags_print(&d, stderr);
	policy_diags_free(&d);
	assert_non_null(p);
	return p;
}

static bool decide(const char *rules, const char *extra)
{
	struct policy *p = load(rules, extra);
	bool k = enf_writemode_kernel(p, 7, floor1, nfloor, why, sizeof why);
	printf("# %s: %s\n", k ? "kernel" : "notify", why);
	policy_free(p);
	return k;
}

#define ALLOW_WS "  - name: ws\n    paths: [\"${WORKSPACE}\", \"${WORKSPACE}/**\", \"/dev/**\"]\n" \
		 "    operations: [\"*\"]\n    decision: allow\n"
#define READS "  - name: r\n    paths: [\"/**\"]\n    operations: [read, open, stat, list, readlink, access, exec]\n" \
	      "    decision: allow\n"
#define DENY_SECRET "  - name: deny-secret\n    paths: [\"${WORKSPACE}/secret.txt\"]\n" \
		    "    operations: [\"*\"]\n    decision: deny\n"

static int setup(void **st)
{
	(void)st;
	snprintf(ws, sizeof ws, "/tmp/wm.XXXXXX");
	if (!mkdtemp(ws))
		return -1;
	char p[PATH_MAX];
	snprintf(p, sizeof p, "%s/secret.txt", ws);
	FILE *f = fopen(p, "w");
	if (!f)
		return -1;
	fclose(f);
	snprintf(p, sizeof p, "%s/sub", ws);
	mkdir(p, 0755);
	snprintf(p, sizeof p, "%s/sub/x", ws);
	mkdir(p, 0755);
	return 0;
}

static int teardown(void **st)
{
	(void)st;
	char c[128];
	snprintf(c, sizeof c, "rm -rf %s", ws);
	return system(c) == 0 ? 0 : -1;
}

static void cover(const char *rel, bool dir)
{
	static char path[2][PATH_MAX];
	snprintf(path[nfloor], PATH_MAX, "%s%s", ws, rel);
	floor1[nfloor] = (struct enf_floor){ .path = path[nfloor], .is_dir = dir };
	nfloor++;
}

static void t_plain_tree(void **st)
{
	(void)st;
	nfloor = 0;
	assert_true(decide(ALLOW_WS READS, NULL));
	/* the bench's "everything allowed" policy */
	assert_true(decide("  - name: all\n    paths: [\"/**\"]\n    operations: [\"*\"]\n    decision: allow\n",
			   NULL));
}

static void t_needs_supervisor(void **st)
{
	(void)st;
	nfloor = 0;
	static const char *const d[] = { "audit", "approve", "soft_delete" };
	for (size_t i = 0; i < 3; i++) {
		char r[512];
		snprintf(r, sizeof r, "  - name: x\n    paths: [\"${WORKSPACE}/sub/**\"]\n    operations: [delete]\n"
			 "    decision: %s\n", d[i]);
		strcat(r, ALLOW_WS READS);
		assert_false(decide(r, NULL));
	}
	assert_false(decide("  - name: x\n    paths: [\"${WORKSPACE}/sub/**\"]\n    operations: [write]\n"
			    "    decision: redirect\n    redirect_to: /tmp\n" ALLOW_WS READS, NULL));
	assert_false(decide(ALLOW_WS READS, "audit:\n  log_allowed: true\n"));
	/* bounded trees + log_denied: Landlock's refusals would not be recorded */
	assert_false(decide(ALLOW_WS READS, "audit:\n  log_denied: true\n"));
	/* a partial allow: Landlock cannot grant write without delete */
	assert_false(decide("  - name: ws\n    paths: [\"${WORKSPACE}/**\", \"/dev/**\"]\n"
			    "    operations: [read, write, create]\n    decision: allow\n" READS, NULL));
	/* a glob that is not a whole tree */
	assert_false(decide("  - name: ws\n    paths: [\"${WORKSPACE}/*.c\", \"/dev/**\"]\n"
			    "    operations: [\"*\"]\n    decision: allow\n" READS, NULL));
	/* a chmod-only allow: Landlock grants its prefix every write right */
	assert_false(decide("  - name: c\n    paths: [\"/etc/**\"]\n    operations: [chmod]\n"
			    "    decision: allow\n" ALLOW_WS READS, NULL));
	assert_false(decide("  - name: c\n    paths: [\"/etc/**\"]\n    operations: [xattr]\n"
			    "    decision: audit\n" ALLOW_WS READS, NULL));
	/* a chmod-only deny creates no grant and stays notified: fine */
	assert_true(decide("  - name: c\n    paths: [\"${WORKSPACE}/**/*.sh\"]\n    operations: [chmod]\n"
			   "    decision: deny\n" ALLOW_WS READS, NULL));
	/* devices Landlock always grants but the policy does not */
	assert_false(decide("  - name: ws\n    paths: [\"${WORKSPACE}/**\"]\n    operations: [\"*\"]\n"
			    "    decision: allow\n" READS, NULL));
}

static void t_denies(void **st)
{
	(void)st;
	nfloor = 0;
	/* a glob deny inside the workspace: files created later cannot be covered */
	assert_false(decide("  - name: g\n    paths: [\"**/*.secret\"]\n    operations: [\"*\"]\n"
			    "    decision: deny\n" ALLOW_WS READS, NULL));
	assert_false(decide("  - name: g\n    paths: [\"${WORKSPACE}/**/*.pem\"]\n    operations: [\"*\"]\n"
			    "    decision: deny\n" ALLOW_WS READS, NULL));
	/* a literal deny without a cover (no FUSE, or missing at start) */
	assert_false(decide(DENY_SECRET ALLOW_WS READS, NULL));
	cover("/secret.txt", false);
	assert_true(decide(DENY_SECRET ALLOW_WS READS, NULL));
	/* a file followed by slash-star-star: the policy leaves the file writable, its cover would not */
	assert_false(decide("  - name: d\n    paths: [\"${WORKSPACE}/secret.txt/**\"]\n    operations: [\"*\"]\n"
			    "    decision: deny\n" ALLOW_WS READS, NULL));
	/* after an allow that covers it: first match allows, the cover would refuse */
	assert_false(decide(ALLOW_WS DENY_SECRET READS, NULL));
	/* a deny of writes only: the cover would refuse reads too */
	assert_false(decide("  - name: d\n    paths: [\"${WORKSPACE}/secret.txt\"]\n"
			    "    operations: [write, create, delete, rename, link, symlink, mkdir, rmdir, truncate, mknod]\n"
			    "    decision: deny\n" ALLOW_WS READS, NULL));
	/* a cover whose parent can be renamed inside the tree */
	nfloor = 0;
	cover("/sub/x", true);
	assert_false(decide("  - name: d\n    paths: [\"${WORKSPACE}/sub/x/**\"]\n    operations: [\"*\"]\n"
			    "    decision: deny\n" ALLOW_WS READS, NULL));
	nfloor = 0;
	cover("/sub", true);
	assert_true(decide("  - name: d\n    paths: [\"${WORKSPACE}/sub/**\"]\n    operations: [\"*\"]\n"
			   "    decision: deny\n" ALLOW_WS READS, NULL));
	/* under an unbounded tree every parent is renamable */
	assert_false(decide("  - name: d\n    paths: [\"${WORKSPACE}/sub/**\"]\n    operations: [\"*\"]\n"
			    "    decision: deny\n  - name: all\n    paths: [\"/**\"]\n    operations: [\"*\"]\n"
			    "    decision: allow\n", NULL));
	/* a deny disjoint from every writable tree is Landlock's */
	nfloor = 0;
	assert_true(decide("  - name: d\n    paths: [\"/etc/shadow\", \"/proc/*/mem\"]\n    operations: [\"*\"]\n"
			   "    decision: deny\n" ALLOW_WS READS, NULL));
}

static void t_examples(void **st)
{
	(void)st;
	static const char *const ex[] = { "default", "dev-safe", "ci-strict", "agent-sandbox", "agent-observe" };
	const char *src = getenv("AGENTSH_SRC") ? getenv("AGENTSH_SRC") : ".";
	struct policy_vars v = { .home = ws, .workspace = ws, .project_root = ws, .tmpdir = "/tmp",
				 .user = "nobody" };
	for (size_t i = 0; i < sizeof ex / sizeof ex[0]; i++) {
		char path[PATH_MAX];
		snprintf(path, sizeof path, "%s/examples/policies/%s.yaml", src, ex[i]);
		struct policy_diags d;
		struct policy *p = NULL;
		policy_diags_init(&d);
		int rc = policy_load_file(path, &v, &p, &d);
		policy_diags_free(&d);
		assert_int_equal(rc, 0);
		bool k = enf_writemode_kernel(p, 7, NULL, 0, why, sizeof why);
		printf("# %s: %s: %s\n", ex[i], k ? "kernel" : "notify", why);
		assert_false(k);
		policy_free(p);
	}
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test(t_plain_tree),
		cmocka_unit_test(t_needs_supervisor),
		cmocka_unit_test(t_denies),
		cmocka_unit_test(t_examples),
	};
	return cmocka_run_group_tests(t, setup, teardown);
}
