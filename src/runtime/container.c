/*
 * The runtime: the public entry points that start a container with every
 * layer above the process layer attached - today the router (src/route),
 * which the process layer cannot call itself (it is below it).  The
 * process layer runs the container (strawi_container_start); this file
 * only says which layers come with it.
 */
#include "proc/container_ext.h"
#include "route/route.h"

int
straw_container_start(const char *name, straw_proc_fn main_fn, void *arg,
                      const straw_container_opts *opts, straw_container **out)
{
	return strawi_container_start(name, main_fn, arg, opts,
	                              &strawi_route_ext, NULL, out);
}

int
straw_container_run(const char *name, straw_proc_fn main_fn, void *arg,
                    const straw_container_opts *opts)
{
	straw_container *c;
	int rc = straw_container_start(name, main_fn, arg, opts, &c);

	if (rc < 0)
		return rc;
	return straw_container_wait(c);
}
