/* Test payload for the bpf exec-verification tests.  Its FIRST action is to create the
 * marker file, so a marker that is missing proves no code of this program ran.
 *   bpf_marker MARKER [fork N] [exec PATH ARG...] [exit N]   (steps run left to right) */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>

int main(int argc, char **argv)
{
	if (argc < 2)
		return 64;
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_APPEND, 0644);
	if (fd < 0 || write(fd, "ran\n", 4) != 4)
		return 65;
	close(fd);
	for (int i = 2; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "exit"))
			return atoi(argv[i + 1]);
		if (!strcmp(argv[i], "fork")) {
			pid_t p = fork();
			if (p == 0)
				_exit(atoi(argv[i + 1]));
			waitpid(p, NULL, 0);
		} else if (!strcmp(argv[i], "exec")) {
			execv(argv[i + 1], argv + i + 1);
			return 66;
		}
	}
	return 0;
}
