#include <errno.h>
#include <sys/syscall.h>
#include "enforce/notify_sup_int.h"
bool nh_is_signal(int nr) { return nr == __NR_kill || nr == __NR_tkill || nr == __NR_tgkill || nr == __NR_pidfd_send_signal || nr == __NR_rt_sigqueueinfo || nr == __NR_rt_tgsigqueueinfo; }
void nh_signal(struct nreq *r) { nr_error(r, EPERM); }
