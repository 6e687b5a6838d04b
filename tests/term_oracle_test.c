/*
 * The live oracle: erl (tests/term_oracle.erl) writes random terms with
 * term_to_binary/2 under several options, the order lists:sort gives them,
 * and the OTP 25 vectors re-encoded with minor_version 2.  straw must
 * decode every variant, normalize each to OTP's minor_version 2 bytes
 * (maps of more than 32 keys: to an equal term), agree with OTP on =:=,
 * ==, < for every adjacent pair of the sorted terms, hash every variant
 * alike, and erl must read straw's encodings back as =:= terms.
 *
 * STRAW_ORACLE_SEED (default 20261121) and STRAW_ORACLE_TERMS (default
 * 1000) change the run; the seed is printed.
 */
#include <fcntl.h>
#include <straw/alloc.h>
#include <straw/term.h>

#include "testing/check.h"
#include "term/testutil.h"

struct blob {
	const uint8_t *p;
	size_t n;
};

struct rec {
	int bigmap;
	int nv;
	struct blob v[8]; /* v[0]: minor_version 2 */
};

static uint8_t *file_;
static size_t file_len_, at_;
static int failures_;

#define FAILF(...)                                    \
	do {                                          \
		if (failures_++ < 20)                 \
			fprintf(stderr, __VA_ARGS__); \
	} while (0)

static uint32_t
rd32(void)
{
	uint32_t v;

	CHECK(at_ + 4 <= file_len_);
	v = (uint32_t)file_[at_] << 24 | (uint32_t)file_[at_ + 1] << 16 |
	    (uint32_t)file_[at_ + 2] << 8 | file_[at_ + 3];
	at_ += 4;
	return v;
}

static uint8_t
rd8(void)
{
	CHECK(at_ < file_len_);
	return file_[at_++];
}

static struct blob
rdblob(void)
{
	struct blob b;

	b.n = rd32();
	CHECK(at_ + b.n <= file_len_);
	b.p = file_ + at_;
	at_ += b.n;
	return b;
}

static uint8_t *
read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	uint8_t *d;
	long n;

	if (f == NULL)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	d = malloc((size_t)n + 1);
	if (d == NULL || fread(d, 1, (size_t)n, f) != (size_t)n) {
		fclose(f);
		free(d);
		return NULL;
	}
	fclose(f);
	*len = (size_t)n;
	return d;
}

/* Runs argv bounded in time; returns its exit status or -1. */
static int
run(char *const argv[], int timeout_ms)
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		execvp(argv[0], argv);
		_exit(127);
	}
	if (pid < 0)
		return -1;
	st = check_wait_child(pid, timeout_ms);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static void
hexdump(const char *label, const uint8_t *p, size_t n)
{
	char *h = tu_hex(p, n < 200 ? n : 200);

	fprintf(stderr, "    %s: %s%s\n", label, h, n > 200 ? "..." : "");
	free(h);
}

/* Checks one variant of a term against its minor_version 2 bytes; adds
 * straw's encoding to out for erl. */
static void
check_variant(const struct rec *r, int k, straw_buf *out, int idx)
{
	const struct blob *v = &r->v[k], *m = &r->v[0];
	straw_buf norm = STRAW_BUF_INIT, plain = STRAW_BUF_INIT;
	size_t fault = 0;
	int rc;

	rc = straw_term_check(v->p, v->n, NULL, &fault);
	if (rc != 0) {
		FAILF("term %d variant %d: check: %s at %zu\n", idx, k,
		      straw_errname(rc), fault);
		hexdump("bytes", v->p, v->n);
		return;
	}
	CHECK_RC(straw_term_decompress(v->p, v->n, NULL, &plain, NULL), 0);
	if ((rc = tu_walk(plain.data, plain.len)) != 0)
		FAILF("term %d variant %d: cursor walk: %s\n", idx, k,
		      straw_errname(rc));
	rc = straw_term_normalize(v->p, v->n, NULL, &norm, &fault);
	if (rc != 0) {
		FAILF("term %d variant %d: normalize: %s at %zu\n", idx, k,
		      straw_errname(rc), fault);
		hexdump("bytes", v->p, v->n);
		goto out;
	}
	if (!r->bigmap &&
	    (norm.len != m->n || memcmp(norm.data, m->p, m->n) != 0)) {
		FAILF("term %d variant %d: normalize differs from OTP\n", idx,
		      k);
		hexdump("input", v->p, v->n);
		hexdump("straw", norm.data, norm.len);
		hexdump("otp  ", m->p, m->n);
	}
	if (!straw_term_equal(v->p, v->n, m->p, m->n) ||
	    !straw_term_equal(norm.data, norm.len, m->p, m->n))
		FAILF("term %d variant %d: not equal\n", idx, k);
	if (straw_term_compare(v->p, v->n, m->p, m->n) != 0)
		FAILF("term %d variant %d: compare != 0\n", idx, k);
	if (straw_term_hash(v->p, v->n) != straw_term_hash(m->p, m->n))
		FAILF("term %d variant %d: hash differs\n", idx, k);
	/* For erl: OTP's bytes, then straw's. */
	{
		uint8_t h[4];
		uint32_t n = (uint32_t)m->n;
		h[0] = (uint8_t)(n >> 24);
		h[1] = (uint8_t)(n >> 16);
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		straw_buf_append(out, h, 4);
		straw_buf_append(out, m->p, m->n);
		n = (uint32_t)norm.len;
		h[0] = (uint8_t)(n >> 24);
		h[1] = (uint8_t)(n >> 16);
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		straw_buf_append(out, h, 4);
		straw_buf_append(out, norm.data, norm.len);
	}
out:
	straw_buf_fini(&norm);
	straw_buf_fini(&plain);
}

