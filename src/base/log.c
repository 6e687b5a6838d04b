/* Levelled logging and the panic. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base.h"
#include "log.h"

int strawi_log_level = -1;
static char log_prefix[64] = "straw";

int
strawi_log_level_init(void)
{
	const char *e = getenv("STRAW_LOG");
	int lvl = STRAWI_LOG_WARN;

	if (e != NULL) {
		if (strcmp(e, "error") == 0)
			lvl = STRAWI_LOG_ERROR;
		else if (strcmp(e, "info") == 0)
			lvl = STRAWI_LOG_INFO;
		else if (strcmp(e, "debug") == 0)
			lvl = STRAWI_LOG_DEBUG;
	}
	strawi_log_level = lvl;
	return lvl;
}

void
strawi_log_set_prefix(const char *prefix)
{
	snprintf(log_prefix, sizeof(log_prefix), "%s", prefix);
}

void
strawi_log_write(int level, const char *fmt, ...)
{
	static const char *names[] = {"error", "warn", "info", "debug"};
	char line[1024];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "%s[%d]: %s: ", log_prefix,
	             (int)getpid(), names[level & 3]);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	va_end(ap);
	/* One write per line, so lines from several processes don't mix. */
	n = (int)strlen(line);
	if (n < (int)sizeof(line) - 1)
		line[n++] = '\n';
	(void)!write(STDERR_FILENO, line, (size_t)n);
}

void
strawi_panic(const char *file, int line, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s[%d]: panic at %s:%d: %s\n", log_prefix,
	        (int)getpid(), file, line, msg);
	abort();
}
