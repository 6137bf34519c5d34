/* ipc_probe create|check KIND...: KIND is "files" (/tmp/x and /box/y),
 * "shm" (SysV segment with key 1234) or "mq" (POSIX queue /wbq). "create"
 * leaves them behind, printing "NAME=created" or "NAME=fail ERR"; "check"
 * looks for them in a later job, printing "NAME=found" or "NAME=absent", and
 * exits 1 if any was found.
 * Expected under the default policy: create files OK, create shm and mq SV
 * (shmget and mq_open refused: nothing can leak through them); check OK
 * with everything absent.
 * Refuses to run outside a pid namespace (it would leave its objects on the
 * host). */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <stdio.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <unistd.h>

static int found;

static void say(const char *name, int ok, int creating)
{
	if (creating)
		printf("%s=%s%s\n", name, ok ? "created" : "fail ", ok ? "" : strerror(errno));
	else
		printf("%s=%s\n", name, ok ? "found" : "absent");
	found |= ok && !creating;
	fflush(stdout);
}

int main(int argc, char **argv)
{
	int create = argc > 1 && strcmp(argv[1], "create") == 0;

	if (getpid() > 50) {
		fprintf(stderr, "ipc_probe: only inside a sandbox\n");
		return 100;
	}
	for (int k = 2; k < argc; k++) {
		if (!strcmp(argv[k], "files")) {
			const char *files[] = { "/tmp/x", "/box/y" };
			for (int i = 0; i < 2; i++) {
				int fd = create ? open(files[i], O_WRONLY | O_CREAT, 0644)
						: open(files[i], O_RDONLY);
				say(files[i], fd >= 0, create);
				if (fd >= 0)
					close(fd);
			}
		} else if (!strcmp(argv[k], "shm")) {
			int id = shmget(1234, 4096, create ? IPC_CREAT | 0666 : 0);
			if (create && id >= 0) {
				char *p = shmat(id, NULL, 0);
				if (p != (void *)-1)
					strcpy(p, "left behind");
			}
			say("shm1234", id >= 0, create);
		} else if (!strcmp(argv[k], "mq")) {
			struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = 16 };
			mqd_t q = create ? mq_open("/wbq", O_CREAT | O_RDWR, 0666, &attr)
					 : mq_open("/wbq", O_RDONLY);
			say("mq_wbq", q != (mqd_t)-1, create);
		}
	}
	return found;
}
