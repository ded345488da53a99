/*
 * log.c - the one logger (all processes). Writes one line per event to stderr,
 * which journald records; JSON lines when logging.format is json.
 */
#include "common/log.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

static const char *log_role = "tfo";
static enum tfo_log_level log_level = TFO_LOG_INFO;
static enum tfo_log_format log_format = TFO_LOG_TEXT;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

void
tfo_log_init(const char *role, enum tfo_log_level level, enum tfo_log_format fmt)
{
	log_role = role;
	log_level = level;
	log_format = fmt;
}

void
tfo_log_configure(const char *level, const char *format)
{
	for (size_t i = 0; level && i < sizeof(level_names) / sizeof(level_names[0]); i++)
		if (strcmp(level, level_names[i]) == 0)
			log_level = (enum tfo_log_level)i;
	if (format && strcmp(format, "json") == 0)
		log_format = TFO_LOG_JSON;
	else if (format && strcmp(format, "text") == 0)
		log_format = TFO_LOG_TEXT;
}

void
tfo_log_set_role(const char *role)
{
	log_role = role;
}

int
tfo_log_enabled(enum tfo_log_level level)
{
	return level >= log_level;
}

/* json_escape - copy s into out as a JSON string body; always terminates */
static void
json_escape(char *out, size_t outsz, const char *s)
{
	size_t o = 0;

	for (; *s && o + 7 < outsz; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[o++] = '\\';
			out[o++] = (char)c;
		} else if (c < 0x20) {
			static const char hex[] = "0123456789abcdef";
			memcpy(out + o, "\\u00", 4);
			out[o + 4] = hex[c >> 4];
			out[o + 5] = hex[c & 0xf];
			o += 6;
		} else
			out[o++] = (char)c;
	}
	out[o] = '\0';
}

void
tfo_vlog(enum tfo_log_level level, const char *fmt, va_list ap)
{
	char msg[2048], esc[4200], ts[96];
	int saved = errno;
	struct timespec now;
	struct tm tm;

	if (!tfo_log_enabled(level)) {
		errno = saved;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)(now.tv_nsec / 1000000) % 1000);
	if (log_format == TFO_LOG_JSON) {
		json_escape(esc, sizeof(esc), msg);
		fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"role\":\"%s\",\"pid\":%d,\"msg\":\"%s\"}\n",
		    ts, level_names[level], log_role, (int)getpid(), esc);
	} else
		fprintf(stderr, "%s %s[%d] %s: %s\n", ts, log_role, (int)getpid(),
		    level_names[level], msg);
	errno = saved;
}

void
tfo_log(enum tfo_log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	tfo_vlog(level, fmt, ap);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	char msg[1024];
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tfo_log(TFO_LOG_ERROR, "fatal: %s: %s", msg, strerror(saved));
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	tfo_log(TFO_LOG_ERROR, "fatal: %s", msg);
	exit(1);
}

static void
libevent_log_cb(int severity, const char *msg)
{
	enum tfo_log_level l = TFO_LOG_DEBUG;

	if (severity == EVENT_LOG_WARN)
		l = TFO_LOG_WARN;
	else if (severity == EVENT_LOG_ERR)
		l = TFO_LOG_ERROR;
	else if (severity == EVENT_LOG_MSG)
		l = TFO_LOG_INFO;
	tfo_log(l, "libevent: %s", msg);
}

void
tfo_log_hook_libevent(void)
{
	event_set_log_callback(libevent_log_cb);
}
