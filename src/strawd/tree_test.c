/* Unit tests of the registry tree, paths and the protocol's messages. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "registry/msg.h"
#include "registry/path.h"
#include "registry/rundir.h"
#include "strawd/tree.h"
#include "testing/check.h"

static char changes[64][REG_PATH_MAX + 1];
static struct reg_vis change_vis[64];
static int nchanges;
static int freed[4];
static int64_t charged_nodes[4], charged_bytes[4];

static void
on_change(void *arg, const char *path, size_t len, const struct reg_vis *vis)
{
	(void)arg;
	if (nchanges < 64) {
		memcpy(changes[nchanges], path, len);
		changes[nchanges][len] = '\0';
		change_vis[nchanges] = *vis;
	}
	nchanges++;
}

static void
on_charge(void *arg, uint64_t payer, int64_t nodes, int64_t bytes)
{
	(void)arg;
	CHECK(payer != REG_PAYER_SRV);
	if (payer < 4) {
		if (nodes < 0)
			freed[payer] += (int)-nodes;
		charged_nodes[payer] += nodes;
		charged_bytes[payer] += bytes;
	}
}

static void
setup(struct reg_tree *t)
{
	CHECK_OK(reg_tree_init(t));
	t->on_change = on_change;
	t->on_charge = on_charge;
	nchanges = 0;
	memset(freed, 0, sizeof(freed));
	memset(charged_nodes, 0, sizeof(charged_nodes));
	memset(charged_bytes, 0, sizeof(charged_bytes));
}

#define P(s) (s), strlen(s)

CASE(paths)
{
	char big[REG_PATH_MAX + 2];

	CHECK_OK(reg_path_check(P("/")));
	CHECK_OK(reg_path_check(P("/a")));
	CHECK_OK(reg_path_check(P("/a/b.c/..d/x..")));
	CHECK_RC(reg_path_check(P("")), STRAW_EBADPATH);
	CHECK_RC(reg_path_check(P("a/b")), STRAW_EBADPATH);
	CHECK_RC(reg_path_check(P("/a/")), STRAW_EBADPATH);
	CHECK_RC(reg_path_check(P("//a")), STRAW_EBADPATH);
	CHECK_RC(reg_path_check(P("/a//b")), STRAW_EBADPATH);
	CHECK_RC(reg_path_check(P("/a/../b")), STRAW_EBADPATH);
	CHECK_RC(reg_path_check(P("/..")), STRAW_EBADPATH);
	CHECK_RC(reg_path_check(P("/a/.")), STRAW_EBADPATH);
	CHECK_RC(reg_path_check("/a\0b", 4), STRAW_EBADPATH);
	CHECK_RC(reg_path_check(P("/a b")), STRAW_EBADPATH);
	CHECK_RC(reg_path_check(P("/a\x7f")), STRAW_EBADPATH);
	memset(big, 'x', sizeof(big));
	big[0] = '/';
	CHECK_OK(reg_path_check(big, REG_PATH_MAX));
	CHECK_RC(reg_path_check(big, REG_PATH_MAX + 1), STRAW_EBADPATH);
	CHECK_EQ(reg_path_within(P("/a/b"), P("/a")), 1);
	CHECK_EQ(reg_path_within(P("/ab"), P("/a")), 0);
	CHECK_EQ(reg_path_within(P("/a"), P("/")), 1);
}

CASE(write_read_ls_rm)
{
	struct reg_tree t;
	struct reg_who root = {0, 1};
	const struct reg_node *n;
	const uint8_t *v;
	size_t vlen;
	int err;

	setup(&t);
	CHECK_EQ(reg_tree_missing(&t, P("/a/b/c")), 3);
	CHECK_OK(reg_tree_write(&t, &root, P("/a/b/c"), "xyz", 3));
	CHECK_EQ(t.count, 4);
	CHECK_EQ(nchanges, 3);
	CHECK_STR(changes[0], "/a");
	CHECK_STR(changes[1], "/a/b");
	CHECK_STR(changes[2], "/a/b/c");
	CHECK_OK(reg_tree_read(&t, &root, P("/a/b/c"), &v, &vlen));
	CHECK_MEM(v, vlen, "xyz", 3);
	CHECK_OK(reg_tree_read(&t, &root, P("/a"), &v, &vlen));
	CHECK_EQ(vlen, 0);
	CHECK_RC(reg_tree_read(&t, &root, P("/a/x"), &v, &vlen), -ENOENT);
	CHECK_OK(reg_tree_write(&t, &root, P("/a/b/c"), "a longer value", 14));
	CHECK_OK(reg_tree_read(&t, &root, P("/a/b/c"), &v, &vlen));
	CHECK_MEM(v, vlen, "a longer value", 14);
	CHECK_OK(reg_tree_write(&t, &root, P("/a/b/d"), "", 0));
	CHECK_OK(reg_tree_mkdir(&t, &root, P("/a/b/d")));
	n = reg_tree_get(&t, &root, P("/a/b"), &err);
	CHECK(n != NULL);
	CHECK_EQ(n->nchildren, 2);
	CHECK_STR(n->first->path, "/a/b/c");
	CHECK_STR(n->last->path, "/a/b/d");
	nchanges = 0;
	CHECK_OK(reg_tree_rm(&t, &root, P("/a/b")));
	CHECK_EQ(nchanges, 3);
	CHECK_STR(changes[0], "/a/b");
	CHECK_EQ(freed[1], 3);
	CHECK_EQ(t.count, 2);
	CHECK(reg_tree_find(&t, P("/a/b/c")) == NULL);
	CHECK_RC(reg_tree_rm(&t, &root, P("/a/b")), -ENOENT);
	CHECK_RC(reg_tree_rm(&t, &root, P("/")), -EINVAL);
	reg_tree_fini(&t);
}

CASE(many_nodes)
{
	struct reg_tree t;
	struct reg_who root = {0, 0};
	char path[64];
	int i;

	setup(&t);
	for (i = 0; i < 20000; i++) {
		snprintf(path, sizeof(path), "/d%d/k%d", i % 100, i);
		CHECK_OK(reg_tree_write(&t, &root, P(path), path, 4));
	}
	CHECK_EQ(t.count, 1 + 100 + 20000);
	CHECK(t.nbuckets >= t.count);
	for (i = 0; i < 20000; i += 997) {
		snprintf(path, sizeof(path), "/d%d/k%d", i % 100, i);
		CHECK(reg_tree_find(&t, P(path)) != NULL);
	}
	reg_tree_fini(&t);
}

CASE(permissions)
{
	struct reg_tree t;
	struct reg_who root = {0, 1}, alice = {1000, 2}, bob = {1001, 3};
	struct reg_perms p;
	const uint8_t *v;
	size_t vlen;

	setup(&t);
	/* "/" belongs to root: others cannot create below it. */
	CHECK_RC(reg_tree_write(&t, &alice, P("/x"), "1", 1), -EACCES);
	CHECK_EQ(t.count, 1);
	CHECK_OK(reg_tree_mkdir(&t, &root, P("/home")));
	reg_tree_perms(reg_tree_find(&t, P("/home")), &p);
	p.nwrite = 1;
	p.write[0] = REG_ANYONE;
	CHECK_OK(reg_tree_set_perms(&t, &root, P("/home"), &p));
	CHECK_OK(reg_tree_write(&t, &alice, P("/home/alice/secret"), "s", 1));
	/* Default: owner only. */
	CHECK_EQ(reg_tree_find(&t, P("/home/alice/secret"))->owner, 1000);
	CHECK_RC(reg_tree_read(&t, &bob, P("/home/alice/secret"), &v, &vlen),
	         -EACCES);
	CHECK_RC(reg_tree_write(&t, &bob, P("/home/alice/secret"), "b", 1),
	         -EACCES);
	CHECK_RC(reg_tree_write(&t, &bob, P("/home/alice/new"), "b", 1),
	         -EACCES);
	CHECK_RC(reg_tree_rm(&t, &bob, P("/home/alice")), -EACCES);
	CHECK_OK(reg_tree_read(&t, &root, P("/home/alice/secret"), &v, &vlen));
	/* Alice lets Bob read; Bob may not give it away or take it. */
	reg_tree_perms(reg_tree_find(&t, P("/home/alice/secret")), &p);
	p.nread = 1;
	p.read[0] = 1001;
	CHECK_OK(reg_tree_set_perms(&t, &alice, P("/home/alice/secret"), &p));
	CHECK_OK(reg_tree_read(&t, &bob, P("/home/alice/secret"), &v, &vlen));
	CHECK_MEM(v, vlen, "s", 1);
	CHECK_RC(reg_tree_write(&t, &bob, P("/home/alice/secret"), "b", 1),
	         -EACCES);
	CHECK_RC(reg_tree_set_perms(&t, &bob, P("/home/alice/secret"), &p),
	         -EACCES);
	p.owner = 1001;
	CHECK_RC(reg_tree_set_perms(&t, &alice, P("/home/alice/secret"), &p),
	         -EACCES);
	CHECK_OK(reg_tree_set_perms(&t, &root, P("/home/alice/secret"), &p));
	CHECK_OK(reg_tree_write(&t, &bob, P("/home/alice/secret"), "b", 1));
	p.nread = REG_MAX_ACL + 1;
	CHECK_RC(reg_tree_set_perms(&t, &root, P("/home/alice/secret"), &p),
	         -EINVAL);
	reg_tree_fini(&t);
}

