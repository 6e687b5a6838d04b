/*
 * The modules strawd runs besides the registry itself, in the order their
 * init runs.  A new part of strawd adds itself here.
 */
#include <stddef.h>

#include "strawd/server.h"

const struct reg_server_module *const strawd_modules[] = {
        &strawd_tube_broker,
        NULL,
};
