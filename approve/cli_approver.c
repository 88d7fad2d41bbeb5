/* `agentsh approver add|list|remove`: enrollment, root only.  The real uid is
 * checked (agentsh may be installed setuid root). */
#include "approve/approve_int.h"

#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <liboath/oath.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void usage(FILE *f)
{
	fputs("usage: agentsh approver add NAME --totp [--secret BASE32] [--force]\n"
	      "       agentsh approver add NAME --webauthn [--device PATH|unix:SOCKET]\n"
	      "       agentsh approver list [--json]\n"
	      "       agentsh approver remove NAME\n"
	      "options: --dir DIR  approver store (default " APPROVE_DEFAULT_DIR ")\n", f);
}

struct opts {
	const char *dir, *secret, *device;
	bool totp, webauthn, json, force;
};

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "dir", required_argument, 0, 'D' }, { "secret", required_argument, 0, 's' },
		{ "device", required_argument, 0, 'd' }, { "totp", no_argument, 0, 't' },
		{ "webauthn", no_argument, 0, 'w' }, { "json", no_argument, 0, 'j' },
		{ "force", no_argument, 0, 'f' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	int c;

	memset(o, 0, sizeof(*o));
	o->dir = APPROVE_DEFAULT_DIR;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (c) {
		case 'D': o->dir = optarg; break;
		case 's': o->secret = optarg; break;
		case 'd': o->device = optarg; break;
		case 't': o->totp = true; break;
		case 'w': o->webauthn = true; break;
		case 'j': o->json = true; break;
		case 'f': o->force = true; break;
		case 'h': usage(stdout); return 1;
		default: usage(stderr); return -1;
		}
	}
	return 0;
}

static void uri_escape(char *out, size_t n, const char *s)
{
	size_t j = 0;

	for (; *s && j + 4 < n; s++)
		j += (size_t)snprintf(out + j, n - j, (((*s | 32) >= 'a' && (*s | 32) <= 'z') ||
			(*s >= '0' && *s <= '9') || *s == '-' || *s == '.' || *s == '_') ? "%c" : "%%%02X",
			(unsigned char)*s);
	out[j] = 0;
}

static int add_totp(const struct opts *o, const char *name)
{
	char *b32 = NULL, *raw = NULL, file[AP_NAME_MAX + 8], err[512], uri[512], esc[3 * AP_NAME_MAX];
	size_t rawlen = 0;
	int rc;

	snprintf(file, sizeof(file), "%s.totp", name);
	if (!o->force && ap_store_read_file(o->dir, file, &b32, NULL) == 0) {
		free(b32);
		fprintf(stderr, "agentsh approver: '%s' already has a TOTP secret in %s; use --force to "
			"replace it (its old codes stop working)\n", name, o->dir);
		return 1;
	}
	if (o->secret) {
		if (oath_base32_decode(o->secret, strlen(o->secret), &raw, &rawlen) != OATH_OK || rawlen < 10) {
			fprintf(stderr, "agentsh approver: --secret is not a base32 secret of at least 80 bits\n");
			free(raw);
			return 2;
		}
		free(raw);
		b32 = strdup(o->secret);
	} else if (ap_totp_generate_secret(&b32) < 0) {
		fprintf(stderr, "agentsh approver: cannot generate a random secret\n");
		return 1;
	}
	if ((rc = ap_store_write_file(o->dir, file, b32, strlen(b32), err, sizeof(err))) < 0) {
		fprintf(stderr, "agentsh approver: %s\n", err);
		free(b32);
		return 1;
	}
	uri_escape(esc, sizeof(esc), name);
	snprintf(uri, sizeof(uri), "otpauth://totp/agentsh:%s?secret=%s&issuer=agentsh&algorithm=SHA1"
		 "&digits=6&period=30", esc, b32);
	printf("enrolled approver '%s' (TOTP) in %s\n%s\n", name, o->dir, uri);
	if (ap_qr_print(stdout, uri, err, sizeof(err)) == -ENOSYS)
		fprintf(stderr, "agentsh approver: no QR code: %s (the URI above works alike)\n", err);
	printf("scan it with an authenticator app, or check with: oathtool --totp -b %s\n", b32);
	explicit_bzero(b32, strlen(b32));
	free(b32);
	return 0;
}