CASE(txn_commit_and_rollback)
{
	struct reg_tree t;
	struct reg_who root = {0, 1};
	const uint8_t *v;
	size_t vlen, count;
	struct reg_perms p;

	setup(&t);
	CHECK_OK(reg_tree_write(&t, &root, P("/keep/a"), "A", 1));
	CHECK_OK(reg_tree_write(&t, &root, P("/keep/b/c"), "C", 1));
	count = t.count;
	nchanges = 0;
	reg_tree_txn_begin(&t);
	CHECK_OK(reg_tree_write(&t, &root, P("/keep/a"), "A2", 2));
	CHECK_OK(reg_tree_rm(&t, &root, P("/keep/b")));
	CHECK_OK(reg_tree_write(&t, &root, P("/keep/b/new"), "N", 1));
	CHECK_OK(reg_tree_write(&t, &root, P("/fresh/x/y"), "Y", 1));
	reg_tree_perms(reg_tree_find(&t, P("/keep/a")), &p);
	p.nread = 1;
	p.read[0] = 5;
	CHECK_OK(reg_tree_set_perms(&t, &root, P("/keep/a"), &p));
	CHECK_EQ(nchanges, 0); /* held back */
	reg_tree_txn_rollback(&t);
	CHECK_EQ(nchanges, 0);
	CHECK_EQ(t.count, count);
	CHECK_OK(reg_tree_read(&t, &root, P("/keep/a"), &v, &vlen));
	CHECK_MEM(v, vlen, "A", 1);
	CHECK_EQ(reg_tree_find(&t, P("/keep/a"))->nread, 0);
	CHECK_OK(reg_tree_read(&t, &root, P("/keep/b/c"), &v, &vlen));
	CHECK_MEM(v, vlen, "C", 1);
	CHECK(reg_tree_find(&t, P("/keep/b/new")) == NULL);
	CHECK(reg_tree_find(&t, P("/fresh")) == NULL);
	CHECK_EQ(reg_tree_find(&t, P("/keep/b"))->nchildren, 1);
	/* Freed: the second /keep/b and /keep/b/new, /fresh, /fresh/x,
	 * /fresh/x/y. */
	CHECK_EQ(freed[1], 5);

	reg_tree_txn_begin(&t);
	CHECK_OK(reg_tree_write(&t, &root, P("/keep/a"), "A3", 2));
	CHECK_OK(reg_tree_rm(&t, &root, P("/keep/b")));
	reg_tree_txn_commit(&t);
	CHECK_EQ(nchanges, 3);
	CHECK_STR(changes[0], "/keep/a");
	CHECK_STR(changes[1], "/keep/b");
	CHECK_STR(changes[2], "/keep/b/c");
	CHECK(reg_tree_find(&t, P("/keep/b")) == NULL);
	CHECK_OK(reg_tree_read(&t, &root, P("/keep/a"), &v, &vlen));
	CHECK_MEM(v, vlen, "A3", 2);
	reg_tree_fini(&t);
}

