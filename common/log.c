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

/* utf8_len - length of the valid UTF-8 sequence at s (1..4), 0 when invalid
 * (overlong forms, surrogates and code points past U+10FFFF included) */
static size_t
utf8_len(const unsigned char *s)
{
	unsigned c = s[0];
	size_t n;
	unsigned cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		n = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		n = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		n = 4, cp = c & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = (cp << 6) | (s[i] & 0x3f);
	}
	if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
	    (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
		return 0;
	return n;
}

/*
 * log_escape - s as one line of the chosen format: every control character
 * (C0, DEL, and the C1 range U+0080..U+009F, whose 8-bit forms some terminals
 * obey) and every byte that is not valid UTF-8 is escaped, so that no text
 * from outside (a file name, a peer's string) can end the line, forge another
 * one, or drive the terminal reading it. Text: \n \r \t, else \xHH (a
 * backslash stays as is: it cannot end a line); JSON: \n \r \t \u00HH, \"
 * and \\, and a literal \xHH for a bad byte. Always terminates, never cuts
 * an escape or a UTF-8 sequence in two.
 */
static void
log_escape(char *out, size_t outsz, const char *s, enum tfo_log_format fmt)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t o = 0, n;

	while (*p && o + 7 < outsz) {
		unsigned c = *p;
		n = utf8_len(p);
		if (n > 1 && !(c == 0xc2 && p[1] < 0xa0)) {
			memcpy(out + o, p, n);
			o += n;
			p += n;
			continue;
		}
		if (n == 1 && c >= 0x20 && c != 0x7f) {
			if (fmt == TFO_LOG_JSON && (c == '"' || c == '\\'))
				out[o++] = '\\';
			out[o++] = (char)c;
			p++;
			continue;
		}
		/* a control character, or a byte that starts no valid sequence */
		if (n == 2)
			c = p[1];       /* C1: U+0080..U+009F is C2 80..C2 9F */
		out[o++] = '\\';
		if (c == '\n' || c == '\r' || c == '\t') {
			out[o++] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
		} else if (fmt == TFO_LOG_JSON && n != 0) {
			memcpy(out + o, "u00", 3);
			out[o + 3] = hex[c >> 4];
			out[o + 4] = hex[c & 0xf];
			o += 5;
		} else {
			/* JSON has no byte escape: a literal "\xHH" there */
			if (fmt == TFO_LOG_JSON)
				out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 0xf];
		}
		p += n ? n : 1;
	}
	out[o] = '\0';
}

void
tfo_vlog(enum tfo_log_level level, const char *fmt, va_list ap)
{
	/*
	 * esc needs room for every byte of msg escaped at its longest (6:
	 * \u00HH). A line that may need more than the small buffer escapes into
	 * the heap: a 12 KiB array here made every thread that logs touch four
	 * stack pages (stack-clash probes), resident for the thread's life.
	 */
	char msg[2048], small[1024], ts[96], *esc = small;
	size_t need;
	int saved = errno;
	struct timespec now;
	struct tm tm;

	if (!tfo_log_enabled(level)) {
		errno = saved;
		return;
	}
	vsnprintf(msg, sizeof(msg), fmt, ap);
	need = 6 * strlen(msg) + 1;
	if (need > sizeof(small) && (esc = malloc(need)) == NULL) {
		esc = small;            /* out of memory: the line is cut, not lost */
		need = sizeof(small);
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	snprintf(ts, sizeof(ts), "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ",
	    tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
	    tm.tm_min, tm.tm_sec, (long)(now.tv_nsec / 1000000) % 1000);
	log_escape(esc, need > sizeof(small) ? need : sizeof(small), msg, log_format);
	if (log_format == TFO_LOG_JSON) {
		fprintf(stderr, "{\"ts\":\"%s\",\"level\":\"%s\",\"role\":\"%s\",\"pid\":%d,\"msg\":\"%s\"}\n",
		    ts, level_names[level], log_role, (int)getpid(), esc);
	} else
		fprintf(stderr, "%s %s[%d] %s: %s\n", ts, log_role, (int)getpid(),
		    level_names[level], esc);
	if (esc != small)
		free(esc);
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
