/*
 * straw/alloc.h - the one replaceable allocator behind every allocation
 * libstraw makes.
 */
#ifndef STRAW_ALLOC_H
#define STRAW_ALLOC_H

#include <stddef.h>
#include <straw/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The allocator.  realloc_fn(ctx, NULL, n) allocates, realloc_fn(ctx, p, 0)
 * frees and returns NULL; otherwise it behaves like realloc(3) and returns
 * NULL on failure, leaving p untouched.
 */
typedef struct straw_allocator {
	void *(*realloc_fn)(void *ctx, void *ptr, size_t size); /* never NULL */
	void *ctx; /* passed back */
} straw_allocator;

/*
 * Installs a (copied) allocator for all later allocations, or restores the C
 * library's when a is NULL.  Call it before any other straw call, from one
 * thread: memory allocated by one allocator must be freed by the same one.
 */
STRAW_API void straw_set_allocator(const straw_allocator *a);

/* Allocate, resize and free through the installed allocator.  straw_free
 * accepts NULL.  Any thread may call them once the allocator is set. */
STRAW_API void *straw_malloc(size_t size);
STRAW_API void *straw_calloc(size_t n, size_t size);
STRAW_API void *straw_realloc(void *ptr, size_t size);
STRAW_API void straw_free(void *ptr);

#ifdef __cplusplus
}
#endif
#endif /* STRAW_ALLOC_H */
