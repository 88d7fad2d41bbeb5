/* Command-line parsing with sh/bash semantics.  Pure (no I/O besides the
 * usage text), so tests/unit/shell_options.c compiles it directly. */
#include "shell/shell_int.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Single-letter `set` options bash accepts on its command line; forwarded. */
static const char SET_LETTERS[] = "abefhkmnptuvxBCHP";

void shell_usage(FILE *f)
{
	fputs("Usage: agentsh [options] [-c STRING [NAME [ARG...]] | FILE [ARG...] | -s [ARG...]]\n"
	      "       agentsh SUBCOMMAND [ARG...]      (see `agentsh help`)\n"
	      "\n"
	      "A login shell for AI-agent accounts: every command runs in a kernel-enforced\n"
	      "sandbox governed by a YAML policy; the shell language is a real bash.\n"
	      "\n"
	      "Modes:\n"
	      "  -c STRING [NAME [ARG...]]  run STRING as `sh -c` does: $0=NAME, $1...=ARGs\n"
	      "  FILE [ARG...]              run a script\n"
	      "  -s [ARG...]                read commands from stdin (default when stdin is\n"
	      "                             not a terminal); no prompts\n"
	      "  -i                         interactive even when stdin is not a terminal\n"
	      "  -l, --login                login shell: read the login files bash reads\n"
	      "                             (also when argv[0] starts with '-')\n"
	      "\n"
	      "Options:\n"
	      "  --policy NAME|FILE         select a policy (root, or when the configuration\n"
	      "                             allows user policies)\n"
	      "  --user NAME                (root only) run the commands as account NAME\n"
	      "  --no-config                (root only) ignore /etc/agentsh and use the\n"
	      "                             embedded default policy\n"
	      "  --delegate PATH            (root only) the delegate interpreter (default\n"
	      "                             /bin/bash, or session.shell in the configuration)\n"
	      "  --json, --output json      print one JSON result object (with -c)\n"
	      "  --output shell             normal output (default)\n"
	      "  --events all|summary|blocked|none\n"
	      "                             which events the JSON result includes\n"
	      "  -abefhkmnptuvxBCHP, +...   bash `set` options, passed to the delegate\n"
	      "  -o OPTION, +o OPTION       bash `set -o` options, passed to the delegate\n"
	      "  --version                  print the version and exit\n"
	      "  --help                     print this help and exit\n"
	      "\n"
	      "Exit status: that of the command (128+N when killed by signal N); 2 for a\n"
	      "usage error.  Manual: man agentsh.\n",
	      f);
}

static int usage_err(char *err, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, n, fmt, ap);
	va_end(ap);
	return 2;
}

static int add_flag(struct shell_opts *o, char sign, char letter)
{
	if (o->nsetflags >= SHELL_MAX_SETFLAGS)
		return -1;
	char *b = o->flagbuf[o->nsetflags];
	b[0] = sign;
	b[1] = letter;
	b[2] = 0;
	o->setflags[o->nsetflags++] = b;
	return 0;
}

static int add_word(struct shell_opts *o, const char *w)
{
	if (o->nsetflags >= SHELL_MAX_SETFLAGS)
		return -1;
	o->setflags[o->nsetflags++] = w;
	return 0;
}

/* "--name=value" or "--name value": *val gets the value, *i advances. */
static int long_value(int argc, char **argv, int *i, const char *eq, const char **val,
		      char *err, size_t n)
{
	if (eq) {
		*val = eq + 1;
		return 0;
	}
	if (*i + 1 >= argc)
		return usage_err(err, n, "agentsh: %s: option requires an argument (see agentsh --help)",
			    argv[*i]);
	*val = argv[++*i];
	return 0;
}

static bool long_is(const char *arg, const char *name, const char **eq)
{
	size_t l = strlen(name);
	if (strncmp(arg, name, l) != 0)
		return false;
	if (arg[l] == 0) {
		*eq = NULL;
		return true;
	}
	if (arg[l] == '=') {
		*eq = arg + l;
		return true;
	}
	return false;
}

