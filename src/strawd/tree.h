/*
 * src/registry/tree.h - the registry tree strawd serves: nodes named by
 * absolute paths, each with a byte value, an owner uid and read and write
 * sets, kept in one hash table of full paths (O(1) lookup, O(depth) create)
 * with parent/child links for listing and recursive removal.
 *
 * The tree checks permissions and paths but knows nothing of connections:
 * the caller says who acts (struct reg_who) and learns about every changed
 * path through the on_change callback, in the order of the changes, with
 * the set of uids that may learn of that change (struct reg_vis: those
 * that may read the node and every one of its ancestors).  Inside a
 * transaction (reg_tree_txn_begin) changes are recorded in an undo log and
 * their notifications held back; reg_tree_txn_rollback restores the exact
 * earlier state and drops them, reg_tree_txn_commit releases them.
 *
 * Each node is charged to a payer (a uid + 1; 0 for strawd's own nodes):
 * one node and the bytes of its path and value.  The on_charge callback
 * hears of every change of what a payer is charged, so that the server
 * can keep quotas per uid.
 *
 * Not thread-safe: one thread (strawd's loop) owns a tree.
 */
#ifndef STRAWI_REG_TREE_H
#define STRAWI_REG_TREE_H

#include <stddef.h>
#include <stdint.h>

#include "registry/msg.h"
#include "registry/path.h"

/* The payer of nodes strawd creates itself (never counted in a quota). */
#define REG_PAYER_SRV 0

/* Who performs an operation. */
struct reg_who {
	uint32_t uid;   /* from SO_PEERCRED; 0 may do everything */
	uint64_t payer; /* charged for the nodes it creates and the values it
	                   sets: uid + 1, or REG_PAYER_SRV for strawd */
};

/* The uids that may learn of a change of a node: those that may read it
 * and each of its ancestors.  Root (uid 0) always may. */
struct reg_vis {
	uint8_t all;                    /* every uid may */
	uint8_t n;                      /* else these: entries of uids */
	uint32_t uids[REG_MAX_ACL + 1]; /* owners and read-set entries */
};

/* 1 if uid may learn of the change v describes. */
int reg_vis_allows(const struct reg_vis *v, uint32_t uid);

struct reg_node {
	char *path;                    /* NUL-terminated full path, owned */
	uint32_t path_len;             /* strlen(path) */
	uint32_t name_off;             /* offset of the last component */
	uint64_t hash;                 /* of path */
	struct reg_node *hnext;        /* hash chain */
	uint8_t *value;                /* owned, NULL when value_len is 0 */
	uint32_t value_len;            /* bytes of value */
	uint32_t value_cap;            /* bytes allocated for value */
	struct reg_node *parent;       /* NULL for "/" */
	struct reg_node *first, *last; /* children, in creation order */
	struct reg_node *next, *prev;  /* siblings */
	uint32_t nchildren;            /* direct children */
	uint32_t owner;                /* owner uid */
	uint8_t nread, nwrite;         /* used entries of acl_read, acl_write */
	uint32_t acl_read[REG_MAX_ACL]; /* uids that may read, or REG_ANYONE */
	uint32_t
	        acl_write[REG_MAX_ACL]; /* uids that may write, or REG_ANYONE */
	uint64_t payer; /* charged for it: uid + 1, or REG_PAYER_SRV */
};

struct reg_undo;
struct reg_held;

