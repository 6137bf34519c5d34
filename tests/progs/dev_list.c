/* dev_list: prints every entry of /dev (one a line, "NAME TYPE") and exits 0
 * only when the names are exactly full, null, random, urandom, zero and each
 * is a character device. Expected verdict: OK. No tty, shm, mem, kmsg, pts. */
#include <dirent.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

int main(void)
{
	static const char *const want[] = { "full", "null", "random", "urandom", "zero" };
	int seen[5] = { 0 }, bad = 0;
	DIR *d = opendir("/dev");
	struct dirent *e;

	if (!d) {
		perror("opendir /dev");
		return 1;
	}
	while ((e = readdir(d))) {
		char path[512];
		struct stat st;
		int known = 0;

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "/dev/%s", e->d_name);
		int chr = lstat(path, &st) == 0 && S_ISCHR(st.st_mode);
		printf("%s %s\n", e->d_name, chr ? "chr" : "other");
		for (int i = 0; i < 5; i++)
			if (!strcmp(e->d_name, want[i]) && chr)
				seen[i] = known = 1;
		if (!known)
			bad = 1;
	}
	closedir(d);
	for (int i = 0; i < 5; i++)
		if (!seen[i]) {
			printf("missing %s\n", want[i]);
			bad = 1;
		}
	return bad;
}
