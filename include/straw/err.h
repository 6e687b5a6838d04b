/*
 * straw/err.h - error codes of every straw call.
 *
 * A straw call returns 0 (or a non-negative count) on success and a negative
 * code on failure: either a negated errno value (-ENOENT, -EAGAIN, ...) or one
 * of the straw-specific codes below, which live in a range no errno reaches.
 * Callers never read errno.  straw_strerror() names any of them.
 *
 * The list is one X-macro, so the enum and the messages cannot drift apart.
 * Each layer owns a block of 100 values.
 *
 * One situation has one code in every layer:
 *   -ETIMEDOUT           the time a call was given ran out, a timeout of 0
 *                        (poll once) included: receive, the fd calls of
 *                        <straw/io.h>, tubes, the registry;
 *   STRAW_ENONAME        no process is registered under that name (send to
 *                        a name, whereis, unregister, registry lookups);
 *   STRAW_ENOCONTAINER   no container of that name or id is on the machine;
 *   STRAW_ENOPROC        the process asked about is not alive;
 *   -EHOSTUNREACH        the pid is of another container or machine and
 *                        the call cannot reach it (no router, or a call
 *                        that serves only the caller's own container);
 *   STRAW_ENOTCONTAINER  the caller is neither a process nor attached;
 *   STRAW_EQUOTA         strawd holds as much as it lets the caller's uid
 *                        hold of something (nodes, bytes, watches,
 *                        containers, tube ends);
 *   STRAW_ECONNQUOTA     strawd refused a new connection: the uid has as
 *                        many connections as it may;
 *   STRAW_ESERVERFULL    strawd refused a new connection: it is at its
 *                        connection limit or out of descriptors.
 */
#ifndef STRAW_ERR_H
#define STRAW_ERR_H

#include <straw/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/* X(NAME, value, "message") */
/* clang-format off */
#define STRAW_ERROR_LIST(X) \
	/* src/term: 10000..10099 */ \
	X(STRAW_EBADTERM, 10000, "malformed term") \
	X(STRAW_EBADTAG, 10001, "unknown term tag") \
	X(STRAW_ETRUNC, 10002, "term truncated") \
	X(STRAW_ETRAILING, 10003, "trailing bytes after term") \
	X(STRAW_EDEPTH, 10004, "term nested too deeply") \
	X(STRAW_ETOOBIG, 10005, "term exceeds size limit") \
	X(STRAW_EZLIB, 10006, "compressed term is corrupt") \
	X(STRAW_EVERSION, 10007, "missing or wrong ETF version byte") \
	X(STRAW_ESYNTAX, 10008, "syntax error in term text") \
	X(STRAW_EFORMAT, 10009, "bad format string") \
	X(STRAW_EBADATOM, 10010, "invalid atom") \
	X(STRAW_ERANGE, 10011, "value out of range") \
	X(STRAW_ETYPE, 10012, "term has another type") \
	X(STRAW_EDUPKEY, 10013, "duplicate map key") \
	/* src/registry: 10100..10199 */ \
	X(STRAW_ENODAEMON, 10100, "strawd is not running") \
	X(STRAW_EPROTOCOL, 10101, "registry protocol violation") \
	X(STRAW_EQUOTA, 10102, "registry quota exceeded") \
	X(STRAW_EBADPATH, 10103, "invalid registry path") \
	X(STRAW_ENAMETAKEN, 10104, "name already registered") \
	X(STRAW_ETXNCONFLICT, 10105, "transaction conflicts") \
	X(STRAW_EVALUESIZE, 10106, "registry value too large") \
	X(STRAW_ENOTJOINED, 10107, "not joined as a container") \
	X(STRAW_ENONAME, 10108, "no process registered under that name") \
	X(STRAW_ENOCONTAINER, 10109, "no such container") \
	X(STRAW_ECONNQUOTA, 10110, "strawd refused the connection: too many connections for this uid") \
	X(STRAW_ESERVERFULL, 10111, "strawd refused the connection: it is at its connection limit") \
	/* src/tube: 10200..10299 */ \
	X(STRAW_ETUBEMODE, 10200, "tube mode mismatch") \
	X(STRAW_ETUBECORRUPT, 10201, "tube memory corrupted by the peer") \
	/* src/sched, src/proc: 10300..10399 */ \
	X(STRAW_ENOPROC, 10300, "no such process") \
	X(STRAW_ENOTCONTAINER, 10302, "not inside a straw container") \
	/* src/route, src/dist, src/otp, src/netpipe: 10400.. */ \
	/* end */
/* clang-format on */

enum straw_error {
#define STRAW_ERR_ENUM_(name, val, msg) name = -(val),
	STRAW_ERROR_LIST(STRAW_ERR_ENUM_)
#undef STRAW_ERR_ENUM_
};

/*
 * Returns a static, human-readable description of a code returned by any
 * straw call: a straw code, a negated errno value, or 0 ("success").
 * Never returns NULL.  Any thread may call it.
 */
STRAW_API const char *straw_strerror(int err);

/*
 * Returns the symbolic name of a code ("STRAW_EBADTERM", "ENOENT"), or
 * "UNKNOWN" for a value outside every range.  Any thread may call it.
 */
STRAW_API const char *straw_errname(int err);

#ifdef __cplusplus
}
#endif
#endif /* STRAW_ERR_H */
