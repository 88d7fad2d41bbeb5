/* TOTP validation: RFC 6238 vectors (SHA-1), codes computed by the real
 * `oathtool`, the skew window, the replay cache (persisted), malformed codes and
 * a store that is not root-only. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "approve/approve.h"
#include "approve/approve_int.h"        /* this module's own tests: ap_totp_check */

#define SECRET_B32 "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"     /* "12345678901234567890" */

static char dir[64];

static void put_file(const char *name, const char *data, mode_t mode)
{
	char p[160];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, strlen(data)), (ssize_t)strlen(data));
	fchmod(fd, mode);
	close(fd);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/apr-totp.XXXXXX");
	assert_non_null(mkdtemp(dir));
	put_file("alice.totp", SECRET_B32 "\n", 0600);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static void test_rfc6238_vectors(void **state)
{
	/* RFC 6238 appendix B, SHA-1, truncated to 6 digits (value mod 10^6). */
	static const struct { time_t t; const char *code; } v[] = {
		{ 59, "287082" }, { 1111111109, "081804" }, { 1111111111, "050471" },
		{ 1234567890, "005924" }, { 2000000000, "279037" }, { 20000000000, "353130" },
	};
	char who[64];

	(void)state;
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(ap_totp_check(dir, v[i].code, 1, v[i].t, who, sizeof(who)), 0);
		assert_string_equal(who, "alice");
		/* accepted once: the same code at the same time is a replay */
		assert_int_equal(ap_totp_check(dir, v[i].code, 1, v[i].t, who, sizeof(who)), -EALREADY);
	}
	/* a vector's code at a time far away is just wrong */
	assert_int_equal(ap_totp_check(dir, "287082", 1, 1111111109, who, sizeof(who)), -EACCES);
}

static void oathtool_code(time_t t, char out[16])
{
	char cmd[160];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "oathtool --totp -b %s -N @%lld", SECRET_B32, (long long)t);
	assert_non_null(p = popen(cmd, "r"));
	assert_non_null(fgets(out, 16, p));
	pclose(p);
	out[strcspn(out, "\n")] = 0;
	assert_int_equal(strlen(out), 6);
}

static void test_oathtool_and_window(void **state)
{
	time_t now = time(NULL);
	char c0[16], cm1[16], cm2[16], cp1[16], who[64];

	(void)state;
	if (system("command -v oathtool >/dev/null") != 0)
		fail_msg("oathtool missing (make deps installs it)");
	oathtool_code(now, c0);
	oathtool_code(now - 30, cm1);
	oathtool_code(now - 60, cm2);
	oathtool_code(now + 30, cp1);
	assert_int_equal(ap_totp_check(dir, c0, 1, now, who, sizeof(who)), 0);
	assert_int_equal(ap_totp_check(dir, c0, 1, now, who, sizeof(who)), -EALREADY);
	assert_int_equal(ap_totp_check(dir, cm1, 1, now, who, sizeof(who)), 0);    /* one step of skew */
	assert_int_equal(ap_totp_check(dir, cp1, 1, now, who, sizeof(who)), 0);
	if (strcmp(cm2, c0) && strcmp(cm2, cm1) && strcmp(cm2, cp1))
		assert_int_equal(ap_totp_check(dir, cm2, 1, now, who, sizeof(who)), -EACCES);
	/* the replay cache is a root-only file */
	char p[128];
	struct stat st;
	snprintf(p, sizeof(p), "%s/totp-replay", dir);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
}

static void test_malformed_codes(void **state)
{
	char who[64];

	(void)state;
	assert_int_equal(ap_totp_check(dir, "", 1, 59, who, sizeof(who)), -EACCES);
	assert_int_equal(ap_totp_check(dir, "28708", 1, 59, who, sizeof(who)), -EACCES);
	assert_int_equal(ap_totp_check(dir, "2870822", 1, 59, who, sizeof(who)), -EACCES);
	assert_int_equal(ap_totp_check(dir, "28708a", 1, 59, who, sizeof(who)), -EACCES);
	assert_int_equal(ap_totp_check(dir, " 287082", 1, 59, who, sizeof(who)), -EACCES);
	assert_int_equal(ap_totp_check(dir, NULL, 1, 59, who, sizeof(who)), -EACCES);
}

static void test_loose_permissions_refused(void **state)
{
	char who[64];

	(void)state;
	/* a secret readable by others is not trusted */
	put_file("alice.totp", SECRET_B32 "\n", 0644);
	assert_int_not_equal(ap_totp_check(dir, "287082", 1, 59, who, sizeof(who)), 0);
	put_file("alice.totp", SECRET_B32 "\n", 0600);
	/* nor is a store directory others can enter */
	chmod(dir, 0755);
	assert_int_not_equal(ap_totp_check(dir, "287082", 1, 59, who, sizeof(who)), 0);
	chmod(dir, 0700);
	assert_int_equal(ap_totp_check(dir, "287082", 1, 59, who, sizeof(who)), 0);
}

int main(void)
{
	const struct CMUnitTest t[] = {
		cmocka_unit_test_setup_teardown(test_rfc6238_vectors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oathtool_and_window, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_codes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_loose_permissions_refused, setup, teardown),
	};
	return cmocka_run_group_tests(t, NULL, NULL);
}
