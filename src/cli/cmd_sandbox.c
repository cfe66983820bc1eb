/*
 * warden sandbox: run one command confined, exactly as the gate runs a
 * check, and exit with its status (124 timeout, 128+signal).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "warden/cli.h"
#include "warden/error.h"
#include "warden/json.h"
#include "warden/sandbox.h"

#define MAX_LIST 64

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: warden sandbox [options] -- CMD [ARG...]\n"
	        "       warden sandbox --probe [--json]\n"
	        "\n"
	        "Run CMD confined, as the gate runs its checks: user, mount, pid and network\n"
	        "namespaces, Landlock, a seccomp filter, resource limits, a clean environment\n"
	        "(no API keys) and captured, capped output. Reads are an allow-list: CMD sees\n"
	        "/usr /bin /sbin /lib* /etc /opt /nix /gnu /snap read-only (minus the secrets\n"
	        "in /etc), /sys, a fresh /proc, a minimal /dev, a private /tmp and /var/tmp\n"
	        "(its HOME is there, empty), the work tree, and what --allow-read and\n"
	        "--allow-write add; nothing of /home, /root, /run or /var.\n"
	        "\n"
	        "options:\n"
	        "  --workdir DIR        the work tree, the only writable tree (default: .)\n"
	        "  --inside PATH        show the work tree at PATH (and start there)\n"
	        "  --overlay LOWER[:LOWER...]\n"
	        "                       make the work tree an overlay of these read-only\n"
	        "                       layers, topmost first (repeatable; --lower DIR adds one\n"
	        "                       layer whose name holds a ':'), shown at --inside PATH;\n"
	        "                       every write goes to --upper DIR; --overlay-work DIR is\n"
	        "                       overlayfs's empty scratch directory beside it\n"
	        "  --upper DIR          the overlay's writable layer\n"
	        "  --overlay-work DIR   the overlay's scratch directory (same file system as --upper)\n"
	        "  --timeout SECONDS    kill the whole tree after SECONDS (exit 124; default none)\n"
	        "  --memory MB          address-space limit per process (default 4096)\n"
	        "  --pids N             process limit (default 512)\n"
	        "  --net none|loopback|host\n"
	        "                       none: no network at all; loopback (default): only a\n"
	        "                       private loopback; host: the host network (no netns)\n"
	        "  --allow-read PATH    also readable, at its own path (repeatable), e.g. a\n"
	        "                       toolchain under your home such as ~/.pyenv\n"
	        "  --allow-write PATH   also writable (repeatable)\n"
	        "  --deny-read PATH     masked wherever it is visible; replaces the default list\n"
	        "                       ~/.ssh ~/.gnupg ~/.aws ~/.config/warden ~/.netrc\n"
	        "                       ~/.docker, which matters when home is allowed (repeatable)\n"
	        "  --env NAME[=VALUE]   pass (or set) one more variable; secrets never pass\n"
	        "  --output-cap BYTES   bytes of output kept, head and tail (default 4 MiB)\n"
	        "  --policy strict|best-effort|off\n"
	        "                       strict (default): a layer that cannot be applied is an\n"
	        "                       error; best-effort: run anyway and list what is missing\n"
	        "  --json               print one JSON object (status, output, layers) on stdout\n"
	        "  --probe              print which layers this machine supports, whether it can\n"
	        "                       make an overlay, and what is readable\n"
	        "  -v, --verbose        list the applied layers on stderr\n"
	        "\n"
	        "exit status: the command's own; 124 when the timeout killed it, 128+N when\n"
	        "signal N did, 127 when CMD was not found; 2 for a usage error and 3 when\n"
	        "the sandbox itself could not be set up.\n");
}

typedef struct args {
	wd_sandbox_opts o;
	const char *allow_read[MAX_LIST + 1];
	const char *allow_write[MAX_LIST + 1];
	const char *deny_read[MAX_LIST + 1];
	const char *env[MAX_LIST + 1];
	const char *lower[MAX_LIST + 1];
	size_t nr, nw, nd, ne, nl;
	wd_strvec split;      /* storage for the parts of --overlay A:B */
	int json, probe, verbose;
} args;

static int parse_uint(const char *flag, const char *s, unsigned long long max,
                      unsigned long long *out)
{
	char *end;
	unsigned long long v;

	if (!s || !*s || *s == '-')
		goto bad;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		goto bad;
	*out = v;
	return 0;
bad:
	wd_cli_error("%s needs a number, not '%s'", flag, s ? s : "");
	return -1;
}

/* A limit: a number from 1 to max; 0 would mean no room at all, never "none". */
static int parse_limit(const char *flag, const char *s, unsigned long long max,
                       unsigned long long *out)
{
	if (parse_uint(flag, s, max, out) < 0)
		return -1;
	if (*out == 0) {
		wd_cli_error("%s must be at least 1 (from 1 to %llu), not '%s'", flag, max, s);
		return -1;
	}
	return 0;
}

