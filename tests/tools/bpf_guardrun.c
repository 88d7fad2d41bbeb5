/* Runs one command in a fresh cgroup v2 under a bpf guard and prints every event — a
 * stand-in for the enforce supervisor, for integration tests and for trying rules by hand.
 *   bpf_guardrun [-a] [-d allow|deny|audit] [-r DECISION:CIDR[:LO[-HI]]]... -- CMD [ARG...]
 * -a: exec audit mode (report, don't kill).  Only CMD's own exec is announced (as the
 * notifier would for it); any further exec in the tree is unannounced and therefore killed
 * in enforce mode.  Exit status: CMD's (128+signal when killed); 70 on setup errors. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include "bpf/bpf.h"

static char cg[256];

static void cleanup(void)
{
	char p[300];
	if (!cg[0])
		return;
	snprintf(p, sizeof p, "%s/cgroup.kill", cg);
	int fd = open(p, O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0) { /* nothing left to kill is fine */ }
		close(fd);
	}
	for (int i = 0; i < 200 && rmdir(cg) < 0 && errno == EBUSY; i++)
		usleep(10000);
}

static int parse_decision(const char *s, size_t n, enum bpf_net_decision *d)
{
	if (n == 5 && !strncmp(s, "allow", 5))
		*d = BPF_NET_ALLOW;
	else if (n == 4 && !strncmp(s, "deny", 4))
		*d = BPF_NET_DENY;
	else if (n == 5 && !strncmp(s, "audit", 5))
		*d = BPF_NET_AUDIT;
	else
		return -1;
	return 0;
}

/* DECISION:CIDR[:LO[-HI]] — an IPv6 CIDR goes in brackets: deny:[::1]/128:80 */
static int parse_rule(const char *arg, uint32_t id, struct bpf_net_rule *r)
{
	char buf[128], *cidr = buf, *p, *pre = NULL, *ports = NULL;
	const char *colon = strchr(arg, ':');
	memset(r, 0, sizeof *r);
	if (!colon || parse_decision(arg, (size_t)(colon - arg), &r->decision))
		return -1;
	snprintf(buf, sizeof buf, "%s", colon + 1);
	if (*cidr == '[') {
		cidr++;
		if (!(p = strchr(cidr, ']')))
			return -1;
		*p++ = 0;
	} else {
		p = cidr + strcspn(cidr, "/:");
	}
	if (*p == '/') {
		*p++ = 0;
		pre = p;
		p += strspn(p, "0123456789");
	}
	if (*p == ':') {
		*p++ = 0;
		ports = p;
	} else if (*p) {
		return -1;
	}
	r->family = strchr(cidr, ':') ? AF_INET6 : AF_INET;
	if (inet_pton(r->family, cidr, r->addr) != 1)
		return -1;
	r->prefix = (uint8_t)(pre ? atoi(pre) : (r->family == AF_INET ? 32 : 128));
	r->port_hi = 65535;
	if (ports) {
		r->port_lo = (uint16_t)atoi(ports);
		const char *dash = strchr(ports, '-');
		r->port_hi = dash ? (uint16_t)atoi(dash + 1) : r->port_lo;
	}
	r->rule_id = id;
	return 0;
}

static void print_addr(const struct bpf_event *e)
{
	char a[INET6_ADDRSTRLEN] = "?";
	inet_ntop(e->net.family, e->net.addr, a, sizeof a);
	printf(" addr=%s port=%u proto=%u op=%u rule=%d", a, e->net.port, e->net.proto, e->net.op,
	       e->net.rule_id == UINT32_MAX ? -1 : (int)e->net.rule_id);
}

static void on_event(void *ctx, const struct bpf_event *e)
{
	(void)ctx;
	printf("%s pid=%d ppid=%d comm=%s", bpf_event_type_name(e->type), e->pid, e->ppid, e->comm);
	switch (e->type) {
	case BPF_EV_EXEC: case BPF_EV_EXEC_KILLED: case BPF_EV_EXEC_MISMATCH:
		printf(" file=%s why=%d%s", e->filename, e->exec.why,
		       e->flags & BPF_EVF_SCRIPT ? " script" : "");
		break;
	case BPF_EV_EXIT:
		if (WIFSIGNALED(e->exit_status))
			printf(" signal=%d", WTERMSIG(e->exit_status));
		else
			printf(" status=%d", WEXITSTATUS(e->exit_status));
		break;
	case BPF_EV_NET_DENIED: case BPF_EV_NET_AUDIT: case BPF_EV_SOCK_DENIED:
		print_addr(e);
		break;
	case BPF_EV_LOST:
		printf(" lost=%llu", (unsigned long long)e->lost);
		break;
	default:
		break;
	}
	printf("\n");
	fflush(stdout);
}

/* Announce what the kernel will run for `path`: the file, or its #! interpreter. */
static int announce(struct bpf_guard *g, pid_t pid, const char *path)
{
	struct stat st, ist = { 0 };
	char line[256] = "";
	if (stat(path, &st) < 0)
		return -errno;
	FILE *f = fopen(path, "re");
	if (f && fgets(line, sizeof line, f) && !strncmp(line, "#!", 2)) {
		char *ip = line + 2 + strspn(line + 2, " \t");
		ip[strcspn(ip, " \t\n")] = 0;
		if (stat(ip, &ist) < 0) {
			fclose(f);
			return -errno;
		}
	}
	if (f)
		fclose(f);
	return bpf_guard_expect_exec(g, pid, st.st_dev, st.st_ino, ist.st_dev, ist.st_ino);
}

