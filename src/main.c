/* main.c: the one redoubt binary; argv[1] picks an admin verb or a role. */
#include "cli/cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv);
}