static int push(const char **list, size_t *n, const char *flag, const char *v)
{
	if (!v) {
		wd_cli_error("%s needs a value", flag);
		return -1;
	}
	if (*n >= MAX_LIST) {
		wd_cli_error("too many %s options (at most %d)", flag, MAX_LIST);
		return -1;
	}
	list[(*n)++] = v;
	list[*n] = NULL;
	return 0;
}

/* --overlay A:B:C, topmost first: one layer per part. */
static int push_layers(args *a, const char *flag, const char *v)
{
	if (!v) {
		wd_cli_error("%s needs a value", flag);
		return -1;
	}
	while (*v) {
		const char *colon = strchr(v, ':');
		size_t n = colon ? (size_t)(colon - v) : strlen(v);

		if (n) {
			if (wd_strvec_push_owned(&a->split, wd_strndup(v, n)) != 0) {
				wd_cli_error("out of memory");
				return -1;
			}
			if (push(a->lower, &a->nl, flag, a->split.v[a->split.n - 1]) < 0)
				return -1;
		}
		if (!colon)
			break;
		v = colon + 1;
	}
	return 0;
}

/* Returns the index of the command, or -1 (usage error), or 0 for --help/--probe. */
static int parse(args *a, int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *f = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		unsigned long long n;

		if (!strcmp(f, "--")) {
			i++;
			break;
		}
		if (f[0] != '-')
			break;
		if (!strcmp(f, "-h") || !strcmp(f, "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(f, "--json")) {
			a->json = 1;
		} else if (!strcmp(f, "--probe")) {
			a->probe = 1;
		} else if (!strcmp(f, "-v") || !strcmp(f, "--verbose")) {
			a->verbose = 1;
		} else if (!strcmp(f, "--workdir")) {
			if (!v)
				goto needs;
			a->o.workdir = v;
			i++;
		} else if (!strcmp(f, "--timeout")) {
			if (parse_uint(f, v, UINT_MAX, &n) < 0)
				return -1;
			a->o.timeout_sec = (unsigned)n;
			i++;
		} else if (!strcmp(f, "--memory")) {
			if (parse_limit(f, v, 1ULL << 40, &n) < 0)
				return -1;
			a->o.memory_mb = n;
			i++;
		} else if (!strcmp(f, "--pids")) {
			if (parse_limit(f, v, 1u << 22, &n) < 0)
				return -1;
			a->o.pids = (unsigned)n;
			i++;
		} else if (!strcmp(f, "--output-cap")) {
			if (parse_limit(f, v, (unsigned long long)SIZE_MAX, &n) < 0)
				return -1;
			a->o.output_cap = (size_t)n;
			i++;
		} else if (!strcmp(f, "--net")) {
			if (v && !strcmp(v, "none"))
				a->o.net = WD_NET_NONE;
			else if (v && !strcmp(v, "loopback"))
				a->o.net = WD_NET_LOOPBACK;
			else if (v && !strcmp(v, "host"))
				a->o.net = WD_NET_HOST;
			else {
				wd_cli_error("--net takes none, loopback or host");
				return -1;
			}
			i++;
		} else if (!strcmp(f, "--policy")) {
			if (wd_sandbox_policy_parse(&a->o.policy, v) != 0) {
				wd_cli_error("--policy takes strict, best-effort or off");
				return -1;
			}
			i++;
		} else if (!strcmp(f, "--allow-read")) {
			if (push(a->allow_read, &a->nr, f, v) < 0)
				return -1;
			i++;
		} else if (!strcmp(f, "--allow-write")) {
			if (push(a->allow_write, &a->nw, f, v) < 0)
				return -1;
			i++;
		} else if (!strcmp(f, "--deny-read")) {
			if (push(a->deny_read, &a->nd, f, v) < 0)
				return -1;
			i++;
		} else if (!strcmp(f, "--inside")) {
			if (!v)
				goto needs;
			a->o.workdir_inside = v;
			i++;
		} else if (!strcmp(f, "--overlay")) {
			if (push_layers(a, f, v) < 0)
				return -1;
			i++;
		} else if (!strcmp(f, "--lower")) {
			if (push(a->lower, &a->nl, f, v) < 0)
				return -1;
			i++;
		} else if (!strcmp(f, "--upper")) {
			if (!v)
				goto needs;
			a->o.overlay_upper = v;
			i++;
		} else if (!strcmp(f, "--overlay-work")) {
			if (!v)
				goto needs;
			a->o.overlay_work = v;
			i++;
		} else if (!strcmp(f, "--env")) {
			if (push(a->env, &a->ne, f, v) < 0)
				return -1;
			i++;
		} else {
			wd_cli_error("unknown option '%s'; see 'warden sandbox --help'", f);
			return -1;
		}
		continue;
needs:
		wd_cli_error("%s needs a value", f);
		return -1;
	}
	if (a->probe)
		return 0;
	if ((a->nl || a->o.overlay_work) && !a->o.overlay_upper) {
		wd_cli_error("--overlay needs --upper DIR (and --overlay-work DIR)");
		return -1;
	}
	if (a->o.overlay_upper && !a->nl) {
		wd_cli_error("--upper needs the read-only layers: --overlay LOWER[:LOWER...]");
		return -1;
	}
	if (i >= argc) {
		wd_cli_error("no command given; usage: warden sandbox [options] -- CMD [ARG...]");
		return -1;
	}
	return i;
}