struct reg_tree {
	struct reg_node **buckets; /* hash table of every node */
	size_t nbuckets;           /* a power of two */
	size_t count;              /* nodes, "/" included */
	struct reg_node *root;     /* "/" */
	uint64_t seed;             /* hash seed */
	/* Called for every changed (created, written, removed, re-permitted)
	 * path, in order, with who may learn of it; inside a transaction only
	 * at commit (then only uids that may learn of it both when it
	 * happened and, if the node still exists, at commit). */
	void (*on_change)(void *arg, const char *path, size_t len,
	                  const struct reg_vis *vis);
	/* Called when what payer (never REG_PAYER_SRV) is charged changes by
	 * nodes and bytes (either may be negative), in or out of a
	 * transaction (a rollback charges back). */
	void (*on_charge)(void *arg, uint64_t payer, int64_t nodes,
	                  int64_t bytes);
	void *cb_arg;           /* passed to the callbacks */
	int in_txn;             /* inside reg_tree_txn_begin..commit */
	struct reg_undo *undo;  /* undo log, newest first */
	struct reg_held **held; /* notifications held during a txn */
	size_t nheld, capheld;  /* entries used, allocated */
};

/* Makes an empty tree with "/" (owner root, readable by everyone).
 * Returns 0 or -ENOMEM; t is safe to fini either way. */
int reg_tree_init(struct reg_tree *t);

/* Frees every node.  Accepts a tree whose init failed. */
void reg_tree_fini(struct reg_tree *t);

/* The node at a valid path, or NULL. */
struct reg_node *reg_tree_find(const struct reg_tree *t, const char *path,
                               size_t len);

/* How many nodes writing `path` would create (0 when it exists). */
size_t reg_tree_missing(const struct reg_tree *t, const char *path, size_t len);

/*
 * What writing a value of vlen bytes at path (mkdir: value_len 0 and an
 * existing node untouched) would change in what payer is charged: *nodes
 * more nodes and *bytes more bytes (negative when a value shrinks).  A node
 * whose value a payer sets becomes that payer's (strawd, REG_PAYER_SRV,
 * takes nothing over).
 */
void reg_tree_write_cost(const struct reg_tree *t, uint64_t payer,
                         const char *path, size_t len, size_t vlen, int mkdir,
                         int64_t *nodes, int64_t *bytes);

/*
 * The operations.  Paths must have passed reg_path_check.  Each returns 0 or
 * -ENOENT, -EACCES, -EINVAL, -ENOMEM, and on failure changes nothing.
 */

/* Points *val at the value (valid until the tree next changes). */
int reg_tree_read(struct reg_tree *t, const struct reg_who *who,
                  const char *path, size_t len, const uint8_t **val,
                  size_t *vlen);

/* Sets the value, creating the node and missing ancestors (which need write
 * permission on the nearest existing ancestor). */
int reg_tree_write(struct reg_tree *t, const struct reg_who *who,
                   const char *path, size_t len, const void *val, size_t vlen);

/* Creates the node (and ancestors) with an empty value; 0 if it exists. */
int reg_tree_mkdir(struct reg_tree *t, const struct reg_who *who,
                   const char *path, size_t len);

/* Removes the node and everything below it.  "/" cannot be removed. */
int reg_tree_rm(struct reg_tree *t, const struct reg_who *who, const char *path,
                size_t len);

/* Returns the node if who may read it, else NULL with *err set. */
const struct reg_node *reg_tree_get(struct reg_tree *t,
                                    const struct reg_who *who, const char *path,
                                    size_t len, int *err);

/* Copies the node's permissions. */
void reg_tree_perms(const struct reg_node *n, struct reg_perms *p);

/* Replaces the permissions: the owner or root may; only root may give the
 * node to another owner.  -EINVAL for more than REG_MAX_ACL entries. */
int reg_tree_set_perms(struct reg_tree *t, const struct reg_who *who,
                       const char *path, size_t len, const struct reg_perms *p);

/* 1 if uid may read (write) the node. */
int reg_node_can_read(const struct reg_node *n, uint32_t uid);
int reg_node_can_write(const struct reg_node *n, uint32_t uid);

/* Transactions: begin, then operations as above, then commit or rollback.
 * Rollback restores the tree exactly and drops held notifications. */
void reg_tree_txn_begin(struct reg_tree *t);
void reg_tree_txn_commit(struct reg_tree *t);
void reg_tree_txn_rollback(struct reg_tree *t);

#endif /* STRAWI_REG_TREE_H */