static int cgroup_empty(void)
{
	char p[300], buf[256];
	snprintf(p, sizeof p, "%s/cgroup.events", cg);
	int fd = open(p, O_RDONLY);
	if (fd < 0)
		return 1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	return strstr(buf, "populated 0") != NULL;
}

/* The cgroup2 mount point (bpf_probe() knows it too, but loads every program to find out). */
static int cgroup2_mount(char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[1024], mnt[256], fs[64];
	int found = 0;
	while (f && !found && fgets(line, sizeof line, f)) {
		const char *sep = strstr(line, " - ");
		found = sep && sscanf(line, "%*s %*s %*s %*s %255s", mnt) == 1 &&
			sscanf(sep + 3, "%63s", fs) == 1 && !strcmp(fs, "cgroup2");
	}
	if (f)
		fclose(f);
	if (found)
		snprintf(out, len, "%s", mnt);
	return found ? 0 : -1;
}

static int setup(int argc, char **argv, struct bpf_guard **g, int *cmd_at)
{
	char root[256];
	int audit = 0, opt, nr = 0, err;
	struct bpf_net_rule rules[64];
	enum bpf_net_decision def = BPF_NET_DENY;
	while ((opt = getopt(argc, argv, "ad:r:")) != -1) {
		if (opt == 'a')
			audit = 1;
		else if (opt == 'd' && !parse_decision(optarg, strlen(optarg), &def))
			continue;
		else if (opt == 'r' && nr < 64 && !parse_rule(optarg, (uint32_t)nr, &rules[nr]))
			nr++;
		else
			return fprintf(stderr, "bpf_guardrun: bad option near '%s'\n", optarg ? optarg : "?"), -1;
	}
	if (optind >= argc)
		return fprintf(stderr, "usage: bpf_guardrun [-a] [-d DEC] [-r DEC:CIDR[:LO[-HI]]]... -- CMD...\n"), -1;
	*cmd_at = optind;
	if (cgroup2_mount(root, sizeof root))
		return fprintf(stderr, "bpf_guardrun: no cgroup2 mount\n"), -1;
	snprintf(cg, sizeof cg, "%.200s/agentsh-guardrun-%d", root, (int)getpid());
	if (mkdir(cg, 0755) < 0)
		return fprintf(stderr, "bpf_guardrun: mkdir %s: %s\n", cg, strerror(errno)), -1;
	atexit(cleanup);
	int fd = open(cg, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if ((err = bpf_guard_open(fd, g)))
		return fprintf(stderr, "bpf_guardrun: loading the guard on %s: %s\n", cg, strerror(-err)), -1;
	close(fd);
	for (int i = 0; i < nr; i++)
		if ((err = bpf_guard_net_add(*g, &rules[i])))
			return fprintf(stderr, "bpf_guardrun: rule %d: %s\n", i, strerror(-err)), -1;
	if (bpf_guard_net_default(*g, def) || (audit && bpf_guard_exec_mode(*g, BPF_EXEC_AUDIT)))
		return -1;
	struct bpf_pin_report pr;
	struct stat cst;
	printf("cgroup %s\n", cg);
	if (!stat(cg, &cst))	/* a cgroup's id is its inode number on cgroup2 */
		printf("cgid %llu\n", (unsigned long long)cst.st_ino);
	if (!bpf_pin_report(&pr))
		printf("pins %s\n", pr.dir);
	fflush(stdout);
	return 0;
}

int main(int argc, char **argv)
{
	struct bpf_guard *g;
	int at, go[2], st = 0;
	if (setup(argc, argv, &g, &at) || pipe2(go, O_CLOEXEC))
		return 70;
	pid_t c = fork();
	if (c == 0) {
		char b, pid[32], p[300];
		snprintf(pid, sizeof pid, "%d\n", (int)getpid());
		snprintf(p, sizeof p, "%s/cgroup.procs", cg);
		int fd = open(p, O_WRONLY);
		if (fd < 0 || write(fd, pid, strlen(pid)) < 0 || read(go[0], &b, 1) != 1)
			_exit(70);
		execv(argv[at], argv + at);
		_exit(127);
	}
	close(go[0]);
	int err = announce(g, c, argv[at]);
	if (err)
		fprintf(stderr, "bpf_guardrun: cannot announce %s: %s\n", argv[at], strerror(-err));
	if (write(go[1], "g", 1) != 1)
		return 70;
	close(go[1]);
	int done = 0;
	while (!done || !cgroup_empty()) {
		bpf_guard_poll(g, 50, on_event, NULL);
		if (!done && waitpid(c, &st, WNOHANG) == c)
			done = 1;
	}
	while (bpf_guard_poll(g, 100, on_event, NULL) > 0)
		;
	bpf_guard_close(g);
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}
