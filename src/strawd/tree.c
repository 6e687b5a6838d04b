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
	uint64_t old_payer;         /* UNDO_VALUE: who paid for it */
	struct reg_perms old_perms; /* UNDO_PERMS */
};

/* A notification held back until its transaction commits. */
struct reg_held {
	struct reg_vis vis; /* who may learn of it, when it happened */
	size_t len;         /* bytes of path */
	char path[];        /* the changed path, NUL-terminated */
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

/* Tells the server that payer is charged nodes and bytes more. */
static void
charge(struct reg_tree *t, uint64_t payer, int64_t nodes, int64_t bytes)
{
	if (payer != REG_PAYER_SRV && t->on_charge != NULL &&
	    (nodes != 0 || bytes != 0))
		t->on_charge(t->cb_arg, payer, nodes, bytes);
}

/* Moves n's charge from (n->payer, its current value) to (payer, a value
 * of vlen bytes) and makes payer its payer. */
static void
recharge(struct reg_tree *t, struct reg_node *n, uint64_t payer, size_t vlen)
{
	if (payer == n->payer) {
		charge(t, payer, 0, (int64_t)vlen - (int64_t)n->value_len);
		return;
	}
	charge(t, n->payer, -1, -(int64_t)(n->path_len + n->value_len));
	charge(t, payer, 1, (int64_t)(n->path_len + vlen));
	n->payer = payer;
}

static struct reg_node *
node_new(struct reg_tree *t, const char *path, size_t len, uint32_t owner,
         uint64_t payer)
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
	n->payer = payer;
	return n;
}

static void
node_free(struct reg_tree *t, struct reg_node *n)
{
	charge(t, n->payer, -1, -(int64_t)(n->path_len + n->value_len));
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

int
reg_vis_allows(const struct reg_vis *v, uint32_t uid)
{
	unsigned i;

	if (uid == 0 || v->all)
		return 1;
	for (i = 0; i < v->n; i++)
		if (v->uids[i] == uid)
			return 1;
	return 0;
}

/* The uids that may read n itself. */
static void
vis_node(const struct reg_node *n, struct reg_vis *v)
{
	unsigned i;

	v->all = 0;
	v->n = 0;
	v->uids[v->n++] = n->owner;
	for (i = 0; i < n->nread; i++) {
		if (n->acl_read[i] == REG_ANYONE) {
			v->all = 1;
			v->n = 0;
			return;
		}
		v->uids[v->n++] = n->acl_read[i];
	}
}

/* v becomes the uids both v and w allow. */
static void
vis_intersect(struct reg_vis *v, const struct reg_vis *w)
{
	unsigned i, k = 0;

	if (w->all)
		return;
	if (v->all) {
		*v = *w;
		return;
	}
	for (i = 0; i < v->n; i++)
		if (reg_vis_allows(w, v->uids[i]))
			v->uids[k++] = v->uids[i];
	v->n = (uint8_t)k;
}

/* Who may learn of a change of n: readers of n and of each ancestor, so
 * that an event never reveals the name of a child of a node the watcher
 * may not list (XSA-115).  n's parent links must be intact (a node being
 * removed keeps them). */
static void
vis_of(const struct reg_node *n, struct reg_vis *v)
{
	struct reg_vis up;

	vis_node(n, v);
	for (n = n->parent; n != NULL && (v->all || v->n > 0); n = n->parent) {
		vis_node(n, &up);
		vis_intersect(v, &up);
	}
}

static void
notify(struct reg_tree *t, const struct reg_node *n)
{
	struct reg_held *h;
	struct reg_vis vis;

	vis_of(n, &vis);
	if (!t->in_txn) {
		if (t->on_change != NULL)
			t->on_change(t->cb_arg, n->path, n->path_len, &vis);
		return;
	}
	if (t->nheld == t->capheld) {
		size_t ncap = t->capheld ? t->capheld * 2 : 16;
		struct reg_held **nh =
		        straw_realloc(t->held, ncap * sizeof(*nh));
		if (nh == NULL)
			STRAWI_PANIC("out of memory holding a notification");
		t->held = nh;
		t->capheld = ncap;
	}
	h = straw_malloc(sizeof(*h) + n->path_len + 1);
	if (h == NULL)
		STRAWI_PANIC("out of memory holding a notification");
	h->vis = vis;
	h->len = n->path_len;
	memcpy(h->path, n->path, n->path_len + 1);
	t->held[t->nheld++] = h;
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
	t->root = node_new(t, "/", 1, 0, REG_PAYER_SRV);
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
	t->on_charge = NULL;
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

void
reg_tree_write_cost(const struct reg_tree *t, uint64_t payer, const char *path,
                    size_t len, size_t vlen, int mkdir, int64_t *nodes,
                    int64_t *bytes)
{
	const struct reg_node *n = reg_tree_find(t, path, len);

	*nodes = *bytes = 0;
	if (payer == REG_PAYER_SRV || (n != NULL && mkdir))
		return;
	if (n != NULL) {
		if (n->payer == payer) {
			*bytes = (int64_t)vlen - (int64_t)n->value_len;
		} else {
			*nodes = 1;
			*bytes = (int64_t)(len + vlen);
		}
		return;
	}
	if (!mkdir)
		*bytes = (int64_t)vlen;
	while (reg_tree_find(t, path, len) == NULL) {
		(*nodes)++;
		*bytes += (int64_t)len;
		len = parent_len(path, len);
	}
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
		made[i] = node_new(t, path, lens[i], who->uid, who->payer);
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
		charge(t, made[i]->payer, 1, (int64_t)made[i]->path_len);
		notify(t, made[i]);
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
		made[i]->payer = REG_PAYER_SRV; /* never charged */
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

/* Sets n's value as who; the value's payer becomes who's (strawd keeps
 * the node's payer). */
static int
set_value(struct reg_tree *t, const struct reg_who *who, struct reg_node *n,
          const void *val, size_t vlen)
{
	uint64_t payer = who->payer != REG_PAYER_SRV ? who->payer : n->payer;
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
		t->undo->old_payer = n->payer;
		n->value = nv;
		n->value_cap = (uint32_t)vlen;
	} else if (vlen > n->value_cap) {
		nv = straw_realloc(n->value, vlen);
		if (nv == NULL)
			return -ENOMEM;
		n->value = nv;
		n->value_cap = (uint32_t)vlen;
	}
	recharge(t, n, payer, vlen);
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
		rc = set_value(t, who, n, val, vlen);
		if (rc == 0)
			notify(t, n);
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
		charge(t, n->payer, 0, (int64_t)vlen);
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
		notify(t, n);
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
	notify(t, n);
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
		struct reg_held *h = t->held[i];
		const struct reg_node *n = reg_tree_find(t, h->path, h->len);
		struct reg_vis now;
		/* A node that exists at commit tells only those who may learn
		 * of it now too (created, then hidden, in one transaction). */
		if (n != NULL) {
			vis_of(n, &now);
			vis_intersect(&h->vis, &now);
		}
		if (t->on_change != NULL)
			t->on_change(t->cb_arg, h->path, h->len, &h->vis);
		straw_free(h);
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
			recharge(t, u->node, u->old_payer, u->old_len);
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
