/* Placeholder so enforce can link against bpf/bpf.h while the loader is written.
 * Every entry point fails closed with -ENOSYS. */
#include <errno.h>
#include <stddef.h>
#include "bpf/bpf.h"

int bpf_guard_open(int cgroup_v2_fd, struct bpf_guard **out) { (void)cgroup_v2_fd; *out = NULL; return -ENOSYS; }
void bpf_guard_close(struct bpf_guard *g) { (void)g; }
int bpf_guard_expect_exec(struct bpf_guard *g, pid_t pid, dev_t dev, ino_t ino, dev_t idev, ino_t iino)
{ (void)g; (void)pid; (void)dev; (void)ino; (void)idev; (void)iino; return -ENOSYS; }
int bpf_guard_unexpect_exec(struct bpf_guard *g, pid_t pid) { (void)g; (void)pid; return -ENOSYS; }
int bpf_guard_exec_mode(struct bpf_guard *g, enum bpf_exec_mode m) { (void)g; (void)m; return -ENOSYS; }
int bpf_guard_net_add(struct bpf_guard *g, const struct bpf_net_rule *r) { (void)g; (void)r; return -ENOSYS; }
int bpf_guard_net_default(struct bpf_guard *g, enum bpf_net_decision d) { (void)g; (void)d; return -ENOSYS; }
int bpf_guard_dns_redirect(struct bpf_guard *g, uint32_t ip4, uint16_t port) { (void)g; (void)ip4; (void)port; return -ENOSYS; }
int bpf_guard_poll(struct bpf_guard *g, int t, void (*cb)(void *, const struct bpf_event *), void *ctx)
{ (void)g; (void)t; (void)cb; (void)ctx; return -ENOSYS; }
int bpf_guard_fd(const struct bpf_guard *g) { (void)g; return -ENOSYS; }
int bpf_probe(struct bpf_probe_report *r) { (void)r; return -ENOSYS; }
const char *bpf_net_decision_name(enum bpf_net_decision d) { (void)d; return "?"; }
const char *bpf_event_type_name(enum bpf_event_type t) { (void)t; return "?"; }
