/*
 * src/registry/path.h - what a registry path may be.
 *
 * A path is absolute ("/" or "/a/b"), at most REG_PATH_MAX bytes, made of
 * components separated by single slashes, with no trailing slash, no empty,
 * "." or ".." component, and only printable ASCII other than '/' inside a
 * component (so no NUL, no control bytes, no spaces).
 */
#ifndef STRAWI_REG_PATH_H
#define STRAWI_REG_PATH_H

#include <stddef.h>

#define REG_PATH_MAX 1024

/* Returns 0 if the len bytes at p are a valid path, else STRAW_EBADPATH. */
int reg_path_check(const char *p, size_t len);

/* Returns 1 if `path` is `prefix` or lies below it, else 0 (both valid). */
int reg_path_within(const char *path, size_t len, const char *prefix,
                    size_t plen);

#endif /* STRAWI_REG_PATH_H */
