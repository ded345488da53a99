/*
 * log.h - the one logger: role name in every line, text or JSON, level checked
 * before formatting, errno preserved. Used by every process.
 */
#ifndef TFO_LOG_H
#define TFO_LOG_H

#include <stdarg.h>
#include <stdnoreturn.h>

enum tfo_log_level {
	TFO_LOG_DEBUG = 0,
	TFO_LOG_INFO,
	TFO_LOG_WARN,
	TFO_LOG_ERROR,
};

enum tfo_log_format {
	TFO_LOG_TEXT = 0,
	TFO_LOG_JSON,
};

void tfo_log_init(const char *role, enum tfo_log_level level, enum tfo_log_format fmt);
/* tfo_log_configure - apply "debug|info|warn|error" and "text|json"; unknown keeps current */
void tfo_log_configure(const char *level, const char *format);
void tfo_log_set_role(const char *role);
int tfo_log_enabled(enum tfo_log_level level);

void tfo_log(enum tfo_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void tfo_vlog(enum tfo_log_level level, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#define log_debug(...) do { if (tfo_log_enabled(TFO_LOG_DEBUG)) tfo_log(TFO_LOG_DEBUG, __VA_ARGS__); } while (0)
#define log_info(...)  tfo_log(TFO_LOG_INFO, __VA_ARGS__)
#define log_warn(...)  tfo_log(TFO_LOG_WARN, __VA_ARGS__)
#define log_error(...) tfo_log(TFO_LOG_ERROR, __VA_ARGS__)

/* fatal - environment failure in a daemon: log with strerror(errno) and exit 1 */
noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* fatalx - as fatal, without errno */
noreturn void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Route nng's and libevent's own diagnostics into this logger. */
void tfo_log_hook_libevent(void);

#endif
