/* Tests of src/base: error names, buffers, the allocator hook, hashing. */
#include <errno.h>

#include "../testing/check.h"
#include "base.h"
#include "hash.h"

CASE(test_strerror)
{
	CHECK_STR(straw_strerror(0), "success");
	CHECK_STR(straw_strerror(STRAW_EBADTERM), "malformed term");
	CHECK_STR(straw_errname(STRAW_ETRAILING), "STRAW_ETRAILING");
	CHECK_STR(straw_strerror(-ENOENT), "No such file or directory");
	CHECK_STR(straw_errname(-EAGAIN), "EAGAIN");
	CHECK_STR(straw_errname(-99999), "UNKNOWN");
	CHECK_STR(straw_strerror(-99999), "unknown error");
}

CASE(test_buf)
{
	straw_buf b = STRAW_BUF_INIT;
	uint8_t *p;
	size_t n, i;

	for (i = 0; i < 1000; i++)
		CHECK_OK(straw_buf_append(&b, "ab", 2));
	CHECK_EQ(b.len, 2000);
	CHECK_OK(straw_buf_printf(&b, "%d-%s", 42, "x"));
	CHECK_EQ(b.len, 2004);
	CHECK_MEM(b.data + 2000, 4, "42-x", 4);
	p = straw_buf_take(&b, &n);
	CHECK_EQ(n, 2004);
	CHECK(b.data == NULL && b.len == 0);
	straw_free(p);
	p = straw_buf_take(&b, &n);
	CHECK(p == NULL);
	CHECK_EQ(n, 0);
	straw_buf_fini(NULL);
}

CASE(test_oom_leaves_buffer_unchanged)
{
	straw_allocator a = {check_failing_realloc, NULL};
	straw_buf b = STRAW_BUF_INIT;

	straw_set_allocator(&a);
	check_allocs_left = 1;
	CHECK_OK(straw_buf_append(&b, "abc", 3));
	CHECK_RC(straw_buf_reserve(&b, 1000), -ENOMEM);
	CHECK_EQ(b.len, 3);
	CHECK_MEM(b.data, 3, "abc", 3);
	straw_buf_fini(&b);
	straw_set_allocator(NULL);
	check_allocs_left = -1;
}

CASE(test_hash)
{
	uint64_t h1 = strawi_hash_bytes("hello", 5, 0);
	uint64_t h2 = strawi_hash_bytes("hellp", 5, 0);

	CHECK(h1 != h2);
	CHECK_EQ_U(h1, strawi_hash_bytes("hello", 5, 0));
	CHECK(strawi_hash_bytes("", 0, 0) != strawi_hash_bytes("", 0, 1));
}

CHECK_MAIN(test_strerror, test_buf, test_oom_leaves_buffer_unchanged, test_hash)
