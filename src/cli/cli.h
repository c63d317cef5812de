/* cli.h: the operator's command line (init, domain, user, alias, check,
 * serve) and the hidden "role" verb master uses to re-execute itself. */
#ifndef RD_CLI_H
#define RD_CLI_H
int cli_main(int argc, char **argv);
#endif
