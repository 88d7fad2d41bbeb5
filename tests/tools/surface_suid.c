/* surface_suid — the setuid-root privilege split, for tests: installed setuid
 * root and run by an account, it calls enforce_privilege_init() and prints what
 * it became, then (with an argument) sleeps so that another process of the same
 * account can try to signal and read it. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <unistd.h>

#include "enforce/enforce.h"

int main(int argc, char **argv)
{
	uid_t inv;
	gid_t ginv;
	char err[256] = "";
	int mode = enforce_privilege_init(&inv, &ginv, err, sizeof err);
	if (mode < 0) {
		fprintf(stderr, "surface_suid: %s\n", err);
		return 1;
	}
	uid_t r, e, s;
	getresuid(&r, &e, &s);
	printf("mode=%d invoker=%u uids=%u,%u,%u dumpable=%d\n", mode, (unsigned)inv, (unsigned)r,
	       (unsigned)e, (unsigned)s, prctl(PR_GET_DUMPABLE));
	fflush(stdout);
	if (argc > 1)
		sleep((unsigned)atoi(argv[1]));
	return 0;
}