/* Requests round-trip through the encoder and the hostile-input decoder. */
CASE(messages)
{
	straw_buf pkt = STRAW_BUF_INIT;
	straw_builder b;
	struct reg_req rq, op;
	struct reg_perms p = {7, 1, 2, {REG_ANYONE}, {3, 4}};
	const uint8_t *frame;
	size_t off = 0, flen;
	int known;

	straw_builder_init(&b);
	CHECK_OK(reg_enc_write(&pkt, &b, 42, P("/a/b"), "val", 3));
	CHECK_OK(reg_enc_setperms(&pkt, &b, 43, P("/a"), &p));
	CHECK_OK(reg_enc_lookup(&pkt, &b, 44, "17", "srv"));
	CHECK_EQ(reg_frame_next(pkt.data, pkt.len, &off, &frame, &flen), 1);
	CHECK_OK(reg_msg_decode_req(frame, flen, &rq, &known));
	CHECK_EQ(rq.op, REG_OP_WRITE);
	CHECK_EQ(rq.id, 42);
	CHECK_MEM(rq.path, rq.path_len, "/a/b", 4);
	CHECK_MEM(rq.value, rq.value_len, "val", 3);
	CHECK_EQ(reg_frame_next(pkt.data, pkt.len, &off, &frame, &flen), 1);
	CHECK_OK(reg_msg_decode_req(frame, flen, &rq, &known));
	CHECK_EQ(rq.op, REG_OP_SETPERMS);
	CHECK_EQ(rq.perms.owner, 7);
	CHECK_EQ(rq.perms.nread, 1);
	CHECK_EQ_U(rq.perms.read[0], REG_ANYONE);
	CHECK_EQ(rq.perms.nwrite, 2);
	CHECK_EQ(rq.perms.write[1], 4);
	CHECK_EQ(reg_frame_next(pkt.data, pkt.len, &off, &frame, &flen), 1);
	CHECK_OK(reg_msg_decode_req(frame, flen, &rq, &known));
	CHECK_EQ(rq.op, REG_OP_LOOKUP);
	CHECK_EQ(rq.by_id, 1);
	CHECK_EQ(rq.num, 17);
	CHECK_EQ(reg_frame_next(pkt.data, pkt.len, &off, &frame, &flen), 0);

	/* A transaction with two operations. */
	{
		straw_buf ops = STRAW_BUF_INIT;
		pkt.len = 0;
		off = 0;
		CHECK_OK(reg_txnop_write(&ops, &b, P("/t"), "1", 1));
		CHECK_OK(reg_txnop_check(&ops, &b, P("/u"), NULL, 0));
		CHECK_OK(reg_enc_txn(&pkt, &b, 9, ops.data, ops.len, 2));
		straw_buf_fini(&ops);
		CHECK_EQ(reg_frame_next(pkt.data, pkt.len, &off, &frame, &flen),
		         1);
		CHECK_OK(reg_msg_decode_req(frame, flen, &rq, &known));
		CHECK_EQ(rq.op, REG_OP_TXN);
		CHECK_EQ(rq.nops, 2);
		CHECK_OK(reg_msg_txn_next(&rq, &op));
		CHECK_EQ(op.op, REG_OP_WRITE);
		CHECK_OK(reg_msg_txn_next(&rq, &op));
		CHECK_EQ(op.op, REG_OP_CHECK);
		CHECK_EQ(op.value_none, 1);
	}

	/* Hostile: bad length, truncated term, wrong arity, unknown shape. */
	{
		static const uint8_t badlen[] = {0, 0, 0, 9, 131, 106};
		static const uint8_t trunc[] = {131, 104, 3, 119, 4, 'r'};
		static const uint8_t nottuple[] = {131, 106};
		static const uint8_t arity[] = {131, 104, 2,   119, 4, 'r',
		                                'e', 'a', 'd', 97,  5};
		off = 0;
		CHECK_RC(reg_frame_next(badlen, sizeof(badlen), &off, &frame,
		                        &flen),
		         STRAW_EPROTOCOL);
		CHECK(reg_msg_decode_req(trunc, sizeof(trunc), &rq, &known) <
		      0);
		CHECK_EQ(known, 0);
		CHECK_RC(reg_msg_decode_req(nottuple, sizeof(nottuple), &rq,
		                            &known),
		         STRAW_EPROTOCOL);
		CHECK_RC(reg_msg_decode_req(arity, sizeof(arity), &rq, &known),
		         STRAW_EPROTOCOL);
		CHECK_EQ(known, 1);
		CHECK_EQ(rq.id, 5);
	}
	straw_builder_fini(&b);
	straw_buf_fini(&pkt);
}

