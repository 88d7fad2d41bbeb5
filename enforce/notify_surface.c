/* notify_surface.c — the syscall surface's refusals, answered here so that
 * they are audited (an in-kernel errno is reported to nobody).
 *
 * The decision was taken by the filter (seccomp.c): only refused calls are
 * notified.  The answer is the same errno the in-kernel rule gives, computed
 * from the syscall number and registers; the target's memory is never read,
 * no credentials are switched and nothing blocks. */
#include <stdio.h>

#include "enforce/notify_sup_int.h"

bool nh_surface(struct nreq *r)
{
	struct surface_hit h;
	char rule[64];

	if (!enforce_surface_match(r->nr, r->a, &h))
		return false;
	r->opname = h.name;
	snprintf(r->target, sizeof r->target, "%s", h.target);
	snprintf(rule, sizeof rule, "surface-%s", h.name);
	nd_report_surface(r, rule, h.err, h.why);
	nr_error(r, h.err);
	return true;
}
