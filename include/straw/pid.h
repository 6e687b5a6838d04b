/*
 * straw/pid.h - process identifiers and references: their values, their
 * one human form, and how they map to Erlang's pids and references in the
 * External Term Format.
 *
 * A pid is {machine, container, process}.  In ETF it is a NEW_PID_EXT:
 *   node     = '<container-name>@<host>' (the container's Erlang node name;
 *              'c<container id>@<host>' for a container whose name is not
 *              known here, 'c<id>@m<16 hex digits>' on a machine whose host
 *              name is not known)
 *   id       = process
 *   serial   = 0
 *   creation = container id
 * Reading one back gives container = creation, process = id, and the
 * machine of the node's host: this machine's id when the host is this
 * host's name, the id itself for 'm' and 16 hex digits, otherwise a stable
 * 64-bit hash of the host name.  A reference is a NEWER_REFERENCE_EXT with
 * the same node and creation and its 64-bit id in three words (18, 32 and
 * 14 bits).  So a pid that travels to another container and back is the
 * same pid, and the bytes of a pid of this container name it on any peer.
 *
 * Short and long forms: machine 0 and container 0 name the caller's own
 * container (a *short* pid); functions taking a pid accept both forms and
 * straw_pid_equal() treats them as the same pid.  Pids and references of
 * the caller's own container are read back as short ones.
 *
 * The human form, used by the log, `straw ps`, straw_pid_format() and
 * straw_pid_parse(): "<Container.Process>" for a pid of this machine
 * ("<3.7>"), "<Container.Process@mMACHINE>" (16 lower-case hex digits) for
 * one of another machine.  It has two numbers where Erlang's "<N.P.S>" has
 * three, so the two never read as each other.
 *
 * Every function here works on any thread.  Encoding a short pid needs the
 * caller's container (it names the node): outside one it fails with
 * STRAW_ENOTCONTAINER.
 */
#ifndef STRAW_PID_H
#define STRAW_PID_H

#include <stddef.h>
#include <stdint.h>

#include <straw/buf.h>
#include <straw/err.h>
#include <straw/export.h>
#include <straw/term.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A process identifier, a 16-byte value type (see above). */
typedef struct straw_pid {
	uint64_t machine;   /* machine id; 0: this machine */
	uint32_t container; /* container id; 0 with machine 0: this container */
	uint32_t process;   /* serial id of the process in its container */
} straw_pid;

/* A reference (Erlang's make_ref()): unique within a boot of a machine. */
typedef struct straw_ref {
	uint64_t machine;   /* machine that made it; 0: this one */
	uint32_t container; /* container that made it; 0: this one */
	uint32_t reserved;  /* 0 */
	uint64_t id;        /* serial inside the container, never 0 */
} straw_ref;

/* Bytes straw_pid_format() needs at most, NUL included. */
#define STRAW_PID_FORMAT_MAX 48

/*
 * The machine's 64-bit id: $STRAW_MACHINE_ID (1 to 16 hex digits, or 32 of
 * which the first 16 count), else the first 16 hex digits of
 * /etc/machine-id.  Needs no strawd.  Returns 0, -EINVAL for a malformed
 * $STRAW_MACHINE_ID or /etc/machine-id, or -errno.
 */
STRAW_API int straw_machine_id(uint64_t *id);

/* The long form of pid: its machine and container filled in (those of the
 * caller's container for a short pid; machine only filled for a pid of
 * another container of this machine).  A short pid stays short outside a
 * container. */
STRAW_API straw_pid straw_pid_long(straw_pid pid);

/* The machine and the container pid names (long form values). */
STRAW_API uint64_t straw_pid_machine(straw_pid pid);
STRAW_API uint32_t straw_pid_container(straw_pid pid);

/*
 * Appends the encoded pid (no version byte) to buf.  Returns 0, -ENOMEM,
 * STRAW_ENOTCONTAINER (a short pid outside a container) or STRAW_EBADATOM
 * (a node name over 255 bytes); buf is unchanged on failure.
 */
STRAW_API int straw_pid_encode(straw_buf *buf, straw_pid pid);

/*
 * Reads an encoded pid (no version byte; NEW_PID_EXT or PID_EXT) from
 * term[0..len).  Returns the bytes consumed (> 0), STRAW_ETYPE if the term
 * is not a pid, STRAW_ETRUNC or STRAW_EBADTERM; *pid is set only on
 * success.
 */
STRAW_API int straw_pid_decode(const uint8_t *term, size_t len, straw_pid *pid);

/* As straw_pid_encode / straw_pid_decode, for references (NEWER_REFERENCE
 * _EXT; decode refuses 0 or more than 5 id words with STRAW_EBADTERM). */
STRAW_API int straw_ref_encode(straw_buf *buf, straw_ref ref);
STRAW_API int straw_ref_decode(const uint8_t *term, size_t len, straw_ref *ref);

/*
 * Converts between a straw pid (reference) and the term layer's
 * straw_erl_pid (straw_erl_ref), with the mapping above.  The to_erl calls
 * return 0, STRAW_ENOTCONTAINER (a short one outside a container) or
 * STRAW_EBADATOM; the from_erl calls return 0, or STRAW_ERANGE for a
 * reference whose id words do not fit a straw_ref's 64-bit id (more than
 * 3 words, or more than 18 and 14 bits in the first and third: an OTP
 * reference).  (The format directives ~P and ~R of straw_build_fmt and
 * straw_term_match do these conversions themselves.)
 */
STRAW_API int straw_pid_to_erl(straw_pid pid, straw_erl_pid *out);
STRAW_API int straw_pid_from_erl(const straw_erl_pid *in, straw_pid *out);
STRAW_API int straw_ref_to_erl(straw_ref ref, straw_erl_ref *out);
STRAW_API int straw_ref_from_erl(const straw_erl_ref *in, straw_ref *out);

/* 1 if a and b name the same process (the short and long forms of one pid
 * are equal), else 0. */
STRAW_API int straw_pid_equal(straw_pid a, straw_pid b);

/* 1 if a and b are the same reference, else 0. */
STRAW_API int straw_ref_equal(straw_ref a, straw_ref b);

/*
 * Writes pid's human form ("<3.7>", "<3.7@m00112233aabbccdd>"; a short pid
 * with the caller's container id, or 0 outside a container) into out,
 * NUL-terminated and truncated to cap.  Returns the length it needed (as
 * snprintf; < STRAW_PID_FORMAT_MAX).
 */
STRAW_API int straw_pid_format(straw_pid pid, char *out, size_t cap);

/*
 * Reads the human form from text[0..len) (exactly one pid, no spaces).
 * Returns 0 and *pid (short when it names the caller's own container), or
 * STRAW_ESYNTAX.
 */
STRAW_API int straw_pid_parse(const char *text, size_t len, straw_pid *pid);

#ifdef __cplusplus
}
#endif
#endif /* STRAW_PID_H */
