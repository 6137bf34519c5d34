/* check.h: the one check harness of the C tests (unit and zygote). Each
 * check is a TAP line on stdout ("ok N" or "not ok N", naming file, line and
 * condition, what was seen as a "#" line); check_report prints the plan and
 * gives the exit status: 1 if any check failed or none ran. */
#ifndef WB_TEST_CHECK_H
#define WB_TEST_CHECK_H

#include <stdio.h>

static int check_run, check_failed;

static inline int check_one(int ok, const char *file, int line, const char *what)
{
	check_run++;
	if (!ok)
		check_failed++;
	printf("%s %d - %s:%d: %s\n", ok ? "ok" : "not ok", check_run, file, line, what);
	fflush(stdout);
	return ok;
}

#define CHECK(cond) ((void)check_one(!!(cond), __FILE__, __LINE__, #cond))

/* Like CHECK, with a printf-style account of what was seen on failure. */
#define CHECKF(cond, ...) do {                                              \
	if (!check_one(!!(cond), __FILE__, __LINE__, #cond)) {              \
		printf("#   ");                                         \
		printf(__VA_ARGS__);                                        \
		putchar('\n');                                              \
		fflush(stdout);                                             \
	}                                                                   \
} while (0)

/* The exit status: a test that checked nothing proved nothing, and fails. */
static inline int check_report(const char *name)
{
	printf("# %s: %d checks, %d failed\n", name, check_run, check_failed);
	if (!check_run) {
		printf("1..0 # no check ran: that is a failure, not a pass\n");
		return 1;
	}
	printf("1..%d\n", check_run);
	return check_failed ? 1 : 0;
}

#endif
