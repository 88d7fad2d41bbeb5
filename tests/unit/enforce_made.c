/* enforce_made — the set of what a session created (enforce/notify_made.c):
 * a recorded file is found once and only by its identity (the same name
 * reused by another file is not), a file system object not recorded is not
 * found, and a session that makes and deletes temporaries all day keeps a
 * small table instead of growing it until it stops recording. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "enforce/notify_sup_int.h"

static char dir[64];
static int dfd = -1;
static struct notify n;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/agentsh-made-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	memset(&n, 0, sizeof n);
	return dfd >= 0 && made_init(&n) == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	made_free(&n);
	close(dfd);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void touch(const char *name)
{
	int fd = openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	close(fd);
}

static void test_found_once_by_identity(void **state)
{
	(void)state;
	touch("a");
	touch("old");
	made_record(&n, dfd, "a");
	assert_false(made_take(&n, dfd, "old"));        /* never recorded */
	assert_true(made_take(&n, dfd, "a"));
	assert_false(made_take(&n, dfd, "a"));          /* taken: gone */
	/* the same name, another file: not what was recorded */
	made_record(&n, dfd, "a");
	assert_int_equal(unlinkat(dfd, "a", 0), 0);
	assert_int_equal(renameat(dfd, "old", dfd, "a"), 0);
	assert_false(made_take(&n, dfd, "a"));
	/* by fd, as an O_CREAT open records it */
	touch("b");
	int fd = openat(dfd, "b", O_RDONLY | O_CLOEXEC);
	made_record(&n, fd, "");
	close(fd);
	assert_true(made_take(&n, dfd, "b"));
	assert_false(made_take(&n, dfd, "missing"));
}

static void test_churn_keeps_the_table_small(void **state)
{
	(void)state;
	/* distinct files (kept until the end, so that no inode is reused) */
	char name[32];
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof name, "tmp%d", i);
		touch(name);
		made_record(&n, dfd, name);
		assert_true(made_take(&n, dfd, name));
	}
	assert_true(made_capacity(&n) <= 4096);
	touch("last");
	made_record(&n, dfd, "last");
	assert_true(made_take(&n, dfd, "last"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_found_once_by_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_churn_keeps_the_table_small, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
