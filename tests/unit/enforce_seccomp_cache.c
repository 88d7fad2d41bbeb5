/* enforce_seccomp_cache — the exported seccomp program kept between sessions
 * (enforce/seccomp_cache.c): a kept program is what libseccomp would build for
 * that shape, each shape has its own, and a kept file that is not exactly what
 * was written (damaged, truncated, open to others, a symlink, another build)
 * is never loaded: the session builds the program itself. */
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
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
#include "enforce/notify_int.h"
#include "policy/policy.h"

static char dir[64], cache[96], nocache[96];

static const char reads_yaml[] =
	"version: 1\n"
	"name: reads\n"
	"file_rules:\n"
	"  - name: secrets\n"
	"    paths: [\"**/.env\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: deny\n"
	"  - name: all\n"
	"    paths: [\"/**\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: allow\n";

static const char writes_yaml[] =
	"version: 1\n"
	"name: writes\n"
	"file_rules:\n"
	"  - name: etc\n"
	"    paths: [\"/etc/**\"]\n"
	"    operations: [write, create]\n"
	"    decision: deny\n"
	"  - name: all\n"
	"    paths: [\"/**\"]\n"
	"    operations: [\"*\"]\n"
	"    decision: allow\n";

static struct policy *load(const char *y)
{
	struct policy_vars v = { .home = "/root", .workspace = "/tmp", .tmpdir = "/tmp", .user = "root" };
	struct policy *p = NULL;
	assert_int_equal(policy_load_buffer(y, strlen(y), "<test>", &v, &p, NULL), 0);
	return p;
}

/* The program enf_seccomp_prepare() gives a session, with the cache in `where`. */
static struct enf_filter prepare(const char *where, struct policy *p, unsigned flags)
{
	struct enforce_session s;
	memset(&s, 0, sizeof s);
	s.cfg.policy = p;
	enf_seccomp_cache_dir = where;
	if (enf_seccomp_prepare(&s, flags) < 0)
		fail_msg("enf_seccomp_prepare: %s", s.err);
	assert_non_null(s.filter.prog);
	assert_true(s.filter.notify == (p != NULL));
	return s.filter;
}

static bool same(const struct enf_filter *a, const struct enf_filter *b)
{
	return a->len == b->len && !memcmp(a->prog, b->prog, a->len * sizeof(struct sock_filter));
}

/* The one kept file of the cache directory (the test keeps at most one). */
static void kept_path(char *out, size_t n)
{
	char cmd[256];
	snprintf(cmd, sizeof cmd, "ls %s/*.bpf", cache);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, (int)n, f));
	out[strcspn(out, "\n")] = 0;
	assert_null(fgets(cmd, sizeof cmd, f));     /* only one */
	pclose(f);
}

