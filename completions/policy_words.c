/* Words of the `policy` built-in: subcommands, and for `policy check` the
 * operation kinds and the names the policy module accepts for each. */
#include <errno.h>
#include <signal.h>
#include <string.h>

#include "completions/completions_int.h"
#include "policy/policy.h"

static const char *const subcommands[] = {
	"show", "validate", "lint", "check", "test", "generate", NULL,
};
/* The first argument of `policy check` (see policy_cli_usage()). */
static const char *const check_kinds[] = { "file", "exec", "net", "signal", "unix", NULL };
static const char *const net_ops[] = { "connect", NULL };
static const char *const flags[] = { "--json", "--policy", NULL };

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static int add_words(const char *const *w, const char *prefix, struct completions_list *out)
{
	int err = 0;
	for (size_t i = 0; w[i] && !err; i++)
		if (has_prefix(w[i], prefix))
			err = compl_list_add(out, w[i]);
	return err;
}

/* A name from the policy module, unless it has none for this value. */
static int add_name(const char *name, const char *prefix, struct completions_list *out)
{
	if (!name || !name[0] || !strcmp(name, "?") || !has_prefix(name, prefix))
		return 0;
	return compl_list_add(out, name);
}

static int add_file_ops(const char *prefix, struct completions_list *out)
{
	int err = 0;
	for (int op = 0; op < POLICY_FILE_NOPS && !err; op++)
		err = add_name(policy_file_op_name((enum policy_file_op)op), prefix, out);
	return err;
}

static int add_unix_ops(const char *prefix, struct completions_list *out)
{
	int err = 0;
	for (int op = POLICY_UNIX_CONNECT; op <= POLICY_UNIX_SENDTO && !err; op++)
		err = add_name(policy_unix_op_name((enum policy_unix_op)op), prefix, out);
	return err;
}

static int add_signals(const char *prefix, struct completions_list *out)
{
	int err = 0;
	for (int sig = 1; sig < NSIG && !err; sig++)
		err = add_name(policy_signal_name(sig), prefix, out);
	return err;
}

static int add_signal_targets(const char *prefix, struct completions_list *out)
{
	int err = 0;
	for (int t = POLICY_SIG_SELF; t <= POLICY_SIG_SYSTEM && !err; t++)
		err = add_name(policy_signal_target_name((enum policy_signal_target)t), prefix, out);
	return err;
}

/* `policy check KIND ...`: argument number argi (0 = the word after KIND). */
static int check_args(const char *kind, size_t argi, const char *prefix,
		      struct completions_list *out, bool *files)
{
	if (!strcmp(kind, "file"))
		return argi == 0 ? add_file_ops(prefix, out) : (*files = true, 0);
	if (!strcmp(kind, "unix"))
		return argi == 0 ? add_unix_ops(prefix, out) : (*files = true, 0);
	if (!strcmp(kind, "signal")) {
		if (argi == 0)
			return add_signals(prefix, out);
		return argi == 1 ? add_signal_targets(prefix, out) : 0;
	}
	if (!strcmp(kind, "net"))
		return argi == 0 ? add_words(net_ops, prefix, out) : 0;
	if (!strcmp(kind, "exec"))
		*files = true;
	return 0;
}

/* cx->words[0] is "policy".  Sets *files_instead when file names fit better. */
int compl_policy_words(const struct compl_context *cx, const char *prefix,
		       struct completions_list *out, bool *files_instead)
{
	*files_instead = false;
	if (prefix[0] == '-')
		return add_words(flags, prefix, out);
	/* Flags and the --policy argument do not count as positional words. */
	const char *pos[4];
	size_t npos = 0;
	for (size_t i = 1; i < cx->nwords && i < COMPL_MAX_WORDS && npos < 4; i++) {
		if (!strcmp(cx->words[i], "--policy")) {
			if (i + 1 == cx->nwords) {      /* completing its argument */
				*files_instead = true;
				return 0;
			}
			i++;
		} else if (cx->words[i][0] != '-') {
			pos[npos++] = cx->words[i];
		}
	}
	if (npos == 0)
		return add_words(subcommands, prefix, out);
	if (!strcmp(pos[0], "check")) {
		if (npos == 1)
			return add_words(check_kinds, prefix, out);
		return check_args(pos[1], npos - 2, prefix, out, files_instead);
	}
	if (strcmp(pos[0], "generate"))
		*files_instead = true;  /* show NAME|FILE, validate/lint/test FILE... */
	return 0;
}
