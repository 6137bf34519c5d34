/* log.c: timestamped, levelled lines on stderr. */
#include "daemon/log.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static enum wb_log_level current = WB_LOG_INFO;
static const char *const names[] = {"error", "warn", "info", "debug"};

void wb_log_set_level(enum wb_log_level level)
{
	current = level;
}

int wb_log_parse_level(const char *name, enum wb_log_level *level)
{
	for (int i = 0; i <= WB_LOG_DEBUG; i++) {
		if (strcmp(name, names[i]) == 0) {
			*level = (enum wb_log_level)i;
			return 0;
		}
	}
	return -EINVAL;
}

void wb_log(enum wb_log_level level, const char *fmt, ...)
{
	char stamp[32];
	struct timespec ts;
	struct tm tm;
	va_list ap;

	if (level > current)
		return;
	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03ldZ warmbox[%s]: ", stamp, ts.tv_nsec / 1000000, names[level]);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
