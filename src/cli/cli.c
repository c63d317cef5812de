#include "cli/cli.h"
#include <stdio.h>
int cli_main(int argc, char **argv)
{
	(void)argc; (void)argv;
	fprintf(stderr, "redoubt: not yet\n");
	return 2;
}
