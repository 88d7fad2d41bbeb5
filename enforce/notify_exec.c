#include <errno.h>
#include "enforce/notify_sup_int.h"
void nh_exec(struct nreq *r) { nr_error(r, EACCES); }
