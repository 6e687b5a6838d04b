/*
 * src/term/text_int.h - internals of the text form shared by the printer,
 * the parser and the command.
 */
#ifndef STRAWI_TEXT_INT_H
#define STRAWI_TEXT_INT_H

#include <stddef.h>
#include <stdint.h>

#include <straw/term.h>

/*
 * Writes the shortest text of the finite double v that reads back to v, in
 * the layout of OTP's float_to_list(V, [short]), NUL-terminated, into out
 * (32 bytes suffice).  Returns its length.
 */
size_t strawi_float_text(double v, char *out);

/* 1 if code point c is printed as itself inside "..." (see text.c). */
int strawi_printable_cp(uint32_t c);

/* 1 if the UTF-8 atom name s[0..n) must be quoted. */
int strawi_atom_needs_quotes(const char *s, size_t n);

#endif /* STRAWI_TEXT_INT_H */