static int cmd_add(const struct opts *o, const char *name)
{
	char err[512];

	if (!name || !ap_name_ok(name)) {
		fprintf(stderr, "agentsh approver add: give a NAME of letters, digits, . _ - (at most %d)\n",
			AP_NAME_MAX - 1);
		return 2;
	}
	if (o->totp == o->webauthn) {
		fprintf(stderr, "agentsh approver add: choose exactly one of --totp or --webauthn\n");
		return 2;
	}
	if (ap_store_ensure(o->dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentsh approver: %s\n", err);
		return 1;
	}
	if (o->totp)
		return add_totp(o, name);
	if (ap_webauthn_enroll(o->dir, name, o->device, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentsh approver add: %s\n", err);
		return 1;
	}
	printf("enrolled approver '%s' (security key) in %s/u2f_keys\n", name, o->dir);
	return 0;
}

static int cmd_list(const struct opts *o)
{
	char **names;
	size_t n, nu = 0;
	struct ap_u2f *u = NULL;
	json_t *arr = json_array();
	char err[512];

	if (ap_store_check(o->dir, err, sizeof(err)) < 0) {
		if (!o->json) {
			fprintf(stderr, "agentsh approver list: %s\n", err);
			json_decref(arr);
			return 1;
		}
	}
	if (ap_store_names(o->dir, &names, &n) < 0)
		n = 0, names = NULL;
	ap_u2f_load(o->dir, &u, &nu);
	for (size_t i = 0; i < n; i++) {
		char file[AP_NAME_MAX + 8], *s = NULL;
		int keys = 0;
		snprintf(file, sizeof(file), "%s.totp", names[i]);
		bool totp = ap_store_read_file(o->dir, file, &s, NULL) == 0;
		free(s);
		for (size_t k = 0; k < nu; k++)
			keys += strcmp(u[k].name, names[i]) == 0;
		if (o->json)
			json_array_append_new(arr, json_pack("{s:s, s:b, s:i}", "name", names[i], "totp", totp,
							     "webauthn_keys", keys));
		else
			printf("%-24s %s%s%s\n", names[i], totp ? "totp" : "", totp && keys ? "," : "",
			       keys ? "webauthn" : "");
	}
	if (o->json) {
		char *s = json_dumps(arr, JSON_COMPACT);
		puts(s ? s : "[]");
		free(s);
	} else if (!n) {
		printf("no approver enrolled; add one with: agentsh approver add NAME --totp\n");
	}
	json_decref(arr);
	ap_u2f_free(u, nu);
	ap_strv_free(names, n);
	return 0;
}

static int cmd_remove(const struct opts *o, const char *name)
{
	char path[4200], err[512];
	int removed = 0;

	if (!name || !ap_name_ok(name)) {
		fprintf(stderr, "agentsh approver remove: give the NAME of an enrolled approver\n");
		return 2;
	}
	if (ap_store_check(o->dir, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentsh approver remove: %s\n", err);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/%s.totp", o->dir, name);
	if (unlink(path) == 0)
		removed++;
	if (ap_u2f_remove(o->dir, name, &removed, err, sizeof(err)) < 0) {
		fprintf(stderr, "agentsh approver remove: %s\n", err);
		return 1;
	}
	if (!removed) {
		fprintf(stderr, "agentsh approver remove: no approver named '%s' in %s\n", name, o->dir);
		return 1;
	}
	printf("removed approver '%s'\n", name);
	return 0;
}

int approve_approver_cli(int argc, char **argv)
{
	struct opts o;
	const char *sub = argc > 1 ? argv[1] : NULL;
	int rc;

	if (!sub || strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		usage(sub ? stdout : stderr);
		return sub ? 0 : 2;
	}
	if ((rc = parse(argc - 1, argv + 1, &o)) != 0)
		return rc < 0 ? 2 : 0;
	if (getuid() != 0) {
		fprintf(stderr, "agentsh approver: enrollment is for root only (approver secrets live in "
			"root-owned %s); run it with sudo\n", o.dir);
		return 1;
	}
	if (strcmp(sub, "add") == 0)
		return cmd_add(&o, optind < argc - 1 ? argv[optind + 1] : NULL);
	if (strcmp(sub, "list") == 0)
		return cmd_list(&o);
	if (strcmp(sub, "remove") == 0 || strcmp(sub, "rm") == 0)
		return cmd_remove(&o, optind < argc - 1 ? argv[optind + 1] : NULL);
	usage(stderr);
	return 2;
}
