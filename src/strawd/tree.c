/*
 * The registry tree: a chained hash table of full paths plus parent/child
 * links, permissions per node, and an undo log for transactions.
 */
#include <errno.h>
#include <string.h>

#include "base/base.h"
#include "base/hash.h"
#include "strawd/tree.h"

enum undo_kind {
	UNDO_CREATED, /* node was created: unlink and free it */
	UNDO_VALUE,   /* node's value changed: put old_value back */
	UNDO_PERMS,   /* node's permissions changed: put old_perms back */
	UNDO_REMOVED, /* node's subtree was detached: hash and link it again */
};

struct reg_undo {
	struct reg_undo *next;      /* older entry */
	enum undo_kind kind;        /* what to undo */
	struct reg_node *node;      /* the node concerned */
	uint8_t *old_value;         /* UNDO_VALUE: owned old value */
	uint32_t old_len, old_cap;  /* UNDO_VALUE: its length, capacity */
	struct reg_perms old_perms; /* UNDO_PERMS */
};

static uint64_t
path_hash(const struct reg_tree *t, const char *p, size_t len)
{
	return strawi_hash_bytes(p, len, t->seed);
}

static void
hash_insert(struct reg_tree *t, struct reg_node *n)
{
	size_t b = n->hash & (t->nbuckets - 1);

	n->hnext = t->buckets[b];
	t->buckets[b] = n;
	t->count++;
}

static void
hash_remove(struct reg_tree *t, struct reg_node *n)
{
	struct reg_node **pp = &t->buckets[n->hash & (t->nbuckets - 1)];

	while (*pp != n) {
		STRAWI_ASSERT(*pp != NULL);
		pp = &(*pp)->hnext;
	}
	*pp = n->hnext;
	n->hnext = NULL;
	t->count--;
}

/* Grows the table ahead of `extra` insertions; failure is harmless (the
 * chains just get longer). */
static void
hash_reserve(struct reg_tree *t, size_t extra)
{
	struct reg_node **nb;
	size_t i, ncap = t->nbuckets;

	while (t->count + extra > ncap)
		ncap *= 2;
	if (ncap == t->nbuckets)
		return;
	nb = straw_calloc(ncap, sizeof(*nb));
	if (nb == NULL)
		return;
	for (i = 0; i < t->nbuckets; i++) {
		struct reg_node *n = t->buckets[i], *next;
		for (; n != NULL; n = next) {
			size_t b = n->hash & (ncap - 1);
			next = n->hnext;
			n->hnext = nb[b];
			nb[b] = n;
		}
	}
	straw_free(t->buckets);
	t->buckets = nb;
	t->nbuckets = ncap;
}

struct reg_node *
reg_tree_find(const struct reg_tree *t, const char *path, size_t len)
{
	uint64_t h = path_hash(t, path, len);
	struct reg_node *n = t->buckets[h & (t->nbuckets - 1)];

	for (; n != NULL; n = n->hnext)
		if (n->hash == h && n->path_len == len &&
		    memcmp(n->path, path, len) == 0)
			return n;
	return NULL;
}

static struct reg_node *
node_new(struct reg_tree *t, const char *path, size_t len, uint32_t owner,
         uint64_t creator)
{
	struct reg_node *n = straw_calloc(1, sizeof(*n));
	size_t i;

	if (n == NULL)
		return NULL;
	n->path = straw_malloc(len + 1);
	if (n->path == NULL) {
		straw_free(n);
		return NULL;
	}
	memcpy(n->path, path, len);
	n->path[len] = '\0';
	n->path_len = (uint32_t)len;
	for (i = len; i > 0 && path[i - 1] != '/'; i--)
		;
	n->name_off = (uint32_t)i;
	n->hash = path_hash(t, path, len);
	n->owner = owner;
	n->creator = creator;
	return n;
}

static void
node_free(struct reg_tree *t, struct reg_node *n)
{
	if (n->creator != REG_CREATOR_SRV && t->on_free != NULL)
		t->on_free(t->cb_arg, n->creator);
	straw_free(n->value);
	straw_free(n->path);
	straw_free(n);
}

static void
link_child(struct reg_node *parent, struct reg_node *n)
{
	n->parent = parent;
	n->next = NULL;
	n->prev = parent->last;
	if (parent->last != NULL)
		parent->last->next = n;
	else
		parent->first = n;
	parent->last = n;
	parent->nchildren++;
}

static void
unlink_child(struct reg_node *n)
{
	struct reg_node *p = n->parent;

	if (n->prev != NULL)
		n->prev->next = n->next;
	else
		p->first = n->next;
	if (n->next != NULL)
		n->next->prev = n->prev;
	else
		p->last = n->prev;
	p->nchildren--;
	n->next = n->prev = NULL;
}

