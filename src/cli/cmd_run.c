#include "warden/cli.h"

/* Placeholder until the owning module lands; replaced by the real command. */
int cmd_run(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	wd_cli_error("'run' is not built yet");
	return WD_EXIT_USAGE;
}