/* Without --json the command's output is shown live, as it comes. */
static void stream_out(void *ctx, const char *data, size_t len)
{
	(void)ctx;
	fwrite(data, 1, len, stdout);
	fflush(stdout);
}

static int print_json(json_t *o)
{
	char *s;

	if (!o)
		return -1;
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	if (!s)
		return -1;
	puts(s);
	free(s);
	return 0;
}

static int do_probe(const args *a)
{
	wd_buf b = WD_BUF_INIT;
	int rc = wd_sandbox_probe(&b);

	if (rc) {
		wd_cli_error("%s", wd_error_last());
		wd_buf_free(&b);
		return wd_exit_code_for(rc);
	}
	if (a->json) {
		json_t *o = json_object(), *layers = json_array();
		char *line = b.ptr;

		while (line && *line) {
			char *nl = strchr(line, '\n');
			char *colon;

			if (nl)
				*nl = '\0';
			colon = strchr(line, ':');
			if (colon && !strncmp(line, "user:", 5)) {
				json_object_set_new(o, "user", json_string(colon + 2));
			} else if (colon && !strncmp(line, "reads:", 6)) {
				json_object_set_new(o, "reads", json_string(colon + 2));
			} else if (colon && !strncmp(line, "trial:", 6)) {
				json_object_set_new(o, "trial", json_string(colon + 2));
			} else if (colon) {
				json_t *l = json_object();

				*colon = '\0';
				json_object_set_new(l, "layer", json_string(line));
				json_object_set_new(l, "supported",
				                    json_boolean(!strncmp(colon + 2, "yes", 3)));
				json_object_set_new(l, "detail", json_string(colon + 2));
				json_array_append_new(layers, l);
			}
			line = nl ? nl + 1 : NULL;
		}
		json_object_set_new(o, "layers", layers);
		print_json(o);
	} else {
		fputs(wd_buf_cstr(&b), stdout);
	}
	wd_buf_free(&b);
	return WD_EXIT_OK;
}

int cmd_sandbox(int argc, char **argv)
{
	args a;
	wd_sandbox_result r;
	int cmd, rc;

	memset(&a, 0, sizeof(a));
	a.o.version = WD_SANDBOX_OPTS_VERSION;
	a.o.policy = WD_POLICY_STRICT;
	a.o.net = WD_NET_LOOPBACK;
	cmd = parse(&a, argc, argv);
	if (cmd <= 0) {
		wd_strvec_free(&a.split);
		if (cmd < 0)
			return WD_EXIT_USAGE;
		return a.probe ? do_probe(&a) : WD_EXIT_OK;
	}
	a.o.argv = (const char *const *)(argv + cmd);
	if (a.nl)
		a.o.overlay_lower = a.lower;
	if (a.nr)
		a.o.allow_read = a.allow_read;
	if (a.nw)
		a.o.allow_write = a.allow_write;
	if (a.nd)
		a.o.deny_read = a.deny_read;
	if (a.ne)
		a.o.env_allow = a.env;

	if (!a.json)
		a.o.on_output = stream_out;
	rc = wd_sandbox_run(&r, &a.o);
	wd_strvec_free(&a.split);
	if (rc) {
		if (a.json) {
			json_t *o = json_object();

			json_object_set_new(o, "status", json_string("error"));
			json_object_set_new(o, "error", json_string(wd_error_last()));
			json_object_set_new(o, "kind", json_string(wd_error_name(rc)));
			print_json(o);
		}
		wd_cli_error("%s", wd_error_last());
		return wd_exit_code_for(rc);
	}
	if (a.json) {
		json_t *o = json_object();

		json_object_set_new(o, "status", json_string("ran"));
		json_object_set_new(o, "exit_code", json_integer(r.exit_code));
		json_object_set_new(o, "timed_out", json_boolean(r.timed_out));
		json_object_set_new(o, "signal", json_integer(r.signal));
		json_object_set_new(o, "wall_ms", json_integer((json_int_t)r.wall_ms));
		json_object_set_new(o, "output", json_stringn_nocheck(r.output.ptr, r.output.len));
		json_object_set_new(o, "output_total", json_integer((json_int_t)r.output_total));
		json_object_set_new(o, "output_truncated", json_boolean(r.output_truncated));
		json_object_set_new(o, "layers", wd_json_strvec(&r.layers));
		json_object_set_new(o, "missing", wd_json_strvec(&r.missing));
		print_json(o);
	} else {
		if (a.verbose) {
			fprintf(stderr, "warden: sandbox layers:");
			for (size_t i = 0; i < r.layers.n; i++)
				fprintf(stderr, " %s", r.layers.v[i]);
			fputc('\n', stderr);
		}
		for (size_t i = 0; i < r.missing.n; i++)
			wd_cli_error("sandbox layer missing: %s", r.missing.v[i]);
		if (r.timed_out)
			wd_cli_error("timed out after %u s; the command and its processes were killed",
			             a.o.timeout_sec);
	}
	rc = r.exit_code;
	wd_sandbox_result_free(&r);
	return rc;
}
