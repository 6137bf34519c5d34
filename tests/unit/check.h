/* check.h: the few macros the unit tests share. Each test executable counts
 * its checks and exits non-zero when any failed, naming file and line. */
#ifndef WB_TEST_CHECK_H
#define WB_TEST_CHECK_H

#include <stdio.h>

static int check_run, check_failed;

#define CHECK(cond) do {                                                    \
	check_run++;                                                        \
	if (!(cond)) {                                                      \
		check_failed++;                                             \
		fprintf(stderr, "%s:%d: check failed: %s\n",                \
			__FILE__, __LINE__, #cond);                         \
	}                                                                   \
} while (0)

/* Like CHECK, with a printf-style explanation of what was seen. */
#define CHECKF(cond, ...) do {                                              \
	check_run++;                                                        \
	if (!(cond)) {                                                      \
		check_failed++;                                             \
		fprintf(stderr, "%s:%d: check failed: %s: ",                \
			__FILE__, __LINE__, #cond);                         \
		fprintf(stderr, __VA_ARGS__);                               \
		fputc('\n', stderr);                                        \
	}                                                                   \
} while (0)

/* The exit status: a test that checked nothing proved nothing, and fails. */
static inline int check_report(const char *name)
{
	fprintf(stderr, "%s: %d checks, %d failed%s\n", name, check_run, check_failed,
		check_run ? "" : ": no checks ran");
	return check_failed || !check_run ? 1 : 0;
}

#endif
