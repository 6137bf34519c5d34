/* log.h: the daemon's log: one line per event on stderr, with a level.
 * Only the daemon's top layer (serve, server, pool) logs. */
#ifndef WB_LOG_H
#define WB_LOG_H

enum wb_log_level { WB_LOG_ERROR, WB_LOG_WARN, WB_LOG_INFO, WB_LOG_DEBUG };

void wb_log_set_level(enum wb_log_level level);
/* "error", "warn", "info", "debug"; -EINVAL otherwise. */
int wb_log_parse_level(const char *name, enum wb_log_level *level);
void wb_log(enum wb_log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
