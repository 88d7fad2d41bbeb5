/* Phase timing for `make bench` diagnostics: AGENTSH_TIMING=1 prints, on
 * stderr, the milliseconds since process start at each phase boundary of a
 * run.  Root only: the real uid must be 0, and a setuid agentsh (whose ids
 * all become 0 in the privilege split) scrubs every AGENTSH_* variable of the
 * invoking account before the first mark reads it (main.c), so an account
 * cannot use it to learn how long the supervisor's decisions take. */
#include "shell/shell_int.h"
#include "enforce/enforce.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static int enabled = -1;
static struct timespec t0;

void shell_timing_mark(const char *phase)
{
	struct timespec t;
	if (enabled < 0) {
		const char *e = getenv("AGENTSH_TIMING");
		enabled = shell_priv.mode == ENFORCE_PRIV_ROOT && e && *e == '1';
		clock_gettime(CLOCK_MONOTONIC, &t0);
	}
	if (!enabled)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t);
	fprintf(stderr, "agentsh-timing: %8.3f ms %s\n",
		(double)(t.tv_sec - t0.tv_sec) * 1e3 + (double)(t.tv_nsec - t0.tv_nsec) / 1e6, phase);
}