/* Next node of a pre-order walk of the subtree at top, or NULL. */
static struct reg_node *
walk_next(struct reg_node *n, const struct reg_node *top)
{
	if (n->first != NULL)
		return n->first;
	while (n != top) {
		if (n->next != NULL)
			return n->next;
		n = n->parent;
	}
	return NULL;
}

static void
free_subtree(struct reg_tree *t, struct reg_node *top)
{
	struct reg_node *n = top;

	/* Post-order by repeatedly descending to a leaf. */
	while (n != NULL) {
		struct reg_node *p;
		while (n->first != NULL)
			n = n->first;
		p = n == top ? NULL : n->parent;
		if (p != NULL)
			unlink_child(n);
		node_free(t, n);
		n = p;
	}
}

static void
notify(struct reg_tree *t, const char *path, size_t len)
{
	if (!t->in_txn) {
		if (t->on_change != NULL)
			t->on_change(t->cb_arg, path, len);
		return;
	}
	if (t->nheld == t->capheld) {
		size_t ncap = t->capheld ? t->capheld * 2 : 16;
		char **nh = straw_realloc(t->held, ncap * sizeof(*nh));
		if (nh == NULL)
			STRAWI_PANIC("out of memory holding a notification");
		t->held = nh;
		t->capheld = ncap;
	}
	t->held[t->nheld] = straw_malloc(len + 1);
	if (t->held[t->nheld] == NULL)
		STRAWI_PANIC("out of memory holding a notification");
	memcpy(t->held[t->nheld], path, len);
	t->held[t->nheld][len] = '\0';
	t->nheld++;
}

static int
undo_push(struct reg_tree *t, enum undo_kind kind, struct reg_node *n)
{
	struct reg_undo *u;

	if (!t->in_txn)
		return 0;
	u = straw_calloc(1, sizeof(*u));
	if (u == NULL)
		return -ENOMEM;
	u->kind = kind;
	u->node = n;
	u->next = t->undo;
	t->undo = u;
	return 0;
}

int
reg_tree_init(struct reg_tree *t)
{
	memset(t, 0, sizeof(*t));
	t->nbuckets = 64;
	t->seed = 0x73747261776e6f64ULL;
	t->buckets = straw_calloc(t->nbuckets, sizeof(*t->buckets));
	if (t->buckets == NULL)
		return -ENOMEM;
	t->root = node_new(t, "/", 1, 0, REG_CREATOR_SRV);
	if (t->root == NULL)
		return -ENOMEM;
	t->root->acl_read[0] = REG_ANYONE;
	t->root->nread = 1;
	hash_insert(t, t->root);
	return 0;
}

void
reg_tree_fini(struct reg_tree *t)
{
	size_t i;

	if (t->in_txn)
		reg_tree_txn_rollback(t);
	t->on_free = NULL;
	if (t->root != NULL)
		free_subtree(t, t->root);
	for (i = 0; i < t->nheld; i++)
		straw_free(t->held[i]);
	straw_free(t->held);
	straw_free(t->buckets);
	memset(t, 0, sizeof(*t));
}

static int
acl_has(const uint32_t *acl, unsigned n, uint32_t uid)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (acl[i] == uid || acl[i] == REG_ANYONE)
			return 1;
	return 0;
}

int
reg_node_can_read(const struct reg_node *n, uint32_t uid)
{
	return uid == 0 || n->owner == uid ||
	       acl_has(n->acl_read, n->nread, uid);
}

int
reg_node_can_write(const struct reg_node *n, uint32_t uid)
{
	return uid == 0 || n->owner == uid ||
	       acl_has(n->acl_write, n->nwrite, uid);
}

/* Length of the parent path of path[0..len) ("/" for top-level nodes). */
static size_t
parent_len(const char *path, size_t len)
{
	size_t i = len;

	while (i > 0 && path[i - 1] != '/')
		i--;
	return i > 1 ? i - 1 : 1;
}

size_t
reg_tree_missing(const struct reg_tree *t, const char *path, size_t len)
{
	size_t missing = 0;

	while (reg_tree_find(t, path, len) == NULL) {
		missing++;
		len = parent_len(path, len);
	}
	return missing;
}

/* Finds or creates the node at path; creation needs write permission on the
 * nearest existing ancestor.  All new nodes are allocated before any is
 * linked, so failure changes nothing. */
