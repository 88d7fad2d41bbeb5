/* enforce_mountinfo — the mount point of a /proc/self/mountinfo line, as the
 * cgroup2 root (cgroup.c) and the v1 limit controllers (limits.c) read it: the
 * kernel writes blanks, tabs, newlines and backslashes in a mount point as
 * \ooo, and a path left encoded names a directory that does not exist. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "enforce/enforce_int.h"

static int point(const char *line, char *out, size_t n)
{
	char buf[512];
	snprintf(buf, sizeof buf, "%s", line);
	return enf_mountinfo_point(buf, out, n);
}

static void test_plain(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(point("35 25 0:30 / /sys/fs/cgroup/unified rw,nosuid shared:9 - cgroup2 "
			       "cgroup2 rw,nsdelegate", out, sizeof out), 0);
	assert_string_equal(out, "/sys/fs/cgroup/unified");
}

static void test_escapes_decoded(void **state)
{
	(void)state;
	char out[64];
	assert_int_equal(point("40 25 0:35 / /mnt/cg\\040v1/pids\\011x rw - cgroup cgroup rw,pids",
			       out, sizeof out), 0);
	assert_string_equal(out, "/mnt/cg v1/pids\tx");
	assert_int_equal(point("41 25 0:36 / /a\\134b\\012c rw - cgroup cgroup rw,memory", out,
			       sizeof out), 0);
	assert_string_equal(out, "/a\\b\nc");
	/* not an escape: fewer than three octal digits, or not octal */
	assert_int_equal(point("42 25 0:37 / /a\\08b\\7 rw - cgroup cgroup rw,cpu", out, sizeof out), 0);
	assert_string_equal(out, "/a\\08b\\7");
}

static void test_short_line_and_long_point(void **state)
{
	(void)state;
	char out[8];
	assert_int_equal(point("42 25 0:37 /", out, sizeof out), -EINVAL);
	assert_int_equal(point("", out, sizeof out), -EINVAL);
	assert_int_equal(point("1 2 3:4 / /long/mount rw - cgroup cgroup rw,cpu", out, sizeof out),
			 -ENAMETOOLONG);
	/* the decoded length counts, not the encoded one: "/a b" fits in 8 */
	assert_int_equal(point("1 2 3:4 / /a\\040b\\040c rw - cgroup cgroup rw,cpu", out, sizeof out), 0);
	assert_string_equal(out, "/a b c");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain),
		cmocka_unit_test(test_escapes_decoded),
		cmocka_unit_test(test_short_line_and_long_point),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
