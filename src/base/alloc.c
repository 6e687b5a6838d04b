/* The replaceable allocator. */
#include <stdlib.h>
#include <string.h>

#include <straw/alloc.h>

static void *
libc_realloc(void *ctx, void *ptr, size_t size)
{
	(void)ctx;
	if (size == 0) {
		free(ptr);
		return NULL;
	}
	return realloc(ptr, size);
}

static straw_allocator alloc_current = {libc_realloc, NULL};

void
straw_set_allocator(const straw_allocator *a)
{
	if (a == NULL) {
		alloc_current.realloc_fn = libc_realloc;
		alloc_current.ctx = NULL;
	} else {
		alloc_current = *a;
	}
}

void *
straw_malloc(size_t size)
{
	return alloc_current.realloc_fn(alloc_current.ctx, NULL,
	                                size ? size : 1);
}

void *
straw_calloc(size_t n, size_t size)
{
	size_t total;
	void *p;

	if (__builtin_mul_overflow(n, size, &total))
		return NULL;
	p = straw_malloc(total);
	if (p != NULL)
		memset(p, 0, total ? total : 1);
	return p;
}

void *
straw_realloc(void *ptr, size_t size)
{
	return alloc_current.realloc_fn(alloc_current.ctx, ptr,
	                                size ? size : 1);
}

void
straw_free(void *ptr)
{
	if (ptr != NULL)
		alloc_current.realloc_fn(alloc_current.ctx, ptr, 0);
}
