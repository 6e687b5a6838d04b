/*
 * src/base/log.h - levelled logging to stderr.  The level comes from
 * STRAW_LOG (error, warn, info, debug; default warn) and is checked before
 * any argument is formatted.
 */
#ifndef STRAWI_LOG_H
#define STRAWI_LOG_H

enum strawi_log_level {
	STRAWI_LOG_ERROR = 0,
	STRAWI_LOG_WARN = 1,
	STRAWI_LOG_INFO = 2,
	STRAWI_LOG_DEBUG = 3,
};

extern int strawi_log_level; /* current level; -1 until first use */

int strawi_log_level_init(void);
void strawi_log_write(int level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

/* Sets the prefix each line starts with ("strawd", a container's name). */
void strawi_log_set_prefix(const char *prefix);

#define strawi_log(level, ...)                                              \
	do {                                                                \
		int lvl_ = strawi_log_level >= 0 ? strawi_log_level         \
		                                 : strawi_log_level_init(); \
		if ((level) <= lvl_)                                        \
			strawi_log_write((level), __VA_ARGS__);             \
	} while (0)

#endif /* STRAWI_LOG_H */
