/*
 * strawd's secret key and the MACs made with it.  When strawd brokers a
 * tube it writes a random nonce and HMAC-SHA256(key, identity, nonce,
 * memfd inode) into the tube's header; a side that announces the tube to
 * a later strawd (tube_adopt) must present memory whose header carries a
 * valid MAC, which nobody without the key can make, and which names that
 * very memfd, so a copy of a real header in other memory does not pass.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "base/base.h"
#include "base/log.h"
#include "strawd/tube_broker.h"

static int
read_key(int fd, uint8_t key[TUBE_KEY_BYTES])
{
	struct stat st;
	ssize_t n;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 077) != 0 || st.st_size != TUBE_KEY_BYTES)
		return -EPERM;
	n = pread(fd, key, TUBE_KEY_BYTES, 0);
	return n == TUBE_KEY_BYTES ? 0 : n < 0 ? -errno : -EIO;
}

static int
make_key(const char *dir, const char *path, uint8_t key[TUBE_KEY_BYTES])
{
	char tmp[512];
	size_t got = 0;
	int fd, rc = 0;

	while (got < TUBE_KEY_BYTES) {
		ssize_t n = getrandom(key + got, TUBE_KEY_BYTES - got, 0);
		if (n < 0 && errno != EINTR)
			return -errno;
		if (n > 0)
			got += (size_t)n;
	}
	snprintf(tmp, sizeof(tmp), "%s/.%s.%d", dir, TUBE_KEY_FILE,
	         (int)getpid());
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
	          0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) < 0 ||
	    write(fd, key, TUBE_KEY_BYTES) != TUBE_KEY_BYTES || fsync(fd) < 0)
		rc = errno ? -errno : -EIO;
	close(fd);
	if (rc == 0 && rename(tmp, path) < 0)
		rc = -errno;
	if (rc < 0)
		unlink(tmp);
	return rc;
}

int
tube_key_load(const char *dir, uint8_t key[TUBE_KEY_BYTES])
{
	char path[512];
	int fd, rc;

	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, TUBE_KEY_FILE) >=
	    sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		rc = read_key(fd, key);
		close(fd);
		if (rc == 0)
			return 0;
		/* Not strawd's alone: whoever else could read it could
		 * forge tubes, so tubes made with it are not trusted. */
		strawi_log(STRAWI_LOG_WARN,
		           "%s: not a private key of strawd's (%s): replacing "
		           "it (tubes made before cannot be announced again)",
		           path, straw_strerror(rc));
	} else if (errno != ENOENT) {
		strawi_log(STRAWI_LOG_WARN, "%s: %s: replacing it", path,
		           strerror(errno));
	}
	return make_key(dir, path, key);
}

/* The bytes a MAC covers, in a fixed layout (in the machine's byte
 * order: the key and the MACs never leave the machine). */
static size_t
ident_bytes(const struct tube_ident *id, uint8_t *out)
{
	static const char domain[] = "straw tube v1";
	uint64_t w[2];
	uint32_t v[4];
	size_t n = 0;

	memcpy(out, domain, sizeof(domain));
	n += sizeof(domain);
	v[0] = id->opener;
	v[1] = id->acceptor;
	v[2] = id->tid;
	v[3] = id->mode;
	memcpy(out + n, v, sizeof(v));
	n += sizeof(v);
	memcpy(out + n, id->nonce, sizeof(id->nonce));
	n += sizeof(id->nonce);
	w[0] = id->dev;
	w[1] = id->ino;
	memcpy(out + n, w, sizeof(w));
	return n + sizeof(w);
}

void
tube_key_mac(const uint8_t key[TUBE_KEY_BYTES], const struct tube_ident *id,
             uint8_t mac[32])
{
	uint8_t msg[128];
	unsigned int len = 32;
	size_t n = ident_bytes(id, msg);

	if (HMAC(EVP_sha256(), key, TUBE_KEY_BYTES, msg, n, mac, &len) ==
	            NULL ||
	    len != 32)
		STRAWI_PANIC("HMAC-SHA256 failed");
}

int
tube_key_check(const uint8_t key[TUBE_KEY_BYTES], const struct tube_ident *id,
               const uint8_t mac[32])
{
	uint8_t want[32];

	tube_key_mac(key, id, want);
	return CRYPTO_memcmp(want, mac, sizeof(want)) == 0;
}