CASE(runtime_dir_and_ids)
{
	char out[REG_DIR_MAX + 1], dir[64], boot[40];
	int holder, fd, fd2;

	setenv("STRAW_DIR", "/x/y", 1);
	CHECK_OK(reg_rundir_path(NULL, out, sizeof(out)));
	CHECK_STR(out, "/x/y");
	CHECK_OK(reg_rundir_path("/given", out, sizeof(out)));
	CHECK_STR(out, "/given");
	unsetenv("STRAW_DIR");
	setenv("XDG_RUNTIME_DIR", "/run/user/1000", 1);
	CHECK_OK(reg_rundir_path(NULL, out, sizeof(out)));
	if (geteuid() == 0) {
		CHECK_STR(out, "/run/straw");
	} else {
		CHECK_STR(out, "/run/user/1000/straw");
		unsetenv("XDG_RUNTIME_DIR");
		CHECK_OK(reg_rundir_path(NULL, out, sizeof(out)));
		snprintf(dir, sizeof(dir), "/tmp/straw-%u",
		         (unsigned)geteuid());
		CHECK_STR(out, dir);
	}

	/* Created 0700 with parents; the lock; the id counter. */
	snprintf(dir, sizeof(dir), "/tmp/straw-rundir-XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	snprintf(out, sizeof(out), "%s/a/b", dir);
	CHECK_OK(reg_rundir_create(out));
	{
		struct stat st;
		CHECK_OK(stat(out, &st));
		CHECK_EQ(st.st_mode & 0777, 0700);
	}
	fd = reg_rundir_lock(out, &holder);
	CHECK(fd >= 0);
	fd2 = reg_rundir_lock(out, &holder);
	CHECK_RC(fd2, -EBUSY);
	CHECK_EQ(holder, getpid());
	close(fd);
	fd = reg_rundir_lock(out, &holder);
	CHECK(fd >= 0);
	close(fd);
	CHECK_OK(reg_boot_id(boot, sizeof(boot)));
	CHECK_EQ(strlen(boot), 36);
	{
		struct reg_id_note in[2] = {{3, 100, 0}, {41, 200, 1000}};
		struct reg_id_note got[4];
		size_t n;
		CHECK_EQ(reg_ids_load(out, boot, got, 4, &n), 0);
		CHECK_EQ(n, 0);
		CHECK_OK(reg_ids_store(out, boot, 41, in, 2));
		CHECK_EQ(reg_ids_load(out, boot, got, 4, &n), 41);
		CHECK_EQ(n, 2);
		CHECK_EQ(got[1].id, 41);
		CHECK_EQ(got[1].pid, 200);
		CHECK_EQ(got[1].uid, 1000);
		CHECK_EQ(reg_ids_load(out, "another-boot", got, 4, &n), 0);
		CHECK_EQ(n, 0);
	}

	snprintf(out, sizeof(out), "%s/a/b/ids", dir);
	unlink(out);
	snprintf(out, sizeof(out), "%s/a/b/strawd.lock", dir);
	unlink(out);
	snprintf(out, sizeof(out), "%s/a/b", dir);
	rmdir(out);
	snprintf(out, sizeof(out), "%s/a", dir);
	rmdir(out);
	rmdir(dir);
}

/* Each node is charged to its payer (one node, its path and value bytes);
 * setting a value moves the charge to the setter; strawd's writes keep
 * it; rollback charges back exactly. */
CASE(charges_follow_payers)
{
	struct reg_tree t;
	struct reg_who srv = {0, REG_PAYER_SRV}, a = {0, 1}, b = {0, 2};
	int64_t nodes, bytes;

	setup(&t);
	CHECK_OK(reg_tree_write(&t, &srv, P("/s"), "x", 1));
	CHECK_EQ(charged_nodes[1] + charged_nodes[2], 0);
	reg_tree_write_cost(&t, 1, P("/a/bc"), 3, 0, &nodes, &bytes);
	CHECK_EQ(nodes, 2);
	CHECK_EQ(bytes, 2 + 5 + 3);
	CHECK_OK(reg_tree_write(&t, &a, P("/a/bc"), "xyz", 3));
	CHECK_EQ(charged_nodes[1], 2);
	CHECK_EQ(charged_bytes[1], 2 + 5 + 3);
	reg_tree_write_cost(&t, 1, P("/a/bc"), 1, 0, &nodes, &bytes);
	CHECK_EQ(nodes, 0);
	CHECK_EQ(bytes, -2);
	reg_tree_write_cost(&t, 1, P("/a/bc"), 9, 1, &nodes, &bytes);
	CHECK_EQ(nodes, 0);
	CHECK_EQ(bytes, 0); /* mkdir of an existing node */
	/* b takes /a/bc over by setting its value. */
	reg_tree_write_cost(&t, 2, P("/a/bc"), 4, 0, &nodes, &bytes);
	CHECK_EQ(nodes, 1);
	CHECK_EQ(bytes, 5 + 4);
	CHECK_OK(reg_tree_write(&t, &b, P("/a/bc"), "wxyz", 4));
	CHECK_EQ(charged_nodes[1], 1);
	CHECK_EQ(charged_bytes[1], 2);
	CHECK_EQ(charged_nodes[2], 1);
	CHECK_EQ(charged_bytes[2], 5 + 4);
	/* strawd rewriting it charges b for the new length. */
	CHECK_OK(reg_tree_write(&t, &srv, P("/a/bc"), "w", 1));
	CHECK_EQ(charged_bytes[2], 5 + 1);
	/* A transaction rolled back charges nothing in the end. */
	reg_tree_txn_begin(&t);
	CHECK_OK(reg_tree_write(&t, &a, P("/a/bc"), "longer", 6));
	CHECK_OK(reg_tree_write(&t, &a, P("/a/new/deep"), "1", 1));
	CHECK_OK(reg_tree_rm(&t, &b, P("/a")));
	reg_tree_txn_rollback(&t);
	CHECK_EQ(charged_nodes[1], 1);
	CHECK_EQ(charged_bytes[1], 2);
	CHECK_EQ(charged_nodes[2], 1);
	CHECK_EQ(charged_bytes[2], 5 + 1);
	/* Removal gives everything back. */
	CHECK_OK(reg_tree_rm(&t, &a, P("/a")));
	CHECK_EQ(charged_nodes[1], 0);
	CHECK_EQ(charged_bytes[1], 0);
	CHECK_EQ(charged_nodes[2], 0);
	CHECK_EQ(charged_bytes[2], 0);
	reg_tree_fini(&t);
}

/* A change is visible to the uids that may read the node and all its
 * ancestors, removals included, also through a transaction. */
CASE(visibility_of_changes)
{
	struct reg_tree t;
	struct reg_who root = {0, 1};
	struct reg_perms p = {0};

	setup(&t);
	CHECK_OK(reg_tree_write(&t, &root, P("/secret/name"), "s", 1));
	CHECK_EQ(nchanges, 2);
	CHECK_EQ(reg_vis_allows(&change_vis[0], 0), 1);
	CHECK_EQ(reg_vis_allows(&change_vis[0], 65534), 0);
	CHECK_EQ(reg_vis_allows(&change_vis[1], 65534), 0);
	/* Readable by all, but below a node nobody may list: hidden. */
	p.owner = 0;
	p.nread = 1;
	p.read[0] = REG_ANYONE;
	CHECK_OK(reg_tree_set_perms(&t, &root, P("/secret/name"), &p));
	CHECK_EQ(reg_vis_allows(&change_vis[2], 65534), 0);
	/* Once /secret lets 65534 read, 65534 (only) learns of both. */
	p.read[0] = 65534;
	CHECK_OK(reg_tree_set_perms(&t, &root, P("/secret"), &p));
	CHECK_EQ(reg_vis_allows(&change_vis[3], 65534), 1);
	CHECK_EQ(reg_vis_allows(&change_vis[3], 1000), 0);
	nchanges = 0;
	CHECK_OK(reg_tree_rm(&t, &root, P("/secret")));
	CHECK_EQ(nchanges, 2);
	CHECK_EQ(reg_vis_allows(&change_vis[0], 65534), 1);
	CHECK_EQ(reg_vis_allows(&change_vis[1], 65534), 1);
	CHECK_EQ(reg_vis_allows(&change_vis[1], 1000), 0);
	/* Created readable and hidden again in one transaction: the
	 * creation is not shown to those it hides it from. */
	nchanges = 0;
	reg_tree_txn_begin(&t);
	CHECK_OK(reg_tree_mkdir(&t, &root, P("/pub")));
	p.read[0] = REG_ANYONE;
	CHECK_OK(reg_tree_set_perms(&t, &root, P("/pub"), &p));
	CHECK_OK(reg_tree_write(&t, &root, P("/pub/x"), "1", 1));
	CHECK_OK(reg_tree_set_perms(&t, &root, P("/pub/x"), &p));
	p.nread = 0;
	CHECK_OK(reg_tree_set_perms(&t, &root, P("/pub"), &p));
	CHECK_EQ(nchanges, 0);
	reg_tree_txn_commit(&t);
	CHECK_EQ(nchanges, 5);
	CHECK_STR(changes[3], "/pub/x");
	CHECK_EQ(reg_vis_allows(&change_vis[1], 65534), 0);
	CHECK_EQ(reg_vis_allows(&change_vis[3], 65534), 0);
	CHECK_EQ(reg_vis_allows(&change_vis[3], 0), 1);
	CHECK_EQ(reg_vis_allows(&change_vis[4], 65534), 0);
	reg_tree_fini(&t);
}

CHECK_MAIN(paths, write_read_ls_rm, many_nodes, permissions,
           txn_commit_and_rollback, charges_follow_payers,
           visibility_of_changes, messages, runtime_dir_and_ids)
