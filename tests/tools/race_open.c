/* race_open — a second thread swaps the path between an allowed and a denied
 * file while the first opens it for writing, TRIES times.  Success for the
 * attacker = an fd on the denied file.  Prints the count; exit 0 only when
 * it is 0 (the supervisor emulates the open, so the swap cannot matter).
 *
 * usage: race_open [TRIES]   (default 20000; needs root) */
#include <pthread.h>
#include <stdatomic.h>

#include "../unit/enforce_notify_harness.h"

static const char *POLICY =
	"version: 1\nname: race-open\nfile_rules:\n"
	"  - name: deny-secret\n    paths: [\"WS/secret\"]\n    operations: [write, create]\n"
	"    decision: deny\n"
	"  - name: ws\n    paths: [\"WS/**\"]\n    operations: [\"*\"]\n    decision: allow\n";

static char ws[256], okp[300], secp[300];
static char buf[300] __attribute__((aligned(64)));
static atomic_bool stop;
static long tries = 20000;

static void *flipper(void *a)
{
	(void)a;
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		memcpy(buf, secp, strlen(secp) + 1);
		memcpy(buf, okp, strlen(okp) + 1);
	}
	return NULL;
}

struct result { long leaks, opened, denied; };

static int child(void *arg)
{
	struct stat sec;
	pthread_t t;
	struct result r = { 0 };
	int out = *(int *)arg;

	if (stat(secp, &sec) < 0)
		return 2;
	memcpy(buf, okp, strlen(okp) + 1);
	pthread_create(&t, NULL, flipper, NULL);
	for (long i = 0; i < tries; i++) {
		int fd = open(buf, O_WRONLY | O_APPEND);
		if (fd < 0) {
			r.denied++;
			continue;
		}
		struct stat st;
		if (fstat(fd, &st) == 0 && st.st_ino == sec.st_ino && st.st_dev == sec.st_dev)
			r.leaks++;
		else
			r.opened++;
		close(fd);
	}
	atomic_store(&stop, true);
	pthread_join(t, NULL);
	return write(out, &r, sizeof r) == sizeof r ? 0 : 3;
}

int main(int argc, char **argv)
{
	int pp[2];
	struct result r = { -1, -1, -1 };

	if (argc > 1)
		tries = atol(argv[1]);
	if (geteuid() != 0) {
		printf("race_open needs root (the supervisor switches to the target's uid)\n");
		return 77;
	}
	h_mkws(ws, sizeof ws, "race-open");
	snprintf(okp, sizeof okp, "%s/ok", ws);
	snprintf(secp, sizeof secp, "%s/secret", ws);
	for (int i = 0; i < 2; i++) {
		int fd = open(i ? secp : okp, O_WRONLY | O_CREAT, 0666);
		fchmod(fd, 0666);
		close(fd);
	}
	struct policy *p = h_policy(POLICY, ws);
	if (!p || pipe(pp) < 0)
		return 2;
	int code = h_code(h_run(p, child, &pp[1], NULL));
	close(pp[1]);
	if (read(pp[0], &r, sizeof r) != sizeof r)
		code = code ? code : 4;
	struct stat st;
	stat(secp, &st);
	printf("race_open: %ld tries, %ld leaks (fd on the denied file), %ld allowed opens, "
	       "%ld denied; secret size %lld\n", tries, r.leaks, r.opened, r.denied,
	       (long long)st.st_size);
	h_rmrf(ws);
	policy_free(p);
	return code == 0 && r.leaks == 0 && st.st_size == 0 ? 0 : 1;
}