static int
ensure_node(struct reg_tree *t, const struct reg_who *who, const char *path,
            size_t len, struct reg_node **out)
{
	struct reg_node *anc, *made[REG_PATH_MAX / 2 + 1];
	size_t lens[REG_PATH_MAX / 2 + 1];
	size_t nmade = 0, l = len, i, k;
	int rc;

	while ((anc = reg_tree_find(t, path, l)) == NULL) {
		lens[nmade++] = l;
		l = parent_len(path, l);
	}
	if (nmade == 0) {
		*out = anc;
		return 0;
	}
	if (!reg_node_can_write(anc, who->uid))
		return -EACCES;
	for (i = 0; i < nmade; i++) {
		made[i] = node_new(t, path, lens[i], who->uid, who->conn);
		if (made[i] == NULL)
			goto fail;
	}
	/* Undo entries go deepest last, so that rollback (newest first)
	 * removes children before their parents. */
	for (k = nmade; t->in_txn && k-- > 0;) {
		rc = undo_push(t, UNDO_CREATED, made[k]);
		if (rc < 0)
			goto fail_undo;
	}
	hash_reserve(t, nmade);
	/* lens[] runs from the deepest to the shallowest. */
	for (i = nmade; i-- > 0;) {
		hash_insert(t, made[i]);
		link_child(i + 1 < nmade ? made[i + 1] : anc, made[i]);
		notify(t, made[i]->path, made[i]->path_len);
	}
	*out = made[0];
	return 0;
fail_undo:
	/* Drop the undo entries pushed above (they are the newest). */
	for (i = k + 1; i < nmade; i++) {
		struct reg_undo *u = t->undo;
		t->undo = u->next;
		straw_free(u);
	}
	i = nmade;
fail:
	while (i-- > 0) {
		made[i]->creator = REG_CREATOR_SRV; /* never counted */
		node_free(t, made[i]);
	}
	return -ENOMEM;
}

int
reg_tree_read(struct reg_tree *t, const struct reg_who *who, const char *path,
              size_t len, const uint8_t **val, size_t *vlen)
{
	struct reg_node *n = reg_tree_find(t, path, len);

	if (n == NULL)
		return -ENOENT;
	if (!reg_node_can_read(n, who->uid))
		return -EACCES;
	*val = n->value;
	*vlen = n->value_len;
	return 0;
}

static int
set_value(struct reg_tree *t, struct reg_node *n, const void *val, size_t vlen)
{
	uint8_t *nv;

	if (t->in_txn) {
		nv = vlen ? straw_malloc(vlen) : NULL;
		if (vlen && nv == NULL)
			return -ENOMEM;
		if (undo_push(t, UNDO_VALUE, n) < 0) {
			straw_free(nv);
			return -ENOMEM;
		}
		t->undo->old_value = n->value;
		t->undo->old_len = n->value_len;
		t->undo->old_cap = n->value_cap;
		n->value = nv;
		n->value_cap = (uint32_t)vlen;
	} else if (vlen > n->value_cap) {
		nv = straw_realloc(n->value, vlen);
		if (nv == NULL)
			return -ENOMEM;
		n->value = nv;
		n->value_cap = (uint32_t)vlen;
	}
	if (vlen)
		memcpy(n->value, val, vlen);
	n->value_len = (uint32_t)vlen;
	return 0;
}

int
reg_tree_write(struct reg_tree *t, const struct reg_who *who, const char *path,
               size_t len, const void *val, size_t vlen)
{
	struct reg_node *n = reg_tree_find(t, path, len);
	int rc;

	if (vlen > UINT32_MAX)
		return -EINVAL;
	if (n != NULL) {
		if (!reg_node_can_write(n, who->uid))
			return -EACCES;
		rc = set_value(t, n, val, vlen);
		if (rc == 0)
			notify(t, path, len);
		return rc;
	}
	if (vlen > 0) {
		/* Allocate the value first so that creation cannot be left
		 * behind by a failed allocation. */
		uint8_t *v = straw_malloc(vlen);
		if (v == NULL)
			return -ENOMEM;
		rc = ensure_node(t, who, path, len, &n);
		if (rc < 0) {
			straw_free(v);
			return rc;
		}
		memcpy(v, val, vlen);
		n->value = v;
		n->value_len = n->value_cap = (uint32_t)vlen;
		return 0;
	}
	return ensure_node(t, who, path, len, &n);
}

int
reg_tree_mkdir(struct reg_tree *t, const struct reg_who *who, const char *path,
               size_t len)
{
	struct reg_node *n;

	return ensure_node(t, who, path, len, &n);
}

int
reg_tree_rm(struct reg_tree *t, const struct reg_who *who, const char *path,
            size_t len)
{
	struct reg_node *top = reg_tree_find(t, path, len), *n;

	if (top == NULL)
		return -ENOENT;
	if (top == t->root)
		return -EINVAL;
	if (!reg_node_can_write(top, who->uid))
		return -EACCES;
	if (t->in_txn && undo_push(t, UNDO_REMOVED, top) < 0)
		return -ENOMEM;
	unlink_child(top);
	for (n = top; n != NULL; n = walk_next(n, top)) {
		hash_remove(t, n);
		notify(t, n->path, n->path_len);
	}
	if (!t->in_txn)
		free_subtree(t, top);
	return 0;
}