static int
sign(int x)
{
	return (x > 0) - (x < 0);
}

CASE(oracle)
{
	const char *seed_s = getenv("STRAW_ORACLE_SEED");
	const char *count_s = getenv("STRAW_ORACLE_TERMS");
	char dir[] = "/tmp/straw-oracle-XXXXXX", gen[128], ver[128];
	char seed[32], count[32];
	straw_buf out = STRAW_BUF_INIT;
	struct rec *recs;
	uint32_t n, i, npairs, nvec, pairs_out = 0;
	int k;

	snprintf(seed, sizeof(seed), "%s",
	         seed_s && *seed_s ? seed_s : "20261121");
	snprintf(count, sizeof(count), "%s",
	         count_s && *count_s ? count_s : "1000");
	printf("term oracle: seed %s, %s terms (STRAW_ORACLE_SEED, "
	       "STRAW_ORACLE_TERMS)\n",
	       seed, count);
	CHECK(mkdtemp(dir) != NULL);
	snprintf(gen, sizeof(gen), "%s/gen.bin", dir);
	snprintf(ver, sizeof(ver), "%s/verify.bin", dir);
	{
		char *argv[] = {
		        "timeout", "170", STRAW_ESCRIPT, STRAW_ORACLE_SCRIPT,
		        "gen",     seed,  count,         STRAW_TERM_VECTORS,
		        gen,       NULL};
		CHECK_EQ(run(argv, 180000), 0);
	}
	file_ = read_file(gen, &file_len_);
	CHECK(file_ != NULL);
	at_ = 0;
	n = rd32();
	CHECK(n >= 2);
	recs = calloc(n, sizeof(*recs));
	for (i = 0; i < n; i++) {
		recs[i].bigmap = rd8();
		recs[i].nv = rd8();
		CHECK(recs[i].nv >= 1 && recs[i].nv <= 8);
		for (k = 0; k < recs[i].nv; k++)
			recs[i].v[k] = rdblob();
	}
	/* erl -> straw: every variant of every term. */
	straw_buf_append(&out, "\0\0\0\0", 4);
	for (i = 0; i < n; i++)
		for (k = 0; k < recs[i].nv; k++) {
			check_variant(&recs[i], k, &out, (int)i);
			pairs_out++;
		}
	/* Term order: OTP's sort, every adjacent pair, across encodings. */
	npairs = rd32();
	CHECK_EQ(npairs, n - 1);
	for (i = 0; i < npairs; i++) {
		uint32_t a = rd32(), b = rd32();
		int cmp = (int8_t)rd8(), exact = rd8();
		const struct rec *ra, *rb;
		CHECK(a < n && b < n);
		ra = &recs[a];
		rb = &recs[b];
		for (k = 0; k < 3; k++) {
			const struct blob *x = &ra->v[k % ra->nv];
			const struct blob *y = &rb->v[(k * 3 + 1) % rb->nv];
			int c = sign(
			        straw_term_compare(x->p, x->n, y->p, y->n));
			int e = straw_term_equal(x->p, x->n, y->p, y->n);
			if (c != cmp || e != exact) {
				FAILF("pair %u,%u: straw compare %d equal %d, "
				      "erl %d %d\n",
				      a, b, c, e, cmp, exact);
				hexdump("a", x->p, x->n);
				hexdump("b", y->p, y->n);
			}
			if (sign(straw_term_compare(y->p, y->n, x->p, x->n)) !=
			    -cmp)
				FAILF("pair %u,%u: compare not antisymmetric\n",
				      a, b);
			if (exact && straw_term_hash(x->p, x->n) !=
			                     straw_term_hash(y->p, y->n))
				FAILF("pair %u,%u: =:= but hashes differ\n", a,
				      b);
		}
	}
	/* The OTP 25 vectors against live erl's minor_version 2 bytes. */
	nvec = rd32();
	CHECK_EQ(nvec, 63);
	for (i = 0; i < nvec; i++) {
		struct rec r;
		memset(&r, 0, sizeof(r));
		r.bigmap = rd8();
		r.v[1] = rdblob();
		r.v[0] = rdblob();
		r.nv = 2;
		check_variant(&r, 1, &out, 100000 + (int)i);
		pairs_out++;
	}
	CHECK_EQ(at_, file_len_);
	/* straw -> erl */
	out.data[0] = (uint8_t)(pairs_out >> 24);
	out.data[1] = (uint8_t)(pairs_out >> 16);
	out.data[2] = (uint8_t)(pairs_out >> 8);
	out.data[3] = (uint8_t)pairs_out;
	{
		FILE *f = fopen(ver, "wb");
		CHECK(f != NULL);
		CHECK_EQ(fwrite(out.data, 1, out.len, f), out.len);
		fclose(f);
	}
	{
		char *argv[] = {
		        "timeout", "170", STRAW_ESCRIPT, STRAW_ORACLE_SCRIPT,
		        "verify",  ver,   NULL};
		CHECK_EQ(run(argv, 180000), 0);
	}
	printf("term oracle: %u terms, %u encodings checked, %u pairs "
	       "ordered, %u vectors\n",
	       n, pairs_out - nvec, npairs, nvec);
	CHECK_EQ(failures_, 0);
	unlink(gen);
	unlink(ver);
	rmdir(dir);
	straw_buf_fini(&out);
	free(recs);
	free(file_);
}

