#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "warden/buf.h"
#include "warden/cli.h"
#include "warden/error.h"
#include "warden/text.h"
#include "warden/ledger.h"

void wd_cli_error(const char *fmt, ...)
{
	wd_buf msg = WD_BUF_INIT, shown = WD_BUF_INIT;
	va_list ap;
	int rc;

	/* errors quote what failed (a remote's URL, a check's words, a model's
	 * tool name, a service's error text): redacted, like everything else
	 * warden prints, and without control characters, so no escape sequence
	 * in someone else's text reaches the terminal */
	va_start(ap, fmt);
	rc = wd_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	if (!rc)
		rc = wd_redact_buf(&msg);
	if (!rc)
		rc = wd_text_clean(&shown, msg.ptr, msg.len, 1);
	fprintf(stderr, "warden: %s\n", rc ? "(error message lost: out of memory)" : wd_buf_cstr(&shown));
	wd_buf_free(&msg);
	wd_buf_free(&shown);
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
