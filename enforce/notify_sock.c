#include <errno.h>
#include <sys/syscall.h>
#include "enforce/notify_sup_int.h"
bool nh_is_sock(int nr) { return nr == __NR_connect || nr == __NR_bind || nr == __NR_sendto || nr == __NR_sendmsg || nr == __NR_sendmmsg; }
void nh_sock(struct nreq *r) { nr_error(r, EACCES); }
