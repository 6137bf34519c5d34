/* hostile_kill HOSTPID: kill(-1, SIGKILL), kill(HOSTPID, SIGKILL) and
 * ptrace(PTRACE_ATTACH, HOSTPID) from inside the job; prints each result.
 * Expected: the host process HOSTPID survives, both kills fail (ESRCH), and
 * under every shipped policy the ptrace is SV; "ptrace=ok" is an isolation
 * failure.
 * Refuses to run outside a pid namespace: kill(-1) on a host is a disaster. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <unistd.h>

static void report(const char *what, long rc)
{
	printf("%s=%s%s\n", what, rc == 0 ? "ok" : "fail ", rc == 0 ? "" : strerror(errno));
	fflush(stdout);
}

int main(int argc, char **argv)
{
	pid_t victim = argc > 1 ? (pid_t)atoi(argv[1]) : 0;

	if (getpid() > 50 || victim <= 0) {
		fprintf(stderr, "hostile_kill: only inside a sandbox, with a pid\n");
		return 100;
	}
	printf("mypid=%d\n", (int)getpid());
	report("kill_all", kill(-1, SIGKILL));
	report("kill_victim", kill(victim, SIGKILL));
	report("kill0_victim", kill(victim, 0));
	report("ptrace", ptrace(PTRACE_ATTACH, victim, NULL, NULL));
	return 0;
}