static void t_kept_program_is_the_built_one(void **st)
{
	(void)st;
	struct policy *p = load(reads_yaml);
	struct enf_filter fresh = prepare(nocache, p, 0);
	struct enf_filter first = prepare(cache, p, 0);     /* a miss: built and kept */
	char path[256];
	struct stat sb;
	kept_path(path, sizeof path);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(stat(cache, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	struct enf_filter second = prepare(cache, p, 0);    /* a hit */
	assert_true(same(&fresh, &first));
	assert_true(same(&fresh, &second));

	/* and the hit really is the kept file: keep another program under this
	 * shape and the next session loads that one */
	unsigned shape = 1u | enforce_notify_filter_shape(p, 0) << 1;
	struct sock_filter ret_allow[] = { BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW) };
	struct enf_filter other = { .prog = ret_allow, .len = 1 };
	enf_seccomp_cache_store(shape, &other);
	struct enf_filter third = prepare(cache, p, 0);
	assert_true(same(&other, &third));
	free(fresh.prog);
	free(first.prog);
	free(second.prog);
	free(third.prog);
	policy_free(p);
}

static void t_each_shape_has_its_own(void **st)
{
	(void)st;
	struct policy *r = load(reads_yaml), *w = load(writes_yaml);
	struct enf_filter rf = prepare(cache, r, 0), wf = prepare(cache, w, 0);
	struct enf_filter none = prepare(cache, NULL, 0);
	assert_false(same(&rf, &wf));               /* read-only opens notified or not */
	assert_false(same(&rf, &none));
	struct enf_filter rf2 = prepare(cache, r, 0), wf2 = prepare(cache, w, 0);
	struct enf_filter none2 = prepare(cache, NULL, 0);
	assert_true(same(&rf, &rf2));
	assert_true(same(&wf, &wf2));
	assert_true(same(&none, &none2));
	/* the read-gating policy with its reads on the floor has the other's shape */
	struct enf_filter rn = prepare(cache, r, NOTIFY_RULES_NO_READS);
	assert_true(same(&rn, &wf));
	struct enf_filter *all[] = { &rf, &wf, &none, &rf2, &wf2, &none2, &rn };
	for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
		free(all[i]->prog);
	policy_free(r);
	policy_free(w);
}

enum damage { FLIP_PROGRAM, FLIP_BUILD, TRUNCATE, OPEN_TO_OTHERS, SYMLINK, EMPTY };

static void damage(const char *path, enum damage how)
{
	int fd;
	unsigned char c;
	switch (how) {
	case FLIP_PROGRAM:
	case FLIP_BUILD:
		fd = open(path, O_RDWR);
		assert_true(fd >= 0);
		off_t at = how == FLIP_PROGRAM ? lseek(fd, -3, SEEK_END) : 12;
		assert_int_equal(pread(fd, &c, 1, at), 1);
		c ^= 0x10;
		assert_int_equal(pwrite(fd, &c, 1, at), 1);
		close(fd);
		break;
	case TRUNCATE:
		assert_int_equal(truncate(path, 100), 0);
		break;
	case OPEN_TO_OTHERS:
		assert_int_equal(chmod(path, 0644), 0);
		break;
	case SYMLINK: {
		char moved[300];
		snprintf(moved, sizeof moved, "%s.real", path);
		assert_int_equal(rename(path, moved), 0);
		assert_int_equal(symlink(moved, path), 0);
		break;
	}
	case EMPTY:
		assert_int_equal(truncate(path, 0), 0);
		break;
	}
}

static void t_damaged_file_is_a_miss(void **st)
{
	(void)st;
	struct policy *p = load(reads_yaml);
	struct enf_filter fresh = prepare(nocache, p, 0);
	for (enum damage how = FLIP_PROGRAM; how <= EMPTY; how++) {
		char path[256], moved[300];
		struct enf_filter f = prepare(cache, p, 0);
		free(f.prog);
		kept_path(path, sizeof path);
		damage(path, how);
		f = prepare(cache, p, 0);
		if (!same(&fresh, &f))
			fail_msg("damage %d: a damaged kept file was loaded", (int)how);
		free(f.prog);
		unlink(path);
		snprintf(moved, sizeof moved, "%s.real", path);
		unlink(moved);
	}
	free(fresh.prog);
	policy_free(p);
}

static int setup(void **st)
{
	(void)st;
	snprintf(dir, sizeof dir, "/tmp/agentsh-scc-%d", (int)getpid());
	snprintf(cache, sizeof cache, "%s/run/seccomp", dir);
	snprintf(nocache, sizeof nocache, "%s/file/seccomp", dir);  /* beneath a file: never kept */
	char p[128];
	if (mkdir(dir, 0700) < 0)
		return -1;
	snprintf(p, sizeof p, "%s/file", dir);
	int fd = open(p, O_CREAT | O_WRONLY, 0600);
	if (fd < 0)
		return -1;
	close(fd);
	return 0;
}

static int reset(void **st)
{
	(void)st;
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s/run", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int teardown(void **st)
{
	(void)st;
	char cmd[160];
	snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(t_kept_program_is_the_built_one, reset),
		cmocka_unit_test_setup(t_each_shape_has_its_own, reset),
		cmocka_unit_test_setup(t_damaged_file_is_a_miss, reset),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
