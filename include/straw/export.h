/*
 * straw/export.h - the symbol export macro.  libstraw is built with hidden
 * visibility; only declarations marked STRAW_API are exported.
 */
#ifndef STRAW_EXPORT_H
#define STRAW_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define STRAW_API __attribute__((visibility("default")))
#else
#define STRAW_API
#endif

#endif /* STRAW_EXPORT_H */
