/*
 * src/base/base.h - what every layer of libstraw includes: branch hints,
 * invariant checks and the panic for internal bugs.
 */
#ifndef STRAWI_BASE_H
#define STRAWI_BASE_H

#include <stddef.h>
#include <stdint.h>

#include <straw/alloc.h>
#include <straw/buf.h>
#include <straw/err.h>

#define likely(x)          __builtin_expect(!!(x), 1)
#define unlikely(x)        __builtin_expect(!!(x), 0)

#define STRAW_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Ends the OS process with a message: for broken internal invariants only,
 * never for bad input.  Any thread may call it.
 */
__attribute__((noreturn, format(printf, 3, 4))) void
strawi_panic(const char *file, int line, const char *fmt, ...);

#define STRAWI_PANIC(...) strawi_panic(__FILE__, __LINE__, __VA_ARGS__)

/* An internal invariant; checked in every build, because a broken invariant
 * in a message system loses messages silently. */
#define STRAWI_ASSERT(x)                                          \
	do {                                                      \
		if (unlikely(!(x)))                               \
			STRAWI_PANIC("assertion failed: %s", #x); \
	} while (0)

/* Marks a branch that can't happen: true in tests, kept as a guard. */
#define NEVER(x)  unlikely(x)
#define ALWAYS(x) likely(x)

#endif /* STRAWI_BASE_H */
