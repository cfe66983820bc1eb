#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "warden/error.h"

#define WD_ERRMSG_MAX 2048

static _Thread_local char errmsg[WD_ERRMSG_MAX];
static _Thread_local int errcode;

int wd_error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(errmsg, sizeof(errmsg), fmt, ap);
	va_end(ap);
	errcode = code;
	return code;
}

int wd_error_wrap(int code, const char *fmt, ...)
{
	char prefix[WD_ERRMSG_MAX];
	char old[WD_ERRMSG_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, errmsg, sizeof(old));
	/* prefix + ": " + old, cut to fit: the head of a message matters most */
	size_t plen = strnlen(prefix, sizeof(errmsg) - 1);
	memcpy(errmsg, prefix, plen);
	if (old[0] && plen + 2 < sizeof(errmsg)) {
		size_t room = sizeof(errmsg) - plen - 3;
		size_t olen = strnlen(old, room);

		memcpy(errmsg + plen, ": ", 2);
		memcpy(errmsg + plen + 2, old, olen);
		plen += 2 + olen;
	}
	errmsg[plen] = '\0';
	errcode = code;
	return code;
}

int wd_error_errno(int code, const char *what)
{
	return wd_error_set(code, "%s: %s", what, strerror(errno));
}

const char *wd_error_last(void)
{
	return errmsg;
}

int wd_error_last_code(void)
{
	return errcode;
}

void wd_error_clear(void)
{
	errmsg[0] = '\0';
	errcode = WD_OK;
}

const char *wd_error_name(int code)
{
	switch (code) {
	case WD_OK: return "ok";
	case WD_EUSAGE: return "usage";
	case WD_EINPUT: return "input";
	case WD_EINFRA: return "infra";
	case WD_EREFUSED: return "refused";
	case WD_ETIMEOUT: return "timeout";
	case WD_ENOMEM: return "nomem";
	case WD_EBUDGET: return "budget";
	case WD_ENOTFOUND: return "notfound";
	case WD_EEXISTS: return "exists";
	case WD_ECONFLICT: return "conflict";
	case WD_EINTEGRITY: return "integrity";
	case WD_EINTERRUPTED: return "interrupted";
	default: return "error";
	}
}
