/* The smallest program using straw: names an error code. */
#include <stdio.h>

#include <straw/err.h>

int
main(void)
{
	printf("straw: %s\n", straw_strerror(STRAW_EBADTERM));
	return 0;
}
