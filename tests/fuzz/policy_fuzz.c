/* libFuzzer target for the policy loader: arbitrary bytes as a policy file,
 * then every check kind against whatever loaded, then lint and show; the same
 * bytes as /etc/agentsh/config.yaml and as a `policy test` case file.
 * Must never crash, leak or trip a sanitizer; errors are fine. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "policy/policy.h"

static const struct policy_vars V = { "/home/f", "/home/f/ws", "/home/f/ws", NULL, "/tmp", "f", NULL };

/* The other two parsers read files: hand them the bytes through a memfd. */
static void as_files(const uint8_t *data, size_t size)
{
	int fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd < 0)
		return;
	if (write(fd, data, size) == (ssize_t)size) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		struct agentsh_config *cfg = NULL;
		struct policy_diags d;
		policy_diags_init(&d);
		if (policy_config_load_ex(path, false, &cfg, &d) == 0)
			policy_config_free(cfg);
		policy_diags_free(&d);
		FILE *null = fopen("/dev/null", "w");
		static struct policy *active;
		if (!active && policy_load_embedded(&V, &active, NULL))
			active = NULL;
		if (null && active) {
			/* cases run against the embedded default unless the file names a policy */
			struct policy_cli_env env = { .vars = &V, .is_root = true, .active = active,
						      .out = null, .err = null };
			char *argv[] = { "policy", "test", path, NULL };
			policy_cli(3, argv, &env);
		}
		if (null)
			fclose(null);
	}
	close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct policy *p = NULL;
	struct policy_diags d;
	policy_diags_init(&d);
	if (policy_load_buffer((const char *)data, size, "fuzz.yaml", &V, &p, &d) == 0) {
		struct policy_result r;
		const char *argv[] = { "rm", "-rf", "/home/f/ws" };
		policy_check_file(p, POLICY_FILE_WRITE, "/home/f/ws/a/../.env", &r);
		policy_check_file(p, POLICY_FILE_READ, "/etc/passwd", &r);
		policy_check_exec(p, "/usr/bin/rm", 3, argv, &r);
		policy_check_net_name(p, "api.github.com", 443, &r);
		struct sockaddr_in6 s6 = { .sin6_family = AF_INET6, .sin6_port = htons(80) };
		inet_pton(AF_INET6, "::ffff:10.1.2.3", &s6.sin6_addr);
		policy_check_net(p, (struct sockaddr *)&s6, NULL, &r);
		policy_check_unix(p, POLICY_UNIX_CONNECT, "x", true, &r);
		policy_check_signal(p, 9, POLICY_SIG_EXTERNAL, &r);
		const char *envp[] = { "PATH=/bin", "AWS_X=1", NULL }, *out[8];
		size_t n;
		policy_env_filter(p, NULL, envp, out, 8, &n);
		char ip[64];
		policy_dns_redirect(p, "example.com", ip, sizeof(ip), NULL);
		policy_connect_redirect(p, "example.com", 443, &r);
		policy_lint(p, NULL, &d);
		FILE *f = fopen("/dev/null", "w");
		if (f) {
			policy_show(p, f, size & 1);
			fclose(f);
		}
		policy_free(p);
	}
	FILE *f = fopen("/dev/null", "w");
	if (f) {
		policy_diags_print(&d, f);
		fclose(f);
	}
	policy_diags_free(&d);
	as_files(data, size);
	return 0;
}
