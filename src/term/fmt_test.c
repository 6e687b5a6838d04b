#include "testing/check.h"
CASE(placeholder) { CHECK(1); }
CHECK_MAIN(placeholder)
