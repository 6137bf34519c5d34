/* proc_list: prints every pid visible in /proc with its comm, then
 * "count=N" and "self=PID". The job's pid namespace should show only the job
 * init (pid 1) and the program. Expected verdict: OK; the test checks
 * count <= 3 and that pid 1 is not a host process. */
#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	int count = 0;

	if (!d) {
		perror("opendir /proc");
		return 1;
	}
	while ((e = readdir(d))) {
		char path[300], comm[64] = "?";
		FILE *f;

		if (!isdigit((unsigned char)e->d_name[0]))
			continue;
		count++;
		snprintf(path, sizeof(path), "/proc/%s/comm", e->d_name);
		f = fopen(path, "r");
		if (f) {
			if (fgets(comm, sizeof(comm), f))
				comm[strcspn(comm, "\n")] = 0;
			fclose(f);
		}
		printf("pid %s %s\n", e->d_name, comm);
	}
	closedir(d);
	printf("count=%d\nself=%d\n", count, (int)getpid());
	return 0;
}
