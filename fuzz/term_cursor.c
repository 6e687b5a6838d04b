/*
 * Fuzz target for the cursor on unchecked bytes: walks arbitrary bytes
 * generically (type, then the matching read, containers through an
 * explicit stack) and must never crash or read past the input.  The walk
 * and straw_term_check agree: the walk reads the whole input exactly when
 * the checker accepts it, or refuses it only for duplicate map keys (the
 * cursor reads maps pair by pair and leaves keys to its caller).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <straw/alloc.h>
#include <straw/term.h>

#define REQUIRE(cond)                                                    \
	do {                                                             \
		if (!(cond)) {                                           \
			fprintf(stderr, "property failed: %s\n", #cond); \
			abort();                                         \
		}                                                        \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Reads one scalar term or a container's header; *kids gets the terms the
 * header promises. */
static int
read_one(straw_cursor *c, uint64_t *kids)
{
	int type = straw_cursor_type(c), rc;
	uint32_t n;

	*kids = 0;
	switch (type) {
	case STRAW_TERM_INTEGER: {
		int64_t v;
		int neg;
		const uint8_t *mag;
		size_t k;
		rc = straw_cursor_int64(c, &v);
		if (rc == STRAW_ERANGE)
			rc = straw_cursor_bignum(c, &neg, &mag, &k);
		return rc;
	}
	case STRAW_TERM_FLOAT: {
		double d;
		return straw_cursor_double(c, &d);
	}
	case STRAW_TERM_ATOM: {
		char name[STRAW_ATOM_MAX_BYTES + 1];
		straw_cursor again = *c, again2 = *c;
		size_t len;
		rc = straw_cursor_atom(c, name, sizeof(name), &len);
		/* Any atom matches its own name given with its length. */
		if (rc == 0) {
			REQUIRE(straw_cursor_atom_eq(&again2, name, len) == 1);
			REQUIRE(straw_cursor_offset(&again2) ==
			        straw_cursor_offset(c));
		}
		/* An atom without a NUL inside matches its own name. */
		if (rc == 0 && strlen(name) == len) {
			REQUIRE(straw_cursor_atom_is(&again, name) == 1);
			REQUIRE(straw_cursor_offset(&again) ==
			        straw_cursor_offset(c));
		}
		return rc;
	}
	case STRAW_TERM_REF: {
		straw_erl_ref r;
		rc = straw_cursor_ref(c, &r);
		return rc == STRAW_ERANGE ? straw_cursor_skip(c) : rc;
	}
	case STRAW_TERM_PORT: {
		straw_erl_port p;
		rc = straw_cursor_port(c, &p);
		return rc == STRAW_ERANGE ? straw_cursor_skip(c) : rc;
	}
	case STRAW_TERM_PID: {
		straw_erl_pid p;
		rc = straw_cursor_pid(c, &p);
		return rc == STRAW_ERANGE ? straw_cursor_skip(c) : rc;
	}
	case STRAW_TERM_FUN: {
		char m[STRAW_ATOM_MAX_BYTES + 1], f[STRAW_ATOM_MAX_BYTES + 1];
		const uint8_t *t;
		size_t len;
		uint8_t arity;
		rc = straw_cursor_export(c, m, sizeof(m), f, sizeof(f), &arity);
		return rc == STRAW_ETYPE ? straw_cursor_term(c, &t, &len) : rc;
	}
	case STRAW_TERM_TUPLE: {
		/* A tuple whose first element is an atom is tagged by it. */
		straw_cursor t = *c, first;
		char name[STRAW_ATOM_MAX_BYTES + 1];
		size_t len;
		uint32_t arity;
		rc = straw_cursor_tuple(c, &n);
		first = *c;
		if (rc == 0 && n > 0 &&
		    straw_cursor_atom(&first, name, sizeof(name), &len) == 0) {
			REQUIRE(straw_cursor_tagged(&t, name, len, &arity) ==
			        1);
			REQUIRE(arity == n);
			REQUIRE(straw_cursor_offset(&t) ==
			        straw_cursor_offset(&first));
		} else {
			/* Not tagged (or malformed): nothing consumed. */
			size_t at = straw_cursor_offset(&t);
			REQUIRE(straw_cursor_tagged(&t, "a", 1, &arity) <= 0);
			REQUIRE(arity == 0 && straw_cursor_offset(&t) == at);
		}
		*kids = n;
		return rc;
	}
	case STRAW_TERM_MAP:
		rc = straw_cursor_map(c, &n);
		*kids = 2 * (uint64_t)n;
		return rc;
	case STRAW_TERM_NIL:
		return straw_cursor_nil(c);
	case STRAW_TERM_LIST:
		rc = straw_cursor_list(c, &n);
		*kids = n == 0 ? 0 : (uint64_t)n + 1; /* elements and tail */
		return rc;
	case STRAW_TERM_BINARY: {
		const uint8_t *d;
		size_t len;
		uint64_t bits;
		rc = straw_cursor_binary(c, &d, &len);
		return rc == STRAW_ETYPE ? straw_cursor_bitstring(c, &d, &bits)
		                         : rc;
	}
	default:
		return type;
	}
}

/* Walks the term; returns 0 when it reads all of buf, else a code. */
static int
walk(const uint8_t *buf, size_t len)
{
	uint64_t local[32], *stack = local, kids;
	size_t sp = 0, cap = 32;
	straw_cursor c;
	int rc;

	if ((rc = straw_cursor_init(&c, buf, len)) != 0)
		return rc;
	stack[sp++] = 1; /* the top term */
	while (sp > 0) {
		if (stack[sp - 1] == 0) {
			sp--;
			continue;
		}
		stack[sp - 1]--;
		rc = read_one(&c, &kids);
		REQUIRE(straw_cursor_offset(&c) <= len);
		if (rc != 0)
			goto out;
		if (kids == 0)
			continue;
		if (sp == cap) {
			uint64_t *s = straw_malloc(2 * cap * sizeof(*s));
			REQUIRE(s != NULL);
			memcpy(s, stack, sp * sizeof(*s));
			if (stack != local)
				straw_free(stack);
			stack = s;
			cap *= 2;
		}
		stack[sp++] = kids;
	}
	rc = straw_cursor_at_end(&c) ? 0 : STRAW_ETRAILING;
out:
	if (stack != local)
		straw_free(stack);
	return rc;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy, so that any overread is caught. */
	uint8_t *buf = malloc(size > 0 ? size : 1);
	int check, rc;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	check = straw_term_check(buf, size, NULL, NULL);
	rc = walk(buf, size);
	if (straw_term_is_compressed(buf, size)) {
		REQUIRE(rc == STRAW_EBADTAG); /* the cursor does not inflate */
	} else {
		if (check == 0)
			REQUIRE(rc == 0);
		if (rc == 0)
			REQUIRE(check == 0 || check == STRAW_EDUPKEY);
	}
	free(buf);
	return 0;
}