const struct reg_node *
reg_tree_get(struct reg_tree *t, const struct reg_who *who, const char *path,
             size_t len, int *err)
{
	struct reg_node *n = reg_tree_find(t, path, len);

	if (n == NULL) {
		*err = -ENOENT;
		return NULL;
	}
	if (!reg_node_can_read(n, who->uid)) {
		*err = -EACCES;
		return NULL;
	}
	*err = 0;
	return n;
}

void
reg_tree_perms(const struct reg_node *n, struct reg_perms *p)
{
	memset(p, 0, sizeof(*p));
	p->owner = n->owner;
	p->nread = n->nread;
	p->nwrite = n->nwrite;
	memcpy(p->read, n->acl_read, sizeof(p->read));
	memcpy(p->write, n->acl_write, sizeof(p->write));
}

static void
apply_perms(struct reg_node *n, const struct reg_perms *p)
{
	n->owner = p->owner;
	n->nread = (uint8_t)p->nread;
	n->nwrite = (uint8_t)p->nwrite;
	memset(n->acl_read, 0, sizeof(n->acl_read));
	memset(n->acl_write, 0, sizeof(n->acl_write));
	memcpy(n->acl_read, p->read, p->nread * sizeof(uint32_t));
	memcpy(n->acl_write, p->write, p->nwrite * sizeof(uint32_t));
}

int
reg_tree_set_perms(struct reg_tree *t, const struct reg_who *who,
                   const char *path, size_t len, const struct reg_perms *p)
{
	struct reg_node *n = reg_tree_find(t, path, len);

	if (n == NULL)
		return -ENOENT;
	if (p->nread > REG_MAX_ACL || p->nwrite > REG_MAX_ACL)
		return -EINVAL;
	if (who->uid != 0 && (n->owner != who->uid || p->owner != n->owner))
		return -EACCES;
	if (undo_push(t, UNDO_PERMS, n) < 0)
		return -ENOMEM;
	if (t->in_txn)
		reg_tree_perms(n, &t->undo->old_perms);
	apply_perms(n, p);
	notify(t, path, len);
	return 0;
}

void
reg_tree_txn_begin(struct reg_tree *t)
{
	STRAWI_ASSERT(!t->in_txn);
	t->in_txn = 1;
}

void
reg_tree_txn_commit(struct reg_tree *t)
{
	struct reg_undo *u, *next;
	size_t i;

	STRAWI_ASSERT(t->in_txn);
	t->in_txn = 0;
	/* Oldest first does not matter here: removed subtrees are no longer
	 * reachable from the tree and each is freed exactly once. */
	for (u = t->undo; u != NULL; u = next) {
		next = u->next;
		if (u->kind == UNDO_VALUE)
			straw_free(u->old_value);
		else if (u->kind == UNDO_REMOVED)
			free_subtree(t, u->node);
		straw_free(u);
	}
	t->undo = NULL;
	for (i = 0; i < t->nheld; i++) {
		if (t->on_change != NULL)
			t->on_change(t->cb_arg, t->held[i], strlen(t->held[i]));
		straw_free(t->held[i]);
	}
	t->nheld = 0;
}

void
reg_tree_txn_rollback(struct reg_tree *t)
{
	struct reg_undo *u, *next;
	struct reg_node *n;
	size_t i;

	STRAWI_ASSERT(t->in_txn);
	for (u = t->undo; u != NULL; u = next) {
		next = u->next;
		switch (u->kind) {
		case UNDO_CREATED:
			STRAWI_ASSERT(u->node->first == NULL);
			unlink_child(u->node);
			hash_remove(t, u->node);
			node_free(t, u->node);
			break;
		case UNDO_VALUE:
			straw_free(u->node->value);
			u->node->value = u->old_value;
			u->node->value_len = u->old_len;
			u->node->value_cap = u->old_cap;
			break;
		case UNDO_PERMS:
			apply_perms(u->node, &u->old_perms);
			break;
		case UNDO_REMOVED:
			for (n = u->node; n != NULL; n = walk_next(n, u->node))
				hash_insert(t, n);
			link_child(u->node->parent, u->node);
			break;
		}
		straw_free(u);
	}
	t->undo = NULL;
	t->in_txn = 0;
	for (i = 0; i < t->nheld; i++)
		straw_free(t->held[i]);
	t->nheld = 0;
}
