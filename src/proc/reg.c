/* Joining strawd's registry (placeholder until the registry client). */
#include <errno.h>

#include "base/base.h"
#include "proc/proc.h"

int proc_reg_join(straw_container *c);
void proc_reg_leave(straw_container *c);

int
proc_reg_join(straw_container *c)
{
	(void)c;
	return STRAW_ENODAEMON;
}

void
proc_reg_leave(straw_container *c)
{
	(void)c;
}

void
proc_ps_publish(straw_container *c)
{
	(void)c;
}
