/*
 * src/registry/rundir.h - where strawd lives on a machine: the runtime
 * directory and its files, the machine id and the boot id.
 *
 * Runtime directory: $STRAW_DIR, else /run/straw for root, else
 * $XDG_RUNTIME_DIR/straw, else /tmp/straw-$UID.  It holds
 *   strawd.sock  the SOCK_SEQPACKET socket (mode 0666; the directory's mode
 *                decides who reaches it)
 *   strawd.lock  locked (flock) by the serving strawd; holds its pid
 *   ids          "<boot id> <last container id>", then "<id> <pid> <uid>"
 *                per container: ids are never reused within a boot, even
 *                across strawd restarts, and only their process may claim
 *                them back
 *   strawd.log   what an autostarted strawd logs
 */
#ifndef STRAWI_REG_RUNDIR_H
#define STRAWI_REG_RUNDIR_H

#include <stddef.h>
#include <stdint.h>

#define REG_DIR_MAX 200 /* bytes of a runtime directory path (sun_path) */

/* Writes the runtime directory's path to out.  dir, when not NULL, wins
 * over the environment.  Returns 0 or -ENAMETOOLONG. */
int reg_rundir_path(const char *dir, char *out, size_t cap);

/* Creates the directory (mode 0700, parents as needed) unless it exists.
 * Returns 0 or -errno. */
int reg_rundir_create(const char *dir);

/* Joins dir and a file name into out.  Returns 0 or -ENAMETOOLONG. */
int reg_rundir_file(const char *dir, const char *name, char *out, size_t cap);

/*
 * Takes the directory's lock: returns an fd holding it (the file then holds
 * our pid), or -EBUSY with *holder set to the serving strawd's pid (0 if
 * unknown), or another -errno.
 */
int reg_rundir_lock(const char *dir, int *holder);

/* The kernel's boot id (/proc/sys/kernel/random/boot_id), 36 characters and
 * a NUL in out (cap >= 37).  Returns 0 or -errno. */
int reg_boot_id(char *out, size_t cap);

/* A container id and the process that holds it, kept in dir/ids so that
 * after a restart of strawd only that process may claim the id again. */
struct reg_id_note {
	uint32_t id;  /* container id */
	int32_t pid;  /* its process */
	uint32_t uid; /* its uid */
};

/*
 * Reads dir/ids: returns the last container id given out in this boot (0 if
 * the file is missing or from another boot) and up to cap notes into notes
 * (*n of them).
 */
uint32_t reg_ids_load(const char *dir, const char *boot_id,
                      struct reg_id_note *notes, size_t cap, size_t *n);

/* Records the last id given out and the notes (atomically: write a
 * temporary file and rename it).  Returns 0 or -errno. */
int reg_ids_store(const char *dir, const char *boot_id, uint32_t last,
                  const struct reg_id_note *notes, size_t n);

#endif /* STRAWI_REG_RUNDIR_H */
