/* setuid_probe BINARY [ARGS]: checks that the job is unprivileged (uid and
 * euid not 0, no_new_privs set, CapEff/CapPrm/CapBnd/CapAmb all zero), then
 * fork+execs BINARY (a setuid-root program of the host) and watches the
 * child's Uid line in /proc until it exits: an effective or saved uid of 0
 * means the setuid bit worked. Prints "name=value" lines; exit 0 when
 * nothing was gained, 1 otherwise. "setuid_bit=absent" means the bit is not
 * visible inside, so the exec part proves nothing; "owner=" other than 0
 * means root is not mapped (user namespace), so it proves little. Needs
 * --procs >= 2.
 * Expected verdict: OK. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int bad;

static void check_status(const char *path, const char *label)
{
	char line[256];
	FILE *f = fopen(path, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		unsigned r, e, s, fs;
		unsigned long long cap;

		if (sscanf(line, "Uid: %u %u %u %u", &r, &e, &s, &fs) == 4 && (!r || !e || !s || !fs)) {
			printf("%s_root_uid=%u %u %u %u\n", label, r, e, s, fs);
			bad = 1;
		}
		if (!strcmp(label, "self") && !strncmp(line, "Cap", 3) &&
		    sscanf(strchr(line, ':') + 1, "%llx", &cap) == 1) {
			line[6] = 0;
			printf("%s=%llx\n", line, cap);
			if (cap && strcmp(line, "CapInh"))
				bad = 1;
		}
	}
	fclose(f);
}

int main(int argc, char **argv)
{
	struct stat st;
	char path[64];
	int nnp = prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0);

	printf("uid=%d euid=%d no_new_privs=%d\n", (int)getuid(), (int)geteuid(), nnp);
	if (getuid() == 0 || geteuid() == 0 || nnp != 1)
		bad = 1;
	check_status("/proc/self/status", "self");
	if (argc < 2 || stat(argv[1], &st) != 0 || !(st.st_mode & S_ISUID)) {
		printf("setuid_bit=absent\n");
		return bad;
	}
	printf("setuid_bit=present owner=%u\n", (unsigned)st.st_uid);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		dup2(null, 0);
		execv(argv[1], argv + 1);
		_exit(127);
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	for (int i = 0; i < 5000; i++) {
		siginfo_t si = { 0 };
		check_status(path, "child");
		if (bad)
			break;
		if (waitid(P_PID, pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == pid)
			break;
		usleep(1000);
	}
	check_status(path, "child"); /* a zombie still shows its last credentials */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	printf("child_done bad=%d\n", bad);
	return bad;
}
