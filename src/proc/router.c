/*
 * The router's seam (src/proc/router.h): registering its ops table for a
 * container, and the delivery of messages that came from elsewhere.  The
 * entries for links, monitors and exit signals from other containers are
 * in link.c, beside the local ones.
 */
#include <errno.h>

#include "base/base.h"
#include "proc/proc.h"
#include "proc/router.h"

int
strawi_proc_router_set(straw_container *c, const struct strawi_router_ops *ops,
                       void *router)
{
	STRAWI_ASSERT(proc_tls_container == c);
	if (ops == NULL) {
		if (c->router != NULL) {
			int rc = proc_peers_down(c);
			if (rc < 0)
				return rc;
		}
		c->router = NULL;
		c->router_arg = NULL;
		return 0;
	}
	if (ops->version != STRAWI_ROUTER_OPS_VERSION)
		return -EINVAL;
	if (c->router != NULL)
		return -EBUSY;
	c->router = ops;
	c->router_arg = router;
	return 0;
}

void
strawi_proc_remote_deliver(straw_container *c, uint32_t process, straw_msg *m)
{
	struct proc *p;

	STRAWI_ASSERT(proc_tls_container == c);
	p = proc_table_get(&c->procs, process);
	m = proc_msg_for_queue(m, 1);
	if (m == NULL)
		return; /* out of memory: lost like a message to a dead pid */
	if (p != NULL)
		proc_deliver(p, m);
	else
		straw_msg_unref(m);
}

void
strawi_proc_remote_deliver_name(straw_container *c, const char *name,
                                straw_msg *m)
{
	straw_pid pid;

	if (proc_name_whereis(c, name, &pid) < 0) {
		straw_msg_unref(m);
		return;
	}
	strawi_proc_remote_deliver(c, pid.process, m);
}

straw_container *
strawi_proc_container_here(void)
{
	return proc_tls_container;
}