static int parse_long(int argc, char **argv, int *i, struct shell_opts *o, char *err, size_t n)
{
	const char *a = argv[*i], *eq = NULL, *v = NULL;
	int r;

	if (!strcmp(a, "--login"))
		o->login = true;
	else if (!strcmp(a, "--version"))
		o->mode = SHELL_MODE_VERSION;
	else if (!strcmp(a, "--help"))
		o->mode = SHELL_MODE_HELP;
	else if (!strcmp(a, "--no-config"))
		o->no_config = true;
	else if (!strcmp(a, "--json"))
		o->json = true;
	else if (!strcmp(a, "--noprofile") || !strcmp(a, "--norc") || !strcmp(a, "--posix")) {
		if (add_word(o, a) < 0)
			return usage_err(err, n, "agentsh: too many shell options");
	} else if (long_is(a, "--policy", &eq)) {
		if ((r = long_value(argc, argv, i, eq, &o->policy, err, n)))
			return r;
	} else if (long_is(a, "--user", &eq)) {
		if ((r = long_value(argc, argv, i, eq, &o->user, err, n)))
			return r;
	} else if (long_is(a, "--events", &eq)) {
		if ((r = long_value(argc, argv, i, eq, &o->events, err, n)))
			return r;
		if (strcmp(o->events, "all") && strcmp(o->events, "summary") &&
		    strcmp(o->events, "blocked") && strcmp(o->events, "none"))
			return usage_err(err, n, "agentsh: --events: '%s' is not one of all, summary, "
				    "blocked, none", o->events);
	} else if (long_is(a, "--delegate", &eq)) {
		if ((r = long_value(argc, argv, i, eq, &o->delegate, err, n)))
			return r;
	} else if (long_is(a, "--output", &eq)) {
		if ((r = long_value(argc, argv, i, eq, &v, err, n)))
			return r;
		if (!strcmp(v, "json"))
			o->json = true;
		else if (!strcmp(v, "shell"))
			o->json = false;
		else
			return usage_err(err, n, "agentsh: --output: '%s' is not 'json' or 'shell'", v);
	} else {
		return usage_err(err, n, "agentsh: %s: unknown option (see agentsh --help)", a);
	}
	return 0;
}

/* One cluster like "-lc", "-ex", "+o": returns 0 or 2. */
static int parse_short(int argc, char **argv, int *i, struct shell_opts *o, bool *want_c,
		       char *err, size_t n)
{
	const char *a = argv[*i];
	char sign = a[0];

	for (const char *p = a + 1; *p; p++) {
		char c = *p;
		if (sign == '-' && c == 'c')
			*want_c = true;
		else if (sign == '-' && c == 'i')
			o->interactive = true;
		else if (sign == '-' && c == 'l')
			o->login = true;
		else if (sign == '-' && c == 's')
			o->read_stdin = true;
		else if (c == 'o') {
			if (*i + 1 >= argc)
				return usage_err(err, n, "agentsh: %co: option requires an argument", sign);
			if (add_flag(o, sign, 'o') < 0 || add_word(o, argv[++*i]) < 0)
				return usage_err(err, n, "agentsh: too many shell options");
		} else if (c && strchr(SET_LETTERS, c)) {
			if (add_flag(o, sign, c) < 0)
				return usage_err(err, n, "agentsh: too many shell options");
		} else {
			return usage_err(err, n, "agentsh: %c%c: invalid option (see agentsh --help)",
				    sign, c);
		}
	}
	return 0;
}

int shell_parse_args(int argc, char **argv, struct shell_opts *o,
		     bool (*is_subcommand)(const char *name), char *err, size_t errlen)
{
	bool want_c = false;
	int i, r;

	memset(o, 0, sizeof(*o));
	o->argv0 = argc > 0 && argv[0] ? argv[0] : "agentsh";
	if (o->argv0[0] == '-')
		o->login = true;
	err[0] = 0;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (!strcmp(a, "-") || !strcmp(a, "+"))  /* sh: end of options */
		{
			i++;
			break;
		}
		if (a[0] == '-' && a[1] == '-')
			r = parse_long(argc, argv, &i, o, err, errlen);
		else if (a[0] == '-' || a[0] == '+')
			r = parse_short(argc, argv, &i, o, &want_c, err, errlen);
		else
			break;
		if (r)
			return r;
	}
	if (o->mode == SHELL_MODE_HELP || o->mode == SHELL_MODE_VERSION)
		return 0;

	o->args = argv + i;
	o->nargs = argc - i;
	if (want_c) {
		if (o->nargs < 1)
			return usage_err(err, errlen, "agentsh: -c: option requires an argument");
		o->command = o->args[0];
		o->args++;
		o->nargs--;
		o->mode = SHELL_MODE_COMMAND;
	} else if (o->read_stdin) {
		o->mode = SHELL_MODE_STDIN;
	} else if (o->nargs > 0) {
		if (!strchr(o->args[0], '/') && is_subcommand && is_subcommand(o->args[0]))
			o->mode = SHELL_MODE_SUBCOMMAND;
		else
			o->mode = SHELL_MODE_SCRIPT;
	} else {
		o->mode = o->interactive ? SHELL_MODE_INTERACTIVE : SHELL_MODE_DEFAULT;
	}
	if (o->json && o->mode != SHELL_MODE_COMMAND && o->mode != SHELL_MODE_SUBCOMMAND)
		return usage_err(err, errlen, "agentsh: --json needs -c STRING (one command, one result)");
	return 0;
}