/*
 * What straw refuses where OTP 25 reads the bytes differently or refuses
 * them too, checked against the live erl: each term with straw's code and
 * binary_to_term/1's verdict.  The rows OTP accepts are the documented
 * differences of docs/term.md ("Differences from binary_to_term").
 */
CASE(refused_forms)
{
	static const struct {
		const char *hex; /* the term */
		int straw;       /* straw_term_check's code */
		int otp;         /* 1: binary_to_term reads it */
	} forms[] = {
	        /* References of no id words: OTP reads the next word as
	         * the id, so inside {Ref, 5} it refuses what follows; at
	         * the top it reads a word of the ignored rest (each here is
	         * followed by one: without it, OTP reads past the end of
	         * the binary, and its verdict changes from run to run).
	         * {Ref, 5} with a NEWER_REFERENCE_EXT of no words is not
	         * sent to erl: now and then it stops OTP 25's VM ("heap
	         * overrun" in external.c); term_check_test has it. */
	        {"835A000077036140620000000000", STRAW_EBADTERM, 1},
	        {"836802720000770361406200610561056A", STRAW_EBADTERM, 0},
	        {"8372000077036140620000000000", STRAW_EBADTERM, 1},
	        /* One-byte creations: 0..3 read, 4 and more refused. */
	        {"836777036140620000000100000002"
	         "03",
	         0, 1},
	        {"836777036140620000000100000002"
	         "04",
	         STRAW_EBADTERM, 0},
	        {"836777036140620000000100000002"
	         "FF",
	         STRAW_EBADTERM, 0},
	        {"83667703614062"
	         "00000001"
	         "03",
	         0, 1},
	        {"83667703614062"
	         "00000001"
	         "04",
	         STRAW_EBADTERM, 0},
	        {"83657703614062"
	         "00000001"
	         "03",
	         0, 1},
	        {"83657703614062"
	         "00000001"
	         "04",
	         STRAW_EBADTERM, 0},
	        {"8372000177036140620300000001", 0, 1},
	        {"8372000177036140620400000001", STRAW_EBADTERM, 0},
	        /* First reference word: 18 bits in the old forms only. */
	        {"83657703614062"
	         "0003FFFF"
	         "01",
	         0, 1},
	        {"83657703614062"
	         "00040000"
	         "01",
	         STRAW_EBADTERM, 0},
	        {"83657703614062"
	         "FFFFFFFF"
	         "01",
	         STRAW_EBADTERM, 0},
	        {"837200027703614062010003FFFF00000007", 0, 1},
	        {"8372000277036140620100040000"
	         "00000007",
	         STRAW_EBADTERM, 0},
	        {"835A00027703614062"
	         "00000001"
	         "FFFFFFFF"
	         "00000007",
	         0, 1},
	        /* Any field of the newer pid and port forms. */
	        {"8358770361406200FFFFFFFFFFFFFFFFFFFFFF", 0, 1},
	        {"8359770361406200FFFFFFFFFFFFFF", 0, 1},
	        /* Duplicate map keys, also of two encodings of one key. */
	        {"837400000002"
	         "6101"
	         "6101"
	         "6101"
	         "6102",
	         STRAW_EDUPKEY, 0},
	        {"837400000002"
	         "6101"
	         "6101"
	         "6200000001"
	         "6102",
	         STRAW_EDUPKEY, 0},
	        {"837400000002"
	         "640001"
	         "61"
	         "6101"
	         "770161"
	         "6102",
	         STRAW_EDUPKEY, 0},
	        {"837400000002"
	         "460000000000000000"
	         "6101"
	         "468000000000000000"
	         "6102",
	         STRAW_EDUPKEY, 0},
	        {"8368017400000002"
	         "680161016101"
	         "6801620000000161"
	         "02",
	         STRAW_EDUPKEY, 0},
	        {"837400000002"
	         "6101"
	         "6101"
	         "463FF0000000000000"
	         "6102",
	         0, 1},
	        /* Trailing bytes: binary_to_term/1 ignores them. */
	        {"8361016A", STRAW_ETRAILING, 1},
	        /* OTP's internal atom-table references (tags 73, 75). */
	        {"83490000", STRAW_EBADTAG, 1},
	        {"834B000000", STRAW_EBADTAG, 1},
	        /* A closure's size field one too large (trailing inside). */
	        {"83700000004D01A7CE600A7270E56B2EE4961C3D0D5C2E000000000000000"
	         "1"
	         "64000676656367656E610062053E73005864000D6E6F6E6F6465406E6F68"
	         "6F737400000009000000000000000061076A",
	         STRAW_EBADTERM, 1},
	};
	char dir[] = "/tmp/straw-refused-XXXXXX", in[128], out[128];
	straw_buf req = STRAW_BUF_INIT;
	uint8_t *verdict;
	size_t i, vlen;
	uint8_t h[4];

	CHECK(mkdtemp(dir) != NULL);
	snprintf(in, sizeof(in), "%s/in.bin", dir);
	snprintf(out, sizeof(out), "%s/out.bin", dir);
	h[0] = h[1] = h[2] = 0;
	h[3] = (uint8_t)TU_LEN(forms);
	straw_buf_append(&req, h, 4);
	for (i = 0; i < TU_LEN(forms); i++) {
		size_t n, fault;
		uint8_t *b = tu_unhex(forms[i].hex, &n);
		int rc;
		CHECK(b != NULL);
		rc = straw_term_check(b, n, NULL, &fault);
		if (rc != forms[i].straw)
			FAILF("form %zu (%s): straw %s, want %s\n", i,
			      forms[i].hex, straw_errname(rc),
			      straw_errname(forms[i].straw));
		h[0] = (uint8_t)(n >> 24);
		h[1] = (uint8_t)(n >> 16);
		h[2] = (uint8_t)(n >> 8);
		h[3] = (uint8_t)n;
		straw_buf_append(&req, h, 4);
		straw_buf_append(&req, b, n);
		free(b);
	}
	{
		FILE *f = fopen(in, "wb");
		CHECK(f != NULL);
		CHECK_EQ(fwrite(req.data, 1, req.len, f), req.len);
		fclose(f);
	}
	{
		char *argv[] = {
		        "timeout", "100", STRAW_ESCRIPT, STRAW_ORACLE_SCRIPT,
		        "accepts", in,    out,           NULL};
		CHECK_EQ(run(argv, 120000), 0);
	}
	verdict = read_file(out, &vlen);
	CHECK(verdict != NULL);
	CHECK_EQ(vlen, TU_LEN(forms));
	for (i = 0; i < TU_LEN(forms); i++)
		if (verdict[i] != forms[i].otp)
			FAILF("form %zu (%s): binary_to_term %s, want %s\n", i,
			      forms[i].hex, verdict[i] ? "reads it" : "refuses",
			      forms[i].otp ? "reads it" : "refuses");
	CHECK_EQ(failures_, 0);
	free(verdict);
	unlink(in);
	unlink(out);
	rmdir(dir);
	straw_buf_fini(&req);
}

CHECK_MAIN(oracle, refused_forms)
