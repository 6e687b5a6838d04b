/*
 * src/route/frame.h - the frames of a straw, one per tube packet
 * (docs/straws.md is the description a compatible peer is written from).
 *
 * Every frame starts with a 12-byte header, integers big-endian:
 *
 *   0  u8   type      (enum route_frame_type)
 *   1  u8   flags     (ROUTE_F_MORE: continuation frames follow)
 *   2  u16  zero
 *   4  u32  to        process id at the receiving container, or 0
 *   8  u32  from      process id at the sending container, or 0
 *
 * followed by the type's fields.  A frame that carries a term (a message,
 * an exit reason) has after its fields a u32 total length of the term
 * (ETF, version byte first) and then its first bytes; when they do not
 * all fit in the packet, ROUTE_F_MORE is set and CONT frames carry the
 * rest, in order, the last without ROUTE_F_MORE.  One such term is in
 * flight per direction of a straw at a time: nothing else is sent in that
 * direction until its last CONT.
 */
#ifndef STRAWI_ROUTE_FRAME_H
#define STRAWI_ROUTE_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include <straw/tube.h>

#define ROUTE_PROTO_VERSION 1
#define ROUTE_HDR           12
#define ROUTE_F_MORE        0x01

enum route_frame_type {
	/* First frame each side sends: u16 version, u16 zero, u64 largest
	 * term it takes (its container's message limit). */
	ROUTE_HELLO = 1,
	/* A message to process `to` from `from`: u32 total, bytes. */
	ROUTE_MSG = 2,
	/* A message to the process registered as a name: u8 name length,
	 * the name (1..255 bytes), u32 total, bytes (to = 0). */
	ROUTE_MSG_NAME = 3,
	/* The rest of the term in flight: bytes. */
	ROUTE_CONT = 4,
	/* `from` linked to `to` / unlinked from it: no fields. */
	ROUTE_LINK = 5,
	ROUTE_UNLINK = 6,
	/* An exit signal from `from` to `to`: u8 kind (1: a link's, 2:
	 * exit/2), u32 total, the reason's bytes. */
	ROUTE_EXIT = 7,
	/* `from` monitors `to` under the reference id (made by the sender's
	 * container), or stops: u64 ref. */
	ROUTE_MONITOR = 8,
	ROUTE_DEMONITOR = 9,
	/* `from` (the monitored) ended: DOWN for watcher `to`, u64 ref (made
	 * by the receiver's container), u32 total, the reason's bytes. */
	ROUTE_DOWN = 10,
};

/* Bytes of the fields after the header, before a term's length. */
#define ROUTE_HELLO_LEN 12
#define ROUTE_EXIT_LEN  1
#define ROUTE_REF_LEN   8

/* The largest first part of a term in a MSG frame. */
#define ROUTE_MSG_FIRST (STRAW_TUBE_MAX_PACKET - ROUTE_HDR - 4)

static inline void
route_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void
route_put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void
route_put64(uint8_t *p, uint64_t v)
{
	route_put32(p, (uint32_t)(v >> 32));
	route_put32(p + 4, (uint32_t)v);
}

static inline uint16_t
route_get16(const uint8_t *p)
{
	return (uint16_t)((uint16_t)p[0] << 8 | p[1]);
}

static inline uint32_t
route_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t
route_get64(const uint8_t *p)
{
	return (uint64_t)route_get32(p) << 32 | route_get32(p + 4);
}

/* Writes a header at p. */
static inline void
route_put_hdr(uint8_t *p, uint8_t type, uint8_t flags, uint32_t to,
              uint32_t from)
{
	p[0] = type;
	p[1] = flags;
	p[2] = 0;
	p[3] = 0;
	route_put32(p + 4, to);
	route_put32(p + 8, from);
}

#endif /* STRAWI_ROUTE_FRAME_H */
