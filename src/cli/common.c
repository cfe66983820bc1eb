#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "warden/cli.h"
#include "warden/error.h"

void wd_cli_error(const char *fmt, ...)
{
	va_list ap;

	fputs("warden: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int wd_exit_code_for(int err)
{
	switch (err) {
	case WD_OK: return WD_EXIT_OK;
	case WD_EUSAGE:
	case WD_EINPUT:
	case WD_ENOTFOUND:
	case WD_EEXISTS: return WD_EXIT_USAGE;
	case WD_EREFUSED:
	case WD_ECONFLICT: return WD_EXIT_NO;
	case WD_EBUDGET: return WD_EXIT_BUDGET;
	default: return WD_EXIT_INFRA;
	}
}

int wd_cli_interactive(void)
{
	return isatty(STDIN_FILENO) && isatty(STDERR_FILENO);
}

int wd_cli_confirm(const char *question)
{
	char line[64];

	if (!wd_cli_interactive())
		return -1;
	fprintf(stderr, "%s [y/N] ", question);
	fflush(stderr);
	if (!fgets(line, sizeof(line), stdin))
		return 0;
	return line[0] == 'y' || line[0] == 'Y';
}
